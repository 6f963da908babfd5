"""The registry of authentication methods: one module per method, each an `AuthMethod` (see base.py).

    all()                 the methods, in the order the chooser lists them
    get(id)               one method; an unknown id is the one usage error every caller shows
    ids()                 their ids (choices, completers, the telemetry allowlist)
    register(method)      add one (a test's throwaway fourth method); returns a function that removes it
    statistics_may_apply(id)  whether telemetry may ever apply to a method (policy rule 2)

To add a method: a module here with a `METHOD` object, one line in `_BUILT_IN`, its data in data/*.toml
(terms, and catalogue entries if it has any), and its tests.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping

from qwen_cli.auth.methods.base import AuthMethod, Choice, LoginRequest, LoginResult, StatusEntry

__all__ = [
    "METHODS",
    "AuthMethod",
    "Choice",
    "LoginRequest",
    "LoginResult",
    "StatusEntry",
    "all",
    "check_method",
    "dashscope_headers",
    "get",
    "ids",
    "login_command",
    "login_id",
    "nothing_configured",
    "provider_method",
    "register",
    "statistics_may_apply",
]

_BUILT_IN = ("qwen_oauth", "coding_plan", "api_key")
_registry: dict[str, AuthMethod] = {}


def _load() -> dict[str, AuthMethod]:
    if not _registry:
        import importlib

        for name in _BUILT_IN:
            method: AuthMethod = importlib.import_module(f"qwen_cli.auth.methods.{name}").METHOD
            _registry[method.id] = method
    return _registry


def all() -> list[AuthMethod]:  # noqa: A001 - the registry's natural name; `builtins.all` is not needed here
    return list(_load().values())


def ids() -> tuple[str, ...]:
    return tuple(_load())


def get(method_id: str) -> AuthMethod:
    found = _load().get(method_id)
    if found is None:
        from qwen_cli.errors import UsageError

        raise UsageError(f"unknown auth method {method_id!r}", hint="Use one of: " + ", ".join(ids()) + ".")
    return found


def check_method(method_id: str) -> str:
    """`method_id` if it is a registered method; else the usage error."""
    return get(method_id).id


def register(method: AuthMethod) -> Callable[[], None]:
    """Add a method (after the built-in ones). Returns the function that removes it again."""
    registry = _load()
    if method.id in registry:
        raise ValueError(f"auth method {method.id!r} is already registered")
    registry[method.id] = method

    def unregister() -> None:
        registry.pop(method.id, None)

    return unregister


def provider_method() -> AuthMethod:
    """The method a provider alone selects (`--provider`, `auth.provider` without `auth.method`)."""
    return next(m for m in all() if m.takes_provider)


def login_id(method_id: str, provider: str | None, profile: str | None = None) -> str:
    """The name of one login: the method's id, with the provider for per-provider methods, and `@profile`
    for a named profile's."""
    from qwen_cli.auth.profiles import suffix

    method = _load().get(method_id)
    name = f"{method_id}:{provider}" if method is not None and method.takes_provider else method_id
    return name + suffix(profile)


def statistics_may_apply(method_id: str | None) -> bool:
    """False for a method whose promise is that nothing is collected, and for no (or an unknown) method."""
    method = _load().get(method_id or "")
    return bool(method and method.statistics_may_apply)


def login_command(method_id: str, provider: str | None = None) -> str:
    """The exact command that creates credentials for a method."""
    return get(method_id).login_command(provider)


def dashscope_headers(method_id: str) -> dict[str, str]:
    """Headers a method's endpoints expect (Alibaba's for Qwen OAuth and Coding Plan; none for others)."""
    return get(method_id).headers()


def nothing_configured() -> tuple[str, str]:
    """(message, hint) when no method has credentials: the first-run chooser's cue."""
    ways = [m.way for m in all()]
    listed = ", ".join(ways[:-1]) + ", or " + ways[-1] if len(ways) > 2 else " or ".join(ways)
    return (
        f"no credentials configured: log in with {listed}",
        f"Run `qwen auth login` (on a terminal it lets you choose; off one add --method {'|'.join(ids())}), "
        "or set OPENAI_API_KEY, OPENAI_BASE_URL and OPENAI_MODEL.",
    )


class _Titles(Mapping[str, AuthMethod]):
    """`METHODS[id]`: the registry as a read-only mapping (what code and tests used before the registry)."""

    def __getitem__(self, key: str) -> AuthMethod:
        return _load()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(_load())

    def __len__(self) -> int:
        return len(_load())


METHODS: Mapping[str, AuthMethod] = _Titles()
