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
    from qwen_cli.auth import methods

    return list(methods.ids())


@_safe
def methods_and_profiles(ctx):
    """`qwen auth switch`'s word: a method, or a profile that holds a login."""
    from qwen_cli.auth import methods, profiles
    from qwen_cli.settings import Settings

    return [*methods.ids(), *(profiles.label(p) for p in profiles.known(Settings.load()))]


@_safe
def providers(ctx):
    from qwen_cli import catalogue

    return list(catalogue.providers())


@_safe
def regions(ctx):
    """The regions of the provider on the line (--provider), else the Coding Plan's with --method coding-plan,
    else every provider's."""
    from qwen_cli import catalogue
    from qwen_cli.auth import methods

    params = ctx.params if ctx else {}
    provider = catalogue.providers().get(params.get("provider") or "")
    if provider is not None:
        return catalogue.region_names(provider.regions)
    names = catalogue.region_names(catalogue.regions())
    if params.get("method") in (None, methods.provider_method().id):
        for prov in catalogue.providers().values():
            names += catalogue.region_names(prov.regions)
    return list(dict.fromkeys(names))


@_safe
def models(ctx):
    """Models of the method being configured (from --method/--provider on the line), else the active one:
    the stored login's own model first (the only one a `custom` login has), then the catalogue's."""
    from qwen_cli.auth import methods
    from qwen_cli.settings import Settings

    params = ctx.params if ctx else {}
    settings = Settings.load()
    method_id = params.get("method") or settings.get("auth.method")
    provider = params.get("provider") or settings.get("auth.provider")
    if method_id is None and provider:
        method_id = methods.provider_method().id
    method = methods.get(method_id) if method_id else None
    if method is None or (method.takes_provider and not provider):  # nothing to go by: every catalogue model
        return [m for each in methods.all() if not each.takes_provider for m in each.models(None)]
    stored = _stored_model(settings.home, method_id, provider)
    listed = _listed_models(settings.home, methods.login_id(method_id, provider))
    return list(dict.fromkeys(([stored] if stored else []) + method.models(provider) + listed))


def _listed_models(home, login: str) -> list[str]:
    """What the provider listed the last time `qwen models` ran for this login (no network here)."""
    import json

    from qwen_cli.cli.models import CACHE_NAME

    found = json.loads((home / CACHE_NAME).read_text("utf-8")).get(login, []) if (home / CACHE_NAME).exists() else []
    return [m for m in found if isinstance(m, str)]


def _stored_model(home, method: str, provider: str | None) -> str | None:
    from qwen_cli.auth import keystore

    entry = keystore.get(home, method, provider)
    model = entry.data.get("model") if entry else None
    return model if isinstance(model, str) and model else None


@_safe
def config_keys(ctx):
    from qwen_cli.settings import KEYS

    return [k.name for k in KEYS]


@_safe
def session_ids(ctx):
    from qwen_cli import paths
    from qwen_cli.chat.session_store import SessionStore

    return [p.stem for p in SessionStore(paths.qwen_home()).files()]


def method_choice():
    """A click Choice of the registered methods, read when a value is checked (so a method registered after
    the command was built is accepted too)."""
    import click

    class MethodChoice(click.Choice):
        def __init__(self) -> None:
            super().__init__([])

        @property
        def choices(self):
            from qwen_cli.auth import methods

            return list(methods.ids())

        @choices.setter
        def choices(self, value) -> None:
            pass

    return MethodChoice()


@_safe
def template_names(ctx):
    """Templates in play from the cwd: the user's, then a trusted project's. Local files only."""
    from pathlib import Path

    from qwen_cli import paths, templates

    return list(templates.available(paths.qwen_home(), Path.cwd()).templates)


@_safe
def batch_ids(ctx):
    """The batches recorded in $QWEN_HOME/batches/, newest first. Local files only."""
    from qwen_cli import paths
    from qwen_cli.batch import records

    return [r.id for r in records.all_records(paths.qwen_home())]
