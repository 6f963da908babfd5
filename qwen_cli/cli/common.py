"""Small helpers shared by the command modules."""

from __future__ import annotations

import functools

import rich_click as click


def pass_app(f):
    """Pass the AppContext (the root group's ctx.obj) as the first argument."""

    @functools.wraps(f)
    def wrapper(*args, **kwargs):
        return f(click.get_current_context().find_root().obj, *args, **kwargs)

    return wrapper


def output_format_option(f):
    """`-o/--output-format text|json|stream-json`, recorded on the AppContext so errors use it too."""

    def callback(ctx, _param, value):
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


def credentials_for(app, method: str | None = None, provider: str | None = None, model: str | None = None):
    """Resolve the credentials for this invocation and register the secret for redaction."""
    from qwen_cli.auth.resolve import resolve

    creds = resolve(app.settings, method=method, provider=provider, model=model)
    if creds.token:
        app.secrets.append(creds.token)
    app.credentials = creds
    return creds
