"""`qwen telemetry on|off|status|show|flush`: optional usage statistics, under your control."""

from __future__ import annotations

from typing import TYPE_CHECKING

import rich_click as click

from qwen_cli.cli.common import pass_app
from qwen_cli.output.json import write_json

if TYPE_CHECKING:
    from qwen_cli.context import AppContext


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


def status_lines(decision, data) -> list[str]:
    """The lines of `qwen telemetry status` (chat's /telemetry prints the same)."""
    method = decision.method or "(none configured)"
    setting = "true" if decision.setting else "false"
    lines = [
        f"Usage statistics: {'on' if decision.enabled else 'off'}",
        f"Decided by:       rule {decision.rule}: {decision.detail}",
        f"Auth method:      {method}" + (f" ({decision.method_source})" if decision.method_source else ""),
        f"Setting:          privacy.usage_statistics = {setting} ({decision.setting_source})",
    ]
    if decision.file:
        lines.append(f"Decided by file:  {decision.file}")
    if decision.endpoint:
        lines.append(f"Endpoint:         {decision.endpoint} (OTLP/HTTP JSON logs, at most once a minute)")
    else:
        lines.append("Endpoint:         none: nothing leaves this machine")
    if decision.endpoint_note:
        lines.append(f"                  {decision.endpoint_note}")
    lines.append(f"Queued:           {data['queued']} event(s) in {data['spool']}")
    return lines


def switch(app: AppContext, on: bool) -> tuple[list[str], list[str]]:
    """Switch statistics on or off: (progress lines for stderr, result lines) for `on`/`off` and /telemetry."""
    from qwen_cli.telemetry import control
    from qwen_cli.terms import statistics_notice

    done = control.set_enabled(app.settings, on)
    settings = app.reload_settings()
    progress = [f"Set privacy.usage_statistics = {'true' if on else 'false'} in {done.file}"]
    if not on:
        return progress, [f"Usage statistics: off. Deleted {done.dropped} queued event(s); nothing more will be sent."]
    progress.append(statistics_notice(first_time=False))
    decision, _ = control.state(app, settings)
    if decision.enabled:
        return progress, ["Usage statistics: on"]
    return progress, [f"Usage statistics: still off, because {decision.detail}"]


@telemetry.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_app
def status(app: AppContext, as_json: bool) -> None:
    """Whether statistics are collected now, which rule decided, and where they would go.

    \b
    Examples:
      qwen telemetry status
      qwen telemetry status --json | jq .enabled
    """
    from qwen_cli.telemetry import control

    decision, data = control.state(app, app.settings)
    if as_json:
        write_json(app.stdout, data)
        return
    for line in status_lines(decision, data):
        app.out.answer(line)


@telemetry.command()
@pass_app
def on(app: AppContext) -> None:
    """Allow usage statistics (they still stay off for an API key or with DO_NOT_TRACK).

    \b
    Examples:
      qwen telemetry on
    """
    progress, result = switch(app, True)
    for line in progress:
        app.out.info(line)
    for line in result:
        app.out.answer(line)


@telemetry.command()
@pass_app
def off(app: AppContext) -> None:
    """Stop collecting and delete everything queued. Nothing more is sent, not one byte.

    \b
    Examples:
      qwen telemetry off
    """
    progress, result = switch(app, False)
    for line in progress:
        app.out.info(line)
    for line in result:
        app.out.answer(line)


@telemetry.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON: the queued events and where they would go.")
@click.option("--otlp", is_flag=True, help="Print the exact OTLP/HTTP JSON body a flush would send.")
@pass_app
def show(app: AppContext, as_json: bool, otlp: bool) -> None:
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
    app.out.info(f"{len(queued)} event(s) queued in {spool.queue_file(settings.home)}; they {where}.")


@telemetry.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON with the counts.")
@pass_app
def flush(app: AppContext, as_json: bool) -> None:
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
        app.out.answer(f"Sent 0 events: {result.skipped}." + (f" {result.kept} stay queued." if result.kept else ""))
    else:
        app.out.answer(f"Sent {result.sent} event(s).")
