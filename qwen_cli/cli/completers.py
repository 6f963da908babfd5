"""Dynamic values for shell completion, read from the catalogues, settings and saved sessions.

Each function has Click's `shell_complete(ctx, param, incomplete)` signature. They must never raise:
a completion that fails should offer nothing rather than print a traceback into the user's shell.
"""

from __future__ import annotations

import functools


def _safe(f):
    @functools.wraps(f)
    def wrapper(ctx, param, incomplete):
        try:
            return [v for v in f(ctx) if v.startswith(incomplete)]
        except Exception:  # noqa: BLE001 - see module docstring
            return []

    return wrapper


@_safe
def methods(ctx):
    from qwen_cli.settings import AUTH_METHODS

    return list(AUTH_METHODS)


@_safe
def providers(ctx):
    from qwen_cli import catalogue

    return list(catalogue.providers())


@_safe
def regions(ctx):
    from qwen_cli import catalogue

    names: list[str] = []
    for region in catalogue.regions().values():
        names += [region.id, *region.aliases]
    return names


@_safe
def models(ctx):
    """Models of the method being configured (from --method/--provider on the line), else the active one."""
    from qwen_cli import catalogue
    from qwen_cli.settings import Settings

    params = ctx.params if ctx else {}
    settings = Settings.load()
    method = params.get("method") or settings.get("auth.method")
    provider = params.get("provider") or settings.get("auth.provider")
    if method == "coding-plan":
        return list(catalogue.coding_plan()["models"])
    if method == "qwen-oauth":
        return [catalogue.qwen_oauth()["model"]]
    if provider:
        model = catalogue.providers().get(provider)
        return [model.default_model] if model and model.default_model else []
    return list(catalogue.coding_plan()["models"])


@_safe
def config_keys(ctx):
    from qwen_cli.settings import KEYS

    return [k.name for k in KEYS]


@_safe
def session_ids(ctx):
    from qwen_cli import paths
    from qwen_cli.chat.session_store import SessionStore

    return [p.stem for p in SessionStore(paths.qwen_home()).files()]
