"""Adapters from the chat session to the terms and telemetry pieces: the banner's terms line, /terms
and /telemetry."""

from __future__ import annotations


def summary_line(app, credentials) -> str:
    try:
        from qwen_cli import terms
    except ImportError:
        return ""
    fn = getattr(terms, "summary_line", None)
    if fn is None:
        return ""
    try:
        return fn(credentials.method, provider=credentials.provider, region=_region(app, credentials))
    except Exception:  # noqa: BLE001 - the banner must never stop a session from starting
        return ""


def full_terms(app, credentials) -> str:
    from qwen_cli import terms

    return terms.full_text(credentials.method, provider=credentials.provider, region=_region(app, credentials))


def telemetry(app, argument: str) -> str:
    from qwen_cli.telemetry import policy

    if argument in ("on", "off"):
        from qwen_cli.settings import write_value

        write_value(app.settings.user_file, policy.SETTING, argument == "on")
        app.reload_settings()
    decision = policy.decide(app.settings, getattr(app.credentials, "method", None))
    state = "on" if decision.enabled else "off"
    return f"Usage statistics: {state} ({decision.detail})."


def _region(app, credentials):
    if credentials.method != "coding-plan":
        return None
    return app.settings.get("auth.region")
