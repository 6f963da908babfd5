"""Small helpers shared by the command modules."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:
    from qwen_cli.auth.credentials import Credentials
    from qwen_cli.context import AppContext

F = TypeVar("F", bound=Callable[..., Any])


def pass_app(f: Callable[..., Any]) -> Callable[..., Any]:
    """Pass the AppContext (the root group's ctx.obj) as the first argument."""

    @functools.wraps(f)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return f(click.get_current_context().find_root().obj, *args, **kwargs)

    return wrapper


def output_format_option(f: F) -> F:
    """`-o/--output-format text|json|stream-json`, recorded on the AppContext so errors use it too."""

    def callback(ctx: click.Context, _param: click.Parameter, value: str) -> str:
        ctx.find_root().obj.output_format = value
        return value

    return click.option(
        "-o",
        "--output-format",
        type=click.Choice(["text", "json", "stream-json"]),
        default="text",
        show_default=True,
        is_eager=True,
        callback=callback,
        help="text, one json object, or stream-json (NDJSON events).",
    )(f)


def credentials_for(
    app: AppContext, method: str | None = None, provider: str | None = None, model: str | None = None
) -> Credentials:
    """Resolve the credentials for this invocation and register every secret for redaction.

    With nothing configured: on a terminal the login chooser runs and the command then continues;
    off a terminal this exits 3 with one line naming the three ways to authenticate.
    """
    from qwen_cli.auth.resolve import NotConfigured, resolve
    from qwen_cli.errors import AuthError

    try:
        creds = resolve(app.settings, method=method, provider=provider, model=model)
    except NotConfigured as exc:
        if not app.interactive:
            raise AuthError(exc.message, hint=exc.hint) from None
        from qwen_cli.cli.auth_flow import login_interactive

        login_interactive(app)
        creds = resolve(app.reload_settings(), method=method, provider=provider, model=model)
    if app.settings.get("privacy.require_no_training") != "false":  # off: `ask` imports nothing more
        from qwen_cli import privacy_guard

        privacy_guard.check(app.settings, creds)  # before any request to them leaves
    _register(app, creds)
    app.credentials = creds
    return creds


def _register(app: AppContext, creds: Credentials) -> None:
    """Add the token to app.secrets, and make a later forced refresh register its new token too."""
    if creds.token and creds.token not in app.secrets:
        app.secrets.append(creds.token)
    inner = creds.refresh
    if inner is None or getattr(inner, "_registers", False):
        return

    def refresh() -> Credentials | None:
        fresh = inner()
        if fresh is not None:
            _register(app, fresh)
            app.credentials = fresh
        return fresh

    refresh._registers = True  # type: ignore[attr-defined]
    creds.refresh = refresh


def profile_option(f: F) -> F:
    """`--profile NAME`: use that profile's stored logins for this invocation (above QWEN_PROFILE)."""

    def callback(ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
        if value is not None:
            use_profile(ctx.find_root().obj, value)
        return value

    return click.option(
        "--profile",
        metavar="NAME",
        expose_value=False,
        callback=callback,
        help="Use this profile's logins (see `qwen auth login --profile`); 'default' for the unnamed one.",
    )(f)


def use_profile(app: AppContext, name: str) -> None:
    """Make `name` the profile of this invocation, as the flag source (a bad name is a usage error)."""
    from qwen_cli.auth import profiles

    profiles.check(name)
    app.flags[profiles.SETTING] = name
    if app._settings is not None:  # already loaded: the same settings with the flag, warnings not repeated
        app._settings = profiles.using(app._settings, name)
