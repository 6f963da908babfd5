"""The models a provider offers (its GET /models), and the one message for a model it doesn't offer:
shared by the login's model prompt and chat's /model."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from qwen_cli.auth.credentials import Credentials
    from qwen_cli.settings import Settings


def offered(settings: Settings, credentials: Credentials) -> list[str]:
    """The provider's GET /models, without retries (a person is waiting). Raises a QwenError when it
    doesn't answer with a list."""
    from qwen_cli.providers import openai_compat
    from qwen_cli.providers.events import NetworkOptions

    network = NetworkOptions.from_settings(settings, credentials.provider)
    models: list[str] = openai_compat.list_models(credentials, network, retries=0)
    return models


def not_offered(model: str, models: list[str], base_url: str) -> str:
    """`model 'x' was not found at HOST; did you mean 'y'?`: the adapter's words for a 404, plus a guess."""
    import difflib

    from qwen_cli.providers.failures import host_of

    guess = difflib.get_close_matches(model, models, n=1)
    return f"model {model!r} was not found at {host_of(base_url)}" + (f"; did you mean {guess[0]!r}?" if guess else "")


def catalogue_models(credentials: Credentials) -> list[str]:
    """The models the catalogue names for the credentials' method, the one in use first."""
    from qwen_cli.auth import methods

    found = list(methods.get(credentials.method).models(credentials.provider))
    if credentials.model and credentials.model not in found:
        found.insert(0, credentials.model)
    return [m for m in found if m]
