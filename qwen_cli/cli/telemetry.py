"""`qwen telemetry on|off|status|show|flush`: optional usage statistics, under your control."""

from __future__ import annotations

import rich_click as click

from qwen_cli.cli.common import pass_app
from qwen_cli.output.json import write_json


@click.group()
def telemetry() -> None:
    """Optional, anonymous usage statistics: see, control and export them.

    Collected only for Qwen OAuth and the Coding Plan, never for your own API key, never with
    DO_NOT_TRACK=1. Never prompts, answers, code, keys, URLs, host names, paths or user names.
    Nothing leaves this machine unless `telemetry.endpoint` is set.

    \b
    Examples:
      qwen telemetry status
      qwen telemetry show --json
      qwen telemetry off
    """


def _state(app):
    from qwen_cli.telemetry import policy, spool

    settings = app.settings
    method, source = policy.invocation_method(app, settings)
    decision = policy.decide(settings, method, source)
    return settings, decision, spool


def _status_payload(settings, decision, spool) -> dict:
    data = decision.as_dict()
    data["exports"] = decision.endpoint is not None
    data["queued"] = spool.count(settings.home)
    data["spool"] = str(spool.queue_file(settings.home))
    data["notice_shown"] = spool.notice_shown(settings.home)
    return data


@telemetry.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_app
def status(app, as_json: bool) -> None:
    """Whether statistics are collected now, which rule decided, and where they would go.

    \b
    Examples:
      qwen telemetry status
      qwen telemetry status --json | jq .enabled
    """
    settings, decision, spool = _state(app)
    data = _status_payload(settings, decision, spool)
    if as_json:
        write_json(app.stdout, data)
        return
    out = app.stdout
    out.write(f"Usage statistics: {'on' if decision.enabled else 'off'}\n")
    out.write(f"Decided by:       rule {decision.rule}: {decision.detail}\n")
    method = decision.method or "(none configured)"
    out.write(f"Auth method:      {method}" + (f" ({decision.method_source})" if decision.method_source else "") + "\n")
    setting = "true" if decision.setting else "false"
    out.write(f"Setting:          privacy.usage_statistics = {setting} ({decision.setting_source})\n")
    if decision.endpoint:
        out.write(f"Endpoint:         {decision.endpoint} (OTLP/HTTP JSON logs, at most once a minute)\n")
    else:
        out.write("Endpoint:         none: nothing leaves this machine\n")
    if decision.endpoint_note:
        out.write(f"                  {decision.endpoint_note}\n")
    out.write(f"Queued:           {data['queued']} event(s) in {data['spool']}\n")


@telemetry.command()
@pass_app
def on(app) -> None:
    """Allow usage statistics (they still stay off for an API key or with DO_NOT_TRACK).

    \b
    Examples:
      qwen telemetry on
    """
    from qwen_cli.settings import write_value
    from qwen_cli.telemetry import spool
    from qwen_cli.terms import statistics_notice

    write_value(app.settings.user_file, "privacy.usage_statistics", True)
    settings = app.reload_settings()
    app.stderr.write(f"Set privacy.usage_statistics = true in {settings.user_file}\n")
    app.stderr.write(statistics_notice(first_time=False) + "\n")
    spool.mark_notice_shown(settings.home)
    _, decision, _ = _state(app)
    if decision.enabled:
        app.stdout.write("Usage statistics: on\n")
    else:
        app.stdout.write(f"Usage statistics: still off, because {decision.detail}\n")


@telemetry.command()
@pass_app
def off(app) -> None:
    """Stop collecting and delete everything queued. Nothing more is sent, not one byte.

    \b
    Examples:
      qwen telemetry off
    """
    from qwen_cli.settings import write_value
    from qwen_cli.telemetry import spool

    settings = app.settings
    # The setting first: a sender that starts after this sees it; one already sending holds the
    # send lock, which clear() waits for.
    write_value(settings.user_file, "privacy.usage_statistics", False)
    dropped = spool.clear(settings.home)
    app.stderr.write(f"Set privacy.usage_statistics = false in {settings.user_file}\n")
    app.stdout.write(f"Usage statistics: off. Deleted {dropped} queued event(s); nothing more will be sent.\n")


@telemetry.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON: the queued events and where they would go.")
@click.option("--otlp", is_flag=True, help="Print the exact OTLP/HTTP JSON body a flush would send.")
@pass_app
def show(app, as_json: bool, otlp: bool) -> None:
    """Print exactly what is queued: what would be sent, one JSON event per line.

    \b
    Examples:
      qwen telemetry show
      qwen telemetry show --json | jq '.events | length'
      qwen telemetry show --otlp
    """
    from qwen_cli.telemetry import exporter, policy, spool

    settings = app.settings
    queued = spool.read(settings.home)
    url, _ = policy.endpoint(settings)
    if otlp:
        write_json(app.stdout, exporter.otlp_payload(queued))
        return
    if as_json:
        write_json(
            app.stdout,
            {"count": len(queued), "spool": str(spool.queue_file(settings.home)), "endpoint": url, "events": queued},
        )
        return
    import json

    for event in queued:
        app.stdout.write(json.dumps(event, separators=(",", ":")) + "\n")
    where = f"would be sent to {url}" if url else "stay on this machine (no telemetry.endpoint)"
    app.stderr.write(f"{len(queued)} event(s) queued in {spool.queue_file(settings.home)}; they {where}.\n")


@telemetry.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON with the counts.")
@pass_app
def flush(app, as_json: bool) -> None:
    """Send the queued events to telemetry.endpoint now, and report how many went.

    \b
    Examples:
      qwen telemetry flush
    """
    from qwen_cli.errors import NetworkError
    from qwen_cli.telemetry import exporter

    result = exporter.send(app.settings)
    if as_json:
        write_json(
            app.stdout,
            {
                "sent": result.sent,
                "kept": result.kept,
                "requests": result.requests,
                "skipped": result.skipped,
                "error": result.error,
            },
        )
    if result.error:
        raise NetworkError(
            f"sent {result.sent} event(s); {result.kept} kept for later: {result.error}",
            hint="Check telemetry.endpoint with `qwen telemetry status`; the events stay queued (bounded).",
        )
    if as_json:
        return
    if result.skipped:
        app.stdout.write(f"Sent 0 events: {result.skipped}.")
        app.stdout.write(f" {result.kept} stay queued.\n" if result.kept else "\n")
    else:
        app.stdout.write(f"Sent {result.sent} event(s).\n")
