"""Profiles: a name on stored logins, so one method and provider can hold more than one login.

The one place that decides which profile an invocation uses and how a profile names what it stores:

    active(settings)   (name, reason): --profile > QWEN_PROFILE > auth.profile in a trusted project file
                       (a folder bound to a profile) > auth.profile in the user file (`qwen auth switch`)
                       > the default profile. An untrusted project's auth.profile is dropped by settings
                       (it routes: it decides which key is sent), with the usual one-line warning.
    suffix(name)       "" for the default profile, "@work" otherwise: `[api-key."openai@work"]`,
                       `["coding-plan@work"]`, keyring name `api-key:openai@work`, verification records.
    known(settings)    every profile that holds a login: the default, then the named ones in sorted order.

The default profile is exactly what qwen stored before profiles existed (no suffix, and Qwen Code's own
`oauth_creds.json` and its lock); a named profile's Qwen OAuth token is `oauth_creds.<name>.json` with its own
lock. A named profile holds stored logins only: environment keys (OPENAI_API_KEY, ...) and key_cmd belong
to the default profile.
"""

from __future__ import annotations

import dataclasses
import re
from typing import TYPE_CHECKING

from qwen_cli.errors import AuthError, ConfigError, UsageError

if TYPE_CHECKING:
    from pathlib import Path

    from qwen_cli.settings import Settings

DEFAULT = "default"
SETTING = "auth.profile"
_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")


def check(name: str, where: str = "--profile") -> str | None:
    """The profile's name, or None for the default profile. A bad name is a one-line usage error."""
    if name == DEFAULT:
        return None
    if not _NAME.fullmatch(name):
        raise UsageError(
            f"{where}: {name!r} is not a profile name",
            hint="Use letters, digits, '-' and '_' (at most 64), e.g. --profile work.",
        )
    from qwen_cli.auth import methods

    if name in methods.ids():
        raise UsageError(f"{where}: {name!r} is a method, not a profile name", hint="Pick another name.")
    return name


def active(settings: Settings) -> tuple[str | None, str]:
    """(name or None for the default profile, the reason: "flag", "env:QWEN_PROFILE", "project:/p", ...)."""
    raw = settings.get(SETTING)
    source = settings.source(SETTING)
    if not raw:
        return None, "default"
    try:
        return check(str(raw), "--profile" if source == "flag" else _where(source)), source
    except UsageError as exc:
        if source == "flag" or source.startswith("env:"):
            raise
        raise ConfigError(exc.message, hint=exc.hint) from None


def current(settings: Settings) -> str | None:
    return active(settings)[0]


def _where(source: str) -> str:
    if source.startswith("env:"):
        return source[4:]
    return f"auth.profile in {source.split(':', 1)[-1]}"


def reason_text(reason: str) -> str:
    """Why a profile is active, in words: `auth status` shows it."""
    if reason == "flag":
        return "--profile was given"
    if reason.startswith("env:"):
        return f"{reason[4:]} is set"
    if reason.startswith(".env:"):
        return f"QWEN_PROFILE in {reason[5:]}"
    if reason.startswith("project:"):
        return f"this folder is bound to it (auth.profile in {reason[8:]})"
    if reason.startswith("user:"):
        return f"chosen with `qwen auth switch` (auth.profile in {reason[5:]})"
    return "no other was chosen"


def suffix(name: str | None) -> str:
    return f"@{name}" if name else ""


def split(stored: str) -> tuple[str, str | None]:
    """`openai@work` -> ("openai", "work"); `openai` -> ("openai", None)."""
    base, at, name = stored.partition("@")
    return (base, name) if at and name else (stored, None)


def file_of(path: Path, name: str | None) -> Path:
    """A named profile's own file beside the default one: `oauth_creds.work.json`, `oauth_creds.work.lock`."""
    return path if name is None else path.with_name(f"{path.stem}.{name}{path.suffix}")


def label(name: str | None) -> str:
    return name or DEFAULT


def using(settings: Settings, name: str | None, reason: str = "flag") -> Settings:
    """The same settings with another profile active (status lists, logout and login of a named profile)."""
    from qwen_cli.settings import Value

    values = dict(settings.values)
    values[SETTING] = Value(SETTING, name, reason if name else "default")
    return dataclasses.replace(settings, values=values)


def known(settings: Settings) -> list[str | None]:
    """The default profile, then every named profile with a stored login (credentials.toml, keyring entries
    named there, or an `oauth_creds.<name>.json`), sorted."""
    from qwen_cli.auth import keystore, token_store

    names = {e.profile for e in keystore.entries(settings.home) if e.profile}
    names.update(token_store.profiles(settings.home))
    return [None, *sorted(names)]


def require(settings: Settings, name: str | None) -> None:
    """A named profile that holds no login is the "not logged in" error (exit 3), with the command that
    creates it."""
    if name is None or name in known(settings):
        return
    raise AuthError(
        f"there is no profile {name!r}: nothing is logged in under that name",
        hint=f"Run `qwen auth login --profile {name}`.",
    )
