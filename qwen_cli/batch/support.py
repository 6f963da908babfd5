"""Whether a login may use the Batch API: only where the catalogue says the provider's docs describe it.

Checked before anything is sent. `--force` overrides the catalogue for an API-key login whose endpoint the
user knows better (a proxy, a new region); it never makes Qwen OAuth or another wire protocol batchable.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from qwen_cli.errors import ConfigError

if TYPE_CHECKING:
    from qwen_cli.auth.credentials import Credentials

HINT = "Log in with an API key of a provider that has it (qwen auth login --provider openai or dashscope)"


def documented(creds: Credentials) -> bool:
    from qwen_cli import catalogue
    from qwen_cli.auth import methods

    if creds.method != methods.provider_method().id:
        return False
    known = catalogue.providers().get(creds.provider)
    return known is not None and known.has_batch(creds.base_url)


def check(creds: Credentials, force: bool = False) -> None:
    """Raise ConfigError (exit 8) when this login can't submit a batch."""
    from qwen_cli.auth.methods.qwen_oauth import ID as QWEN_OAUTH

    if creds.method == QWEN_OAUTH:
        raise ConfigError("Qwen OAuth has no Batch API on record; nothing was sent", hint=HINT + ".")
    if creds.protocol != "openai":
        raise ConfigError(
            f"the {creds.provider} login speaks the {creds.protocol} protocol; `qwen batch` uses the "
            "OpenAI-compatible Batch API; nothing was sent",
            hint=HINT + ".",
        )
    if not force and not documented(creds):
        raise ConfigError(
            f"{creds.provider} at {_host(creds.base_url)} is not known to offer the OpenAI-compatible Batch API; "
            "nothing was sent",
            hint=HINT + ", or add --force if yours does.",
        )


def _host(url: str) -> str:
    from qwen_cli.providers.failures import host_of

    return host_of(url)
