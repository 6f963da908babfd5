"""The one place that decides which credentials an invocation uses.

First version: the api-key method from the environment or a .env file
(OPENAI_API_KEY + OPENAI_BASE_URL + OPENAI_MODEL, or DASHSCOPE_API_KEY). The auth issue extends this
with stored logins, Qwen OAuth and the Coding Plan.
"""

from __future__ import annotations

from qwen_cli.auth.credentials import Credentials
from qwen_cli.errors import AuthError

NOTHING_CONFIGURED = (
    "no credentials configured. Log in with Qwen OAuth, a Coding Plan key or your own API key"
)
NOTHING_CONFIGURED_HINT = (
    "Run `qwen auth login`, or set OPENAI_API_KEY, OPENAI_BASE_URL and OPENAI_MODEL (shell or .env)."
)


def resolve(settings, method: str | None = None, provider: str | None = None, model: str | None = None) -> Credentials:
    from qwen_cli import catalogue

    model = model or settings.get("general.model")
    key = settings.getenv("OPENAI_API_KEY")
    base = settings.getenv("OPENAI_BASE_URL")
    if key or base:
        return Credentials(
            method="api-key",
            provider="custom" if base else "openai",
            base_url=(base or catalogue.provider("openai").base_url).rstrip("/"),
            model=model or settings.getenv("OPENAI_MODEL") or catalogue.provider("openai").default_model,
            token=key,
            source=settings.env_source("OPENAI_API_KEY") or "",
        )
    raise AuthError(NOTHING_CONFIGURED, hint=NOTHING_CONFIGURED_HINT)
