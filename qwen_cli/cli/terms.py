"""`qwen terms show`: the terms of service and privacy notices that apply to you."""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING

import rich_click as click

from qwen_cli.auth import methods
from qwen_cli.cli import completers
from qwen_cli.cli.common import pass_app
from qwen_cli.output.json import write_json

if TYPE_CHECKING:
    from qwen_cli.context import AppContext

_WIDTH = 96


@click.group()
def terms() -> None:
    """Terms of service and privacy notices that apply to you.

    Which terms apply depends on how you authenticate: Qwen OAuth (Qwen's terms), an Alibaba Cloud
    Coding Plan key (Alibaba Cloud's terms for your region) or your own API key (your provider's terms).

    \b
    Examples:
      qwen terms show
      qwen terms show --method coding-plan
      qwen terms show --provider openrouter --json
      qwen terms compare
    """


def pages(app: AppContext, method=None, provider=None, region=None, show_all=False):
    """(the pages to show, the active method as the resolver sees it): the data behind `qwen terms show`
    and chat's /terms."""
    from qwen_cli import terms as lib
    from qwen_cli.auth import methods

    if show_all:
        return [lib.page(m.id) for m in methods.all()], None
    active = lib.active(app.settings)
    if provider and not method:
        method = methods.provider_method().id
    chosen = method or active["method"]
    if not chosen:
        return [], active
    same = not method or method == active["method"]
    if methods.get(chosen).takes_provider:
        provider = provider or (active["provider"] if same else None)
    if methods.get(chosen).takes_region and region is None and same:
        region = active["region"]
    return [lib.page(chosen, provider, region)], active


@terms.command()
@click.option(
    "--method",
    type=completers.method_choice(),
    help="Show this method instead of the active one.",
)
@click.option(
    "--provider",
    metavar="ID",
    shell_complete=completers.providers,
    help="An api-key provider from the catalogue (implies --method api-key).",
)
@click.option(
    "--region",
    metavar="REGION",
    shell_complete=completers.regions,
    help="Coding Plan region: china or global (default: configured, or both).",
)
@click.option("--all", "show_all", is_flag=True, help="Every method, and every catalogue provider.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--open", "open_browser", is_flag=True, help="Open the terms URL in a browser, when one is usable.")
@pass_app
def show(app: AppContext, method, provider, region, show_all, as_json, open_browser) -> None:
    """The terms that apply to the active method, then the overview of all three methods.

    Each page also answers: are my prompts used for training, and under whose policy; what do usage
    statistics cover; how do I switch methods.

    \b
    Examples:
      qwen terms show
      qwen terms show --method qwen-oauth
      qwen terms show --method coding-plan --region global
      qwen terms show --provider ollama
      qwen terms show --all --json | jq '.pages[].documents'
      qwen terms show --open
    """
    from qwen_cli import catalogue, privacy_guard
    from qwen_cli import terms as lib

    if provider:
        catalogue.provider(provider)  # the check `qwen auth login --provider` makes: did-you-mean, exit 2
    shown, active = pages(app, method, provider, region, show_all)
    providers = lib.provider_table() if show_all else None
    opened = _open(app, shown) if open_browser else None
    guard = privacy_guard.describe(app.settings)
    if as_json:
        payload = {
            "active": active,
            "pages": [{**p.as_dict(), "data_use": [e.as_dict() for e in page_entries(p)]} for p in shown],
            "overview": lib.overview(),
            "summary": [lib.summary_line(p.method, p.provider_id, p.region) for p in shown],
        }
        if guard:
            payload["privacy_guard"] = guard_json(app)
        if providers is not None:
            payload["providers"] = providers
        if open_browser:
            payload["opened"] = opened
        write_json(app.stdout, payload)
        return
    # Provider names and sources come from settings, which a project file may set: out.answer cleans them.
    for line in text(shown, active, providers, explicit=bool(method or provider), guard=guard):
        app.out.answer(line)


def page_entries(page) -> list:
    """The data-use entries a terms page is about: its provider's (every region's unless one is chosen); none for
    the api-key page without a provider."""
    from qwen_cli import data_use

    if methods.get(page.method).takes_provider and not page.provider_id:
        return []
    return [e for e in data_use.for_login(page.method, page.provider_id, page.region) if e.facts]


def guard_json(app: AppContext) -> dict:
    from qwen_cli import privacy_guard

    guard = privacy_guard.mode(app.settings)
    return {
        "mode": guard or "false",
        "source": app.settings.source(privacy_guard.SETTING),
        "line": privacy_guard.describe(app.settings),
    }


def text(shown, active, providers=None, explicit: bool = False, guard: str | None = None) -> list[str]:
    """The lines of `qwen terms show` for pages from `pages()` (chat's /terms prints the same lines)."""
    from qwen_cli import terms as lib

    out: list[str] = []
    if guard:
        out += [guard, ""]
    if active is not None and not shown:
        out.append("No authentication method is configured yet, so no terms apply until you choose one.")
        out += ["Run `qwen auth login`, or see every method with `qwen terms show --all`.", ""]
    for page in shown:
        label = ""
        if active is not None and page.method == active["method"] and not explicit:
            label = f" (your active method, from {active['method_source']})"
        _write_page(out, page, label)
    if providers is not None:
        _write_providers(out, providers)
    _write_overview(out, lib.overview())
    return out


