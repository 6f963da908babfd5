"""The chat session's terms and telemetry: the banner's terms line, /terms and /telemetry. They print the
same lines as `qwen terms show` and `qwen telemetry on|off|status`, from the same functions, on stderr
(through app.out) so stdout keeps only answers."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from qwen_cli.auth.credentials import Credentials


def summary_line(app: Any, credentials: Credentials) -> str:
    from qwen_cli import terms

    try:
        return terms.summary_line(credentials.method, provider=credentials.provider, region=_region(app, credentials))
    except Exception:  # noqa: BLE001 - the banner must never stop a session from starting
        return ""


def full_terms(app: Any, credentials: Credentials) -> str:
    from qwen_cli.auth import methods
    from qwen_cli.cli import terms as terms_cli

    method = methods.get(credentials.method)
    provider = credentials.provider if method.takes_provider else None
    shown, active = terms_cli.pages(app, credentials.method, provider, _region(app, credentials))
    for line in terms_cli.text(shown, active, explicit=True):
        app.out.info(line)
    return ""


def telemetry(app: Any, argument: str) -> str:
    from qwen_cli.cli import telemetry as telemetry_cli
    from qwen_cli.telemetry import control

    if argument in ("on", "off"):
        progress, result = telemetry_cli.switch(app, argument == "on")
        lines = progress + result
    else:
        lines = telemetry_cli.status_lines(*control.state(app, app.settings))
    for line in lines:
        app.out.info(line)
    return ""


def _region(app: Any, credentials: Credentials) -> str | None:
    from qwen_cli.auth import methods

    if not methods.get(credentials.method).takes_region:
        return None
    region: str | None = app.settings.get("auth.region")
    return region
