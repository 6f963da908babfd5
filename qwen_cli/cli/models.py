"""`qwen models`: what the active (or named) login's provider offers, with what the catalogue knows of each.

The list comes from the provider's GET /models (the same call the login's model prompt makes); context
window, image input and json_schema support come from the catalogue and `[models."ID"]` in config.toml, and
are "unknown" where neither says. The list is cached in $QWEN_HOME so shell completion of `--model` can
offer it without a network call.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from qwen_cli.cli.common import credentials_for, pass_app
from qwen_cli.cli.completers import providers as complete_providers

if TYPE_CHECKING:
    from qwen_cli.context import AppContext

CACHE_NAME = "models_cache.json"


@click.command()
@click.option("--provider", metavar="ID", shell_complete=complete_providers, help="A stored API-key login's provider.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_app
def models(app: AppContext, provider: str | None, as_json: bool) -> None:
    """List the models your login's provider offers, marking the default.

    Beside each: its context window, whether it takes images (`qwen ask -a`) and json_schema answers
    (`qwen ask --schema`), from the catalogue or your config (`[models."ID"] image_input = true`);
    "unknown" when neither says.

    \b
    Examples:
      qwen models
      qwen models --provider openrouter --json | jq -r '.models[].id'
    """
    from qwen_cli import catalogue
    from qwen_cli.auth import methods
    from qwen_cli.auth.models import offered

    method = methods.provider_method().id if provider else None
    creds = credentials_for(app, method=method, provider=provider)
    ids = offered(app.settings, creds)
    _remember(app, methods.login_id(creds.method, creds.provider), ids)
    listed = ids if creds.model in ids or not creds.model else [*ids, creds.model]
    rows: list[dict[str, Any]] = []
    for mid in listed:
        facts = catalogue.model_facts(app.settings, creds.provider, mid)
        rows.append({"id": mid, "default": mid == creds.model, "offered": mid in ids, **facts.as_dict()})
    if as_json:
        app.out.json(
            {
                "method": creds.method,
                "provider": creds.provider,
                "base_url": creds.base_url,
                "default": creds.model,
                "models": rows,
            }
        )
        return
    _table(app, rows)


def _table(app: AppContext, rows: list[dict[str, Any]]) -> None:
    def yes_no(value: bool | None) -> str:
        return "unknown" if value is None else "yes" if value else "no"

    width = max([len("MODEL"), *(len(r["id"]) for r in rows)])
    app.out.answer(f"  {'MODEL':<{width}}  {'CONTEXT':>9}  {'IMAGES':<7}  SCHEMA")
    for r in rows:
        context = f"{r['context_window']:,}" if r["context_window"] else "unknown"
        mark = "*" if r["default"] else " "
        note = "  (default; not in the provider's list)" if not r["offered"] else ""
        app.out.answer(
            f"{mark} {r['id']:<{width}}  {context:>9}  {yes_no(r['image_input']):<7}  {yes_no(r['json_schema'])}{note}"
        )
    app.out.info("* default model. Facts come from the catalogue and your config; choose one with -m MODEL.")


def _remember(app: AppContext, login: str, ids: list[str]) -> None:
    """Keep the list for completion; a cache that can't be written is no reason to fail the command."""
    import json

    from qwen_cli.fsutil import atomic_write

    path = app.settings.home / CACHE_NAME
    try:
        cache = json.loads(path.read_text("utf-8")) if path.exists() else {}
        cache = cache if isinstance(cache, dict) else {}
        cache[login] = ids
        atomic_write(path, json.dumps(cache))
    except (OSError, ValueError):
        pass
