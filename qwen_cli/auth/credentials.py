"""The single value the rest of the program uses to talk to a provider, and where each part came from."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Credentials:
    """What a request needs from a login: where to send it, the secret, the model, and where each came from."""

    method: str  # a registered method's id (see auth/methods/)
    provider: str  # catalogue id ("qwen", "openai", "ollama", "custom", ...)
    base_url: str  # OpenAI-compatible base, e.g. https://portal.qwen.ai/v1 (no trailing slash)
    model: str
    token: str | None = field(default=None, repr=False)  # never printed: repr hides it
    headers: dict[str, str] = field(default_factory=dict)
    source: str = ""  # where the secret came from: "env:OPENAI_API_KEY", ".env:/path", "credentials.toml", ...
    expires_at: float | None = None  # epoch seconds, for OAuth tokens
    # Called by the adapter after a 401/403: returns fresh credentials (forced refresh) or None.
    refresh: Callable[[], Credentials | None] | None = field(default=None, repr=False, compare=False)
    # Where the rest came from, as `auth status`, `config get general.model` and `ask -o json` show it.
    method_source: str = ""  # "flag", "env:QWEN_AUTH_METHOD", "user:/path", "env:OPENAI_API_KEY", ...
    model_source: str = ""  # "flag", "env:OPENAI_MODEL", "user:/path", "credentials.toml", "default", ...
    base_url_source: str = ""  # "env:OPENAI_BASE_URL", "credentials.toml", "catalogue", "region global", ...
    protocol: str = "openai"  # the wire protocol (providers/protocols/): openai, anthropic or gemini
    max_tokens: int | None = None  # the catalogue's default answer limit, for a protocol that requires one
    profile: str | None = None  # the profile of the stored login (auth/profiles.py); None: the default

    def origins(self) -> dict[str, str]:
        return {
            "method": self.method_source,
            "key": self.source,
            "model": self.model_source,
            "base_url": self.base_url_source,
        }

    def resolution(self) -> dict[str, Any]:
        """Who this invocation talks to, and where each part came from: `ask -o json`'s `resolution`, the
        same fields `auth status --json` shows for the active login. No secret."""
        return {
            "method": self.method,
            "provider": self.provider,
            "model": self.model,
            "base_url": self.base_url,
            "origins": self.origins(),
        }