def _para(out, heading: str, text: str) -> None:
    out.append(f"  {heading}")
    for line in textwrap.wrap(" ".join(text.split()), _WIDTH - 4, break_on_hyphens=False, break_long_words=False):
        out.append(f"    {line}")


def _write_page(out, page, label: str) -> None:
    out.append(f"{page.title}{label}: {page.how}.")
    if methods.get(page.method).takes_provider:
        out.append(f"  Provider: {page.provider}")
    _para(out, "Which terms apply", page.applies)
    for doc in page.documents:
        out.append(f"  {doc.who}")
        out.append(f"    Terms of Service: {doc.terms_url or 'see your provider’s terms'}")
        out.append(f"    Privacy Notice:   {doc.privacy_url or 'see your provider’s terms'}")
        out.append(f"    (checked {doc.checked})")
    if page.note and not page.local:
        out.append(f"  {page.note}")
    for entry in page_entries(page):
        _write_facts(out, entry)
    _para(out, "Are my prompts, code and answers used to train models?", page.training + " " + page.ours)
    _para(out, "What do usage statistics cover?", page.statistics)
    _para(out, "How do I switch methods?", page.switch)
    out.append("")


_FACT_NAMES = {
    "trains": "Trains on API inputs by default",
    "opt_out": "How to opt out",
    "retention_days": "Retention of prompts and answers",
    "zero_retention": "Zero-retention option",
    "regions": "Processing region(s)",
}


def _write_facts(out, entry) -> None:
    from qwen_cli import data_use

    out.append(f"  Data use: {entry.label} (terms entry {entry.version})")
    for name, fact in entry.facts.items():
        value = data_use.retention_text(entry) if name == "retention_days" else fact.value
        out.append(f"    {_FACT_NAMES[name]}: {value}")
        out.append(f"      source: {fact.source} (checked {fact.checked})")
    if entry.note:
        for line in textwrap.wrap(entry.note, _WIDTH - 6, break_on_hyphens=False, break_long_words=False):
            out.append(f"    {line}")


def _write_providers(out, rows) -> None:
    out.append("API key providers in the catalogue")
    width = max(len(r["id"]) for r in rows)
    for row in rows:
        if row["local"]:
            what = "local: nothing leaves this machine"
        elif row["terms_url"] or row["privacy_url"]:
            what = row["terms_url"] or row["privacy_url"]
        else:
            what = row["note"] or "see your provider's terms"
        out.append(f"  {row['id'].ljust(width)}  {what}")
    out.append("")


_COUNT = {2: "two", 3: "three", 4: "four", 5: "five"}


def _write_overview(out, rows) -> None:
    out.append(f"Overview of the {_COUNT.get(len(rows), str(len(rows)))} methods")
    headers = ("Authentication method", "Provider", "Terms of Service / Privacy Notice")
    widths = [max(len(headers[i]), *(len(r[key]) for r in rows)) for i, key in enumerate(("title", "provider"))]
    out.append(f"  {headers[0].ljust(widths[0])}  {headers[1].ljust(widths[1])}  {headers[2]}")
    for r in rows:
        out.append(f"  {r['title'].ljust(widths[0])}  {r['provider'].ljust(widths[1])}  Terms: {r['terms']}")
        out.append(f"  {''.ljust(widths[0])}  {''.ljust(widths[1])}  Privacy: {r['privacy']}")
    out.append("")


def _open(app: AppContext, shown) -> dict:
    """Open the first terms URL without waiting for the browser; say so, or print the URL instead."""
    urls = [u for p in shown for u in p.urls]
    if not urls:
        app.out.info("No terms URL to open for this choice: see your provider's terms.")
        return {"url": None, "opened": False}
    url = urls[0]
    if not app.browser.usable():
        app.out.info("No usable browser here; open this URL yourself:")
        app.out.info(url)
        return {"url": url, "opened": False}
    if not app.browser.open(url):
        app.out.info("Could not start a browser; open this URL yourself:")
        app.out.info(url)
        return {"url": url, "opened": False}
    app.out.info(f"Opened {url} in your browser.")
    return {"url": url, "opened": True}


@terms.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_app
def compare(app: AppContext, as_json: bool) -> None:
    """What every catalogue entry does with what you send, as one table.

    For each method, provider and region: whether API inputs are used for training by default, how long
    prompts and answers are kept, where they are processed, and when that was checked. `unknown` means the
    provider's own documents did not say; `qwen terms show --provider ID` gives each fact's source.

    \b
    Examples:
      qwen terms compare
      qwen terms compare --json | jq -r '.entries[].entry'
    """
    from qwen_cli import data_use

    found = data_use.entries()
    if as_json:
        write_json(app.stdout, {"entries": [e.as_dict() for e in found], "privacy_guard": guard_json(app)})
        return
    headers = ("METHOD", "PROVIDER", "TRAINS BY DEFAULT", "RETENTION", "REGION", "CHECKED")
    rows = [
        (
            e.method,
            e.provider_id + (f" ({e.region})" if e.region else ""),
            data_use.trains_text(e),
            data_use.retention_text(e),
            str(e.fact("regions").value),
            e.version,
        )
        for e in found
    ]
    widths = [max(len(r[i]) for r in [headers, *rows]) for i in range(len(headers))]
    for row in [headers, *rows]:
        app.out.answer("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip())
