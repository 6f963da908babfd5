"""Adapters from the chat session to the terms and telemetry commands: the banner's terms line, /terms and
/telemetry. The slash commands reuse the `qwen terms show` and `qwen telemetry on|off|status` commands,
with their output sent to stderr so stdout keeps only answers."""

from __future__ import annotations

import contextlib


def summary_line(app, credentials) -> str:
    from qwen_cli import terms

    try:
        return terms.summary_line(credentials.method, provider=credentials.provider, region=_region(app, credentials))
    except Exception:  # noqa: BLE001 - the banner must never stop a session from starting
        return ""


def full_terms(app, credentials) -> str:
    import click

    from qwen_cli.cli import terms as terms_cli

    provider = credentials.provider if credentials.method == "api-key" else None
    with _stdout_to_stderr(app):
        click.get_current_context().invoke(
            terms_cli.show, method=credentials.method, provider=provider, region=_region(app, credentials)
        )
    return ""


def telemetry(app, argument: str) -> str:
    import click

    from qwen_cli.cli import telemetry as telemetry_cli

    command = {"on": telemetry_cli.on, "off": telemetry_cli.off}.get(argument, telemetry_cli.status)
    with _stdout_to_stderr(app):
        click.get_current_context().invoke(command)
    return ""


@contextlib.contextmanager
def _stdout_to_stderr(app):
    saved = app.stdout
    app.stdout = app.stderr
    try:
        yield
    finally:
        app.stdout = saved


def _region(app, credentials):
    if credentials.method != "coding-plan":
        return None
    return app.settings.get("auth.region")
