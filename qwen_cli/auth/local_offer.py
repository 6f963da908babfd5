"""Local servers offered at login: the first-run chooser and `auth login --method api-key` list the ones that
answer on loopback, with their models, and `auth login --provider ollama` (any local provider) uses the port
that answered and its first model when none is given. The probing itself is `qwen_cli.local_servers`.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from qwen_cli import local_servers

if TYPE_CHECKING:
    from qwen_cli.auth.methods.base import LoginRequest
    from qwen_cli.context import AppContext
    from qwen_cli.local_servers import Found
    from qwen_cli.settings import Settings

PREFIX = "local:"  # chooser ids for found servers, beside the methods' and providers' own ids
MODELS_LISTED = 5


def url_overrides(settings: Settings) -> dict[str, str]:
    """The local providers' `providers.<id>.base_url` overrides (catalogue.url_override: trusted files only,
    as an untrusted project's are dropped when settings load)."""
    from qwen_cli import catalogue

    found = {}
    for prov in catalogue.providers().values():
        hit = catalogue.url_override(settings, (prov.id,), None) if prov.local else None
        if hit:
            found[prov.id] = hit[0]
    return found


def find(settings: Settings, provider: str | None = None) -> list[Found]:
    """The local servers that answer now (only `provider`'s when given)."""
    wanted = local_servers.candidates(url_overrides(settings))
    if provider is not None:
        wanted = [c for c in wanted if c.provider == provider]
    return local_servers.probe(wanted)


def options(found: list[Found]) -> list[tuple[str, str]]:
    """Menu entries for the found servers: where, that nothing leaves the machine, and the models."""
    entries = []
    for server in found:
        models = ", ".join(server.models[:MODELS_LISTED]) or "none listed"
        if len(server.models) > MODELS_LISTED:
            models += f" and {len(server.models) - MODELS_LISTED} more"
        entries.append(
            (
                PREFIX + server.provider,
                f"{server.name} at {server.base_url}: running here, nothing leaves this machine\nmodels: {models}",
            )
        )
    return entries


def picked(found: list[Found], choice: str) -> Found | None:
    return next((s for s in found if PREFIX + s.provider == choice), None)


def apply(app: AppContext, server: Found, request: LoginRequest) -> LoginRequest:
    """The login request for a found server: its provider, its URL when not the catalogue's, and a model
    (the one given, else asked among its models on a terminal, else its first)."""
    from qwen_cli import catalogue

    default_url = (catalogue.provider(server.provider).base_url or "").rstrip("/")
    model = request.model
    if model is None and server.models:
        model = server.models[0]
        if app.prompter.interactive and len(server.models) > 1:
            model = app.prompter.choose(
                f"Which model on {server.name}?",
                [(m, m) for m in server.models],
                need="a model",
                flag="--model ID",
                default=model,
            )
    app.out.info(
        f"Using {server.name} at {server.base_url}, model {model or '(its default)'}: nothing leaves this machine."
    )
    return dataclasses.replace(
        request,
        provider=server.provider,
        model=model,
        base_url=request.base_url or (None if server.base_url == default_url else server.base_url),
    )
