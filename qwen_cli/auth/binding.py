"""A secret goes only where it was sent: the one check between a key's origin and the URL it would go to.

- A stored key (credentials.toml, keyring) goes only to the base URL it was stored with, or its catalogue URL.
- A key from the environment or a trusted .env goes only to a base URL from an equally trusted source.
- An untrusted .env may bring its own key and its own URL together; it never receives a key from elsewhere.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from qwen_cli.errors import ConfigError

if TYPE_CHECKING:
    from qwen_cli.settings import Settings

STORED_SOURCES = ("credentials.toml", "keyring")


def normal(url: str | None) -> str:
    """Scheme, host, port and path, compared case-insensitively where URLs are, without a trailing slash."""
    if not url:
        return ""
    parts = urlsplit(url.strip())
    port = parts.port or {"https": 443, "http": 80}.get(parts.scheme.lower())
    return f"{parts.scheme.lower()}://{(parts.hostname or '').lower()}:{port}{parts.path.rstrip('/')}"


def describe(source: str, name: str) -> str:
    """`env:OPENAI_API_KEY` -> `OPENAI_API_KEY from the environment`; `.env:/p/.env` -> `OPENAI_API_KEY in /p/.env`."""
    if source.startswith("env:"):
        return f"{source[4:]} from the environment"
    if source.startswith(".env:"):
        return f"{name} in {source[5:]}"
    return f"the key in {source}" if source in STORED_SOURCES else source


def check(
    settings: Settings,
    *,
    provider: str,
    key_source: str,
    key_name: str,
    url: str,
    url_source: str,
    url_name: str,
    bound_to: tuple[str | None, ...],
) -> None:
    """Raise ConfigError (exit 8) when a key from `key_source` may not go to `url` from `url_source`."""
    from qwen_cli.providers.failures import host_of

    host = host_of(url)
    if key_source in STORED_SOURCES:
        if any(normal(url) == normal(allowed) for allowed in bound_to if allowed):
            return
        stored_for = next((host_of(u) for u in bound_to if u), "its provider")
        raise ConfigError(
            f"refusing to send the {provider} key stored in {key_source} to {host}: it was stored for "
            f"{stored_for}, and {describe(url_source, url_name)} points elsewhere",
            hint=f"Give that server its own key ({key_name}) beside the URL, or log in for it: "
            f"qwen auth login --provider custom --base-url {url}",
        )
    if settings.trusted(key_source) and not settings.trusted(url_source):
        raise ConfigError(
            f"refusing to send {describe(key_source, key_name)} to {host}: {url_name} comes from "
            f"{url_source[5:] if url_source.startswith('.env:') else url_source}, a folder you have not trusted",
            hint=_hint_for_url(settings, url_source, key_name),
        )


def _hint_for_url(settings: Settings, url_source: str, key_name: str) -> str:
    """For a URL from an untrusted project file: the `qwen trust` command that allows it."""
    from pathlib import Path

    from qwen_cli.trust import trust_command

    return (
        f"If you trust that folder: {trust_command(Path(url_source[5:]))}; "
        f"or put the server's own key ({key_name}) in the same file."
    )
