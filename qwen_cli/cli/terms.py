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
    from qwen_cli import catalogue
    from qwen_cli import terms as lib

    if provider:
        catalogue.provider(provider)  # the check `qwen auth login --provider` makes: did-you-mean, exit 2
    shown, active = pages(app, method, provider, region, show_all)
    providers = lib.provider_table() if show_all else None
    opened = _open(app, shown) if open_browser else None
    if as_json:
        payload = {
            "active": active,
            "pages": [p.as_dict() for p in shown],
            "overview": lib.overview(),
            "summary": [lib.summary_line(p.method, p.provider_id, p.region) for p in shown],
        }
        if providers is not None:
            payload["providers"] = providers
        if open_browser:
            payload["opened"] = opened
        write_json(app.stdout, payload)
        return
    # Provider names and sources come from settings, which a project file may set: out.answer cleans them.
    for line in text(shown, active, providers, explicit=bool(method or provider)):
        app.out.answer(line)


def text(shown, active, providers=None, explicit: bool = False) -> list[str]:
    """The lines of `qwen terms show` for pages from `pages()` (chat's /terms prints the same lines)."""
    from qwen_cli import terms as lib

    out: list[str] = []
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
    _para(out, "Are my prompts, code and answers used to train models?", page.training + " " + page.ours)
    _para(out, "What do usage statistics cover?", page.statistics)
    _para(out, "How do I switch methods?", page.switch)
    out.append("")


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
