"""`qwen terms show`: the terms of service and privacy notices that apply to you."""

from __future__ import annotations

import textwrap

import rich_click as click

from qwen_cli.cli import completers
from qwen_cli.cli.common import pass_app
from qwen_cli.output.json import write_json

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


def _pages(app, method, provider, region, show_all):
    from qwen_cli import terms as lib

    if show_all:
        return [lib.page("qwen-oauth"), lib.page("coding-plan"), lib.page("api-key")], None
    active = lib.active(app.settings)
    if provider and not method:
        method = "api-key"
    chosen = method or active["method"]
    if not chosen:
        return [], active
    if chosen == "api-key":
        provider = provider or (active["provider"] if not method or method == active["method"] else None)
    if chosen == "coding-plan" and region is None and (not method or method == active["method"]):
        region = active["region"]
    return [lib.page(chosen, provider, region)], active


@terms.command()
@click.option(
    "--method",
    type=click.Choice(["qwen-oauth", "coding-plan", "api-key"]),
    help="Show this method instead of the active one.",
)
@click.option(
    "--provider", metavar="ID", shell_complete=completers.providers,
    help="An api-key provider from the catalogue (implies --method api-key).",
)
@click.option(
    "--region", metavar="REGION", shell_complete=completers.regions,
    help="Coding Plan region: china or global (default: configured, or both).",
)
@click.option("--all", "show_all", is_flag=True, help="Every method, and every catalogue provider.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--open", "open_browser", is_flag=True, help="Open the terms URL in a browser, when one is usable.")
@pass_app
def show(app, method, provider, region, show_all, as_json, open_browser) -> None:
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
    pages, active = _pages(app, method, provider, region, show_all)
    providers = lib.provider_table() if show_all else None
    opened = _open(app, pages) if open_browser else None
    if as_json:
        payload = {
            "active": active,
            "pages": [p.as_dict() for p in pages],
            "overview": lib.overview(),
            "summary": [lib.summary_line(p.method, p.provider_id, p.region) for p in pages],
        }
        if providers is not None:
            payload["providers"] = providers
        if open_browser:
            payload["opened"] = opened
        write_json(app.stdout, payload)
        return
    from qwen_cli.termsafe import Writer

    out = Writer(app.stdout)  # provider names and sources come from settings, which a project file may set
    if active is not None and not pages:
        out.write("No authentication method is configured yet, so no terms apply until you choose one.\n")
        out.write("Run `qwen auth login`, or see every method with `qwen terms show --all`.\n\n")
    for page in pages:
        label = ""
        if active is not None and page.method == active["method"] and not method and not provider:
            label = f" (your active method, from {active['method_source']})"
        _write_page(out, page, label)
    if providers is not None:
        _write_providers(out, providers)
    _write_overview(out, lib.overview())


def _para(out, heading: str, text: str) -> None:
    out.write(f"  {heading}\n")
    for line in textwrap.wrap(" ".join(text.split()), _WIDTH - 4, break_on_hyphens=False, break_long_words=False):
        out.write(f"    {line}\n")


def _write_page(out, page, label: str) -> None:
    out.write(f"{page.title}{label}: {page.how}.\n")
    if page.method == "api-key":
        out.write(f"  Provider: {page.provider}\n")
    _para(out, "Which terms apply", page.applies)
    for doc in page.documents:
        out.write(f"  {doc.who}\n")
        out.write(f"    Terms of Service: {doc.terms_url or 'see your provider’s terms'}\n")
        out.write(f"    Privacy Notice:   {doc.privacy_url or 'see your provider’s terms'}\n")
        out.write(f"    (checked {doc.checked})\n")
    if page.note and not page.local:
        out.write(f"  {page.note}\n")
    _para(out, "Are my prompts, code and answers used to train models?", page.training + " " + page.ours)
    _para(out, "What do usage statistics cover?", page.statistics)
    _para(out, "How do I switch methods?", page.switch)
    out.write("\n")


def _write_providers(out, rows) -> None:
    out.write("API key providers in the catalogue\n")
    width = max(len(r["id"]) for r in rows)
    for row in rows:
        if row["local"]:
            what = "local: nothing leaves this machine"
        elif row["terms_url"] or row["privacy_url"]:
            what = row["terms_url"] or row["privacy_url"]
        else:
            what = row["note"] or "see your provider's terms"
        out.write(f"  {row['id'].ljust(width)}  {what}\n")
    out.write("\n")


def _write_overview(out, rows) -> None:
    out.write("Overview of the three methods\n")
    headers = ("Authentication method", "Provider", "Terms of Service / Privacy Notice")
    widths = [max(len(headers[i]), *(len(r[key]) for r in rows)) for i, key in enumerate(("title", "provider"))]
    out.write(f"  {headers[0].ljust(widths[0])}  {headers[1].ljust(widths[1])}  {headers[2]}\n")
    for r in rows:
        out.write(f"  {r['title'].ljust(widths[0])}  {r['provider'].ljust(widths[1])}  Terms: {r['terms']}\n")
        out.write(f"  {''.ljust(widths[0])}  {''.ljust(widths[1])}  Privacy: {r['privacy']}\n")
    out.write("\n")


def _open(app, pages) -> dict:
    """Open the first terms URL without waiting for the browser; say so, or print the URL instead."""
    from qwen_cli import terms as lib

    urls = [u for p in pages for u in p.urls]
    if not urls:
        app.stderr.write("No terms URL to open for this choice: see your provider's terms.\n")
        return {"url": None, "opened": False}
    url = urls[0]
    command = lib.browser_command(app.env)
    if command is None:
        app.stderr.write(f"No usable browser here; open this URL yourself:\n{url}\n")
        return {"url": url, "opened": False}
    import subprocess

    try:
        subprocess.Popen(
            [*command, url],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            env=dict(app.env),
        )
    except OSError:
        app.stderr.write(f"Could not start a browser; open this URL yourself:\n{url}\n")
        return {"url": url, "opened": False}
    app.stderr.write(f"Opened {url} in your browser.\n")
    return {"url": url, "opened": True}
