"""The allowlist: every field an event may carry, with its type. Anything else is rejected.

Values that come from users (provider, model) are mapped onto the catalogue before they get here,
and crash data is reduced to `module:function:line` frames inside `qwen_cli`. Rejection messages
name the field, never the value, because a rejected value may be exactly what must not leak.
"""

from __future__ import annotations

import functools
import re
import sys
from collections.abc import Callable, Mapping
from typing import Any

EVENT_NAMES = ("command", "crash")
OS_FAMILIES = ("linux", "darwin", "windows", "other")
MAX_FRAMES = 20
MAX_TOKENS = 10**9

_NAME = re.compile(r"^[a-z][a-z0-9-]{0,23}$")
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
_HEX32 = re.compile(r"^[0-9a-f]{32}$")
_VERSION = re.compile(r"^[0-9]+\.[0-9]+\.[0-9]+(?:[.+-]?[a-z0-9]{1,12}){0,3}$")
_PYVERSION = re.compile(r"^[0-9]+\.[0-9]+\.[0-9]+$")
_MODEL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/-]{0,95}$")
_FRAME = re.compile(r"^qwen_cli(?:\.[A-Za-z_][A-Za-z0-9_]*)*:(?:[A-Za-z_][A-Za-z0-9_]*|<[a-z]+>):[0-9]{1,6}$")


class EventRejected(ValueError):
    """An event failed the allowlist. The message names the field only."""


def _int_range(low: int, high: int) -> Callable[[Any], bool]:
    return lambda v: isinstance(v, int) and not isinstance(v, bool) and low <= v <= high


def _choice(choices) -> Callable[[Any], bool]:
    return lambda v: isinstance(v, str) and v in choices


def _pattern(rx: re.Pattern) -> Callable[[Any], bool]:
    return lambda v: isinstance(v, str) and rx.match(v) is not None


def _model(v: Any) -> bool:
    return v == "other" or (isinstance(v, str) and _MODEL.match(v) is not None and v in known_models())


def _provider(v: Any) -> bool:
    return isinstance(v, str) and v in known_providers()


def _frames(v: Any) -> bool:
    return isinstance(v, list) and len(v) <= MAX_FRAMES and all(isinstance(f, str) and _FRAME.match(f) for f in v)


# name -> (validator, required)
FIELDS: dict[str, tuple[Callable[[Any], bool], bool]] = {
    "event": (_choice(EVENT_NAMES), True),
    "ts": (_int_range(0, 2**40), True),
    "command": (_pattern(_NAME), True),
    "subcommand": (_pattern(_NAME), False),
    "auth_method": (lambda v: _registered_method(v), False),
    "provider": (_provider, False),
    "model": (_model, False),
    "duration_ms": (_int_range(0, 10**9), True),
    "exit_code": (_int_range(0, 255), True),
    "error_class": (_pattern(_IDENT), False),
    "crash_frames": (_frames, False),
    "input_tokens": (_int_range(0, MAX_TOKENS), False),
    "output_tokens": (_int_range(0, MAX_TOKENS), False),
    "total_tokens": (_int_range(0, MAX_TOKENS), False),
    "cli_version": (_pattern(_VERSION), True),
    "python_version": (_pattern(_PYVERSION), True),
    "os_family": (_choice(OS_FAMILIES), True),
    "installation_id": (_pattern(_HEX32), True),
    "session_id": (_pattern(_HEX32), True),
}


def validate(event: Mapping[str, Any]) -> dict[str, Any]:
    """Return a clean copy of `event` in field order, or raise EventRejected."""
    if not isinstance(event, Mapping):
        raise EventRejected("an event must be a mapping")
    unknown = [k for k in event if k not in FIELDS]
    if unknown:
        raise EventRejected(f"field not in the allowlist: {sorted(map(str, unknown))[0]!r}")
    clean: dict[str, Any] = {}
    for name, (check, required) in FIELDS.items():
        if name not in event or event[name] is None:
            if required:
                raise EventRejected(f"missing required field {name!r}")
            continue
        if not check(event[name]):
            raise EventRejected(f"field {name!r} has a value outside its type")
        clean[name] = list(event[name]) if isinstance(event[name], list) else event[name]
    return clean


# -- mapping user-supplied values onto the catalogue -------------------------------------------------


@functools.cache
def known_providers() -> frozenset[str]:
    from qwen_cli import catalogue
    from qwen_cli.auth import methods

    return frozenset(catalogue.providers()) | {m.own_provider for m in methods.all() if m.own_provider}


@functools.cache
def known_models() -> frozenset[str]:
    """Model ids named in the catalogue. Any other model id is reported as "other": a model id is free
    text typed by the user and could hold a path, a host name or a pasted key."""
    from qwen_cli import catalogue

    models = set(catalogue.coding_plan().get("models", []))
    oauth_model = catalogue.qwen_oauth().get("model")
    if oauth_model:
        models.add(oauth_model)
    for prov in catalogue.providers().values():
        models.update(prov.models)
        if prov.default_model:
            models.add(prov.default_model)
    return frozenset(models)


def _registered_method(value: Any) -> bool:
    from qwen_cli.auth import methods

    return isinstance(value, str) and value in methods.ids()


def provider_id(value: Any, method: str | None = None) -> str | None:
    """The provider as reported: a method's own provider (Qwen OAuth's, the Coding Plan's), else a catalogue
    id, else "custom" (a provider id is free text)."""
    from qwen_cli.auth import methods

    own = methods.METHODS[method].own_provider if method is not None and method in methods.METHODS else None
    if own:
        return own
    if value is None:
        return None
    return value if isinstance(value, str) and value in known_providers() else "custom"


def model_id(value: Any) -> str | None:
    if value is None or value == "":
        return None
    return value if isinstance(value, str) and value in known_models() else "other"


def os_family(platform: str | None = None) -> str:
    platform = sys.platform if platform is None else platform
    if platform.startswith("linux"):
        return "linux"
    if platform == "darwin":
        return "darwin"
    if platform in ("win32", "cygwin"):
        return "windows"
    return "other"


def python_version() -> str:
    return "{}.{}.{}".format(*sys.version_info[:3])


def crash_frames(error: BaseException | None) -> list[str]:
    """Frames of `error`'s traceback that are inside the qwen_cli package, as module:function:line.

    No messages, no locals, no file paths: module names are dotted package names.
    """
    frames: list[str] = []
    tb = error.__traceback__ if error is not None else None
    while tb is not None:
        code = tb.tb_frame.f_code
        module = tb.tb_frame.f_globals.get("__name__", "")
        entry = f"{module}:{code.co_name}:{tb.tb_lineno}"
        if isinstance(module, str) and (module == "qwen_cli" or module.startswith("qwen_cli.")) and _FRAME.match(entry):
            frames.append(entry)
        tb = tb.tb_next
    return frames[-MAX_FRAMES:]


def error_class(error: BaseException | None) -> str | None:
    if error is None:
        return None
    name = type(error).__name__
    return name if _IDENT.match(name) else "Exception"


def token_counts(usage: Any) -> dict[str, int]:
    """Token counts from a Usage-like object or mapping (prompt/completion or input/output names)."""
    if usage is None:
        return {}

    def pick(*names: str) -> int | None:
        for name in names:
            value = usage.get(name) if isinstance(usage, Mapping) else getattr(usage, name, None)
            if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_TOKENS:
                return value
        return None

    counts = {
        "input_tokens": pick("prompt_tokens", "input_tokens"),
        "output_tokens": pick("completion_tokens", "output_tokens"),
        "total_tokens": pick("total_tokens"),
    }
    return {k: v for k, v in counts.items() if v is not None}
