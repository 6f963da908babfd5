"""The wire protocols the one adapter speaks: each module builds a request and maps the answer to our events.

A protocol module provides:
  chat_url(credentials, request) -> str            where the chat request goes
  protocol_headers(credentials) -> dict     how the key travels, and the API version ({} for no key)
  request_body(credentials, request, usage_option) the JSON body (raises UsageError for an option it lacks)
  Decoder(credentials, host)                       .feed(SSEEvent) -> list[Event] | None (None: the end)
  json_events(data, credentials, model)            a whole (non-streamed) answer as events
  error_status(data) -> int | None                 the HTTP status an error body means (its own vocabulary)
  models_url(credentials) / model_ids(data)        the model listing
"""

from __future__ import annotations

from types import ModuleType

__all__ = ["NAMES", "get", "openai", "anthropic", "gemini"]

NAMES = ("openai", "anthropic", "gemini")
DEFAULT = "openai"


def get(name: str | None) -> ModuleType:
    """The module for a protocol name; an unknown name is a ConfigError (exit 8)."""
    module = _loaded.get(name or DEFAULT)  # asked several times for every request
    if module is not None:
        return module
    import importlib

    name = name or DEFAULT
    if name not in NAMES:
        from qwen_cli.errors import ConfigError

        raise ConfigError(f"unknown protocol {name!r}", hint=f"Use one of: {', '.join(NAMES)}.")
    module = _loaded[name] = importlib.import_module(f"qwen_cli.providers.protocols.{name}")
    return module


_loaded: dict[str, ModuleType] = {}


def count(raw: object, key: str) -> int | None:
    """A token count from a usage object: an int (never a bool), else None."""
    value = raw.get(key) if isinstance(raw, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None
