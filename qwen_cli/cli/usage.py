"""`qwen usage`: what this machine sent, from the local ledger ($QWEN_HOME/usage.jsonl). Nothing is sent."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from qwen_cli.cli.common import pass_app

if TYPE_CHECKING:
    from qwen_cli.context import AppContext


@click.command(name="usage")
@click.option("--since", metavar="SPAN", default="30d", show_default=True, help="How far back: 12h, 7d, 2w, 90m.")
@click.option(
    "--by", type=click.Choice(["model", "provider", "day"]), default="model", show_default=True, help="Group by."
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON: {since, by, groups, total, coding_plan, ...}.")
@click.option("--clear", is_flag=True, help="Delete the ledger (usage.jsonl and its rotated copy).")
@pass_app
def usage(app: AppContext, since: str, by: str, as_json: bool, clear: bool) -> None:
    """Requests and tokens this machine sent, from the local ledger; for the Coding Plan, its windows.

    Each request qwen sends appends one line to $QWEN_HOME/usage.jsonl (0600): time, method, provider,
    region, model, token counts, outcome and duration. Never prompts, answers, URLs, hosts, paths or keys,
    and the file never leaves this machine: it is not telemetry. `usage.ledger = false` turns it off.
    The figures count what this machine sent, not the provider's own meter.

    \b
    Examples:
      qwen usage                      # the last 30 days, by model
      qwen usage --since 7d --by day
      qwen usage --by provider --json | jq '.total.requests'
      qwen config set coding_plan.tier pro    # compare with the Pro plan's caps
      qwen usage --clear
    """
    from qwen_cli.usage import ledger, report

    settings = app.settings
    if clear:
        dropped = ledger.clear(settings.home)
        app.out.info(f"Deleted the usage ledger ({dropped} record{'s' if dropped != 1 else ''}).")
        return
    span = report.since_seconds(since)
    now = ledger.now(app.env)
    records = [r for r in ledger.read(settings.home) if r["time"] >= now - span]
    groups, total = report.group(records, by)
    plan = report.plan_json(settings, now)
    on = ledger.enabled(settings)
    if as_json:
        payload: dict[str, Any] = {
            "since": since,
            "by": by,
            "ledger": str(ledger.path(settings.home)),
            "recording": on,
            "groups": [g.as_dict() for g in groups],
            "total": total.as_dict(),
            "prices": report.prices_used(records),
            "coding_plan": plan,
            "note": report.NOT_THE_METER,
        }
        app.out.json(payload)
        return
    say = app.out.answer
    if not on:
        app.out.notice("the usage ledger is off (usage.ledger = false): nothing new is recorded")
    if not records:
        say(f"No requests recorded in the last {since}.")
    else:
        say(f"Requests in the last {since}, by {by} (from {ledger.path(settings.home)}):")
        width = max(len(g.key) for g in [*groups, total])
        say(f"  {'':<{width}}  {'requests':>8}  {'failed':>6}  {'input tok':>10}  {'output tok':>10}  est. cost")
        for g in [*groups, total]:
            say(
                f"  {g.key:<{width}}  {g.requests:>8,}  {g.failed:>6,}  {g.input_tokens:>10,}  {g.output_tokens:>10,}"
                f"  {report.money(g.cost)}"
            )
        for line in report.prices_used(records):
            say(f"  price: {line}")
        if total.unpriced:
            say("  No cost is shown where the catalogue has no price for the model.")
    for line in report.plan_lines(settings, now):
        say(line)
    if plan is None:
        say(report.NOT_THE_METER)
