"""Storing, activating and removing logins. Library code: it takes settings, writes files, never prompts."""

from __future__ import annotations

from typing import TYPE_CHECKING

from qwen_cli.auth import keystore
from qwen_cli.errors import UsageError

if TYPE_CHECKING:
    from qwen_cli.settings import Settings

CODING_PLAN_PREFIX = "sk-sp-"


def key_prefix_warning(key: str) -> str | None:
    from qwen_cli import catalogue
    from qwen_cli.auth import methods

    prefix = catalogue.coding_plan().get("key_prefix", CODING_PLAN_PREFIX)
    if key.startswith(prefix):
        return None
    return (
        f"this key does not start with {prefix!r} like Coding Plan keys do; "
        f"a pay-as-you-go DashScope key belongs to `--method {methods.provider_method().id} --provider dashscope`"
    )


def clean_key(raw: str | None) -> str | None:
    """A key as typed or piped: surrounding whitespace removed; an empty one is no key."""
    if raw is None:
        return None
    key = raw.strip()
    if any(c.isspace() for c in key):
        raise UsageError("the key contains whitespace", hint='Pass exactly one key, e.g. printf %s "$KEY" | ...')
    return key or None


def store_coding_plan(
    settings: Settings,
    key: str | None,
    region: str,
    base_url: str | None,
    model: str | None,
    store: str = "file",
    profile: str | None = None,
) -> keystore.Entry:
    from qwen_cli.auth.methods import coding_plan

    data = {"region": region, "base_url": base_url, "model": model}
    entry = keystore.Entry(coding_plan.ID, None, data, profile)
    keystore.save(settings.home, entry, key, store)
    return entry


def store_api_key(
    settings: Settings,
    provider: str,
    key: str | None,
    base_url: str | None,
    model: str | None,
    store: str = "file",
    region: str | None = None,
    protocol: str | None = None,
    profile: str | None = None,
) -> keystore.Entry:
    from qwen_cli.auth.methods import api_key

    data = {"base_url": base_url, "model": model, "region": region, "protocol": protocol}
    entry = keystore.Entry(api_key.ID, provider, data, profile)
    keystore.save(settings.home, entry, key, store)
    return entry


def activate(settings: Settings, method: str, provider: str | None = None, region: str | None = None) -> None:
    """Make a method the active one in the user's config.toml (never a secret there)."""
    from qwen_cli.auth import methods
    from qwen_cli.settings import write_values

    values: dict[str, object] = {"auth.method": method}
    if methods.get(method).takes_provider and provider:
        values["auth.provider"] = provider
    if region and methods.get(method).takes_region:
        values["auth.region"] = region
    write_values(settings.user_file, values)  # one write: a concurrent login can't mix its half in


def deactivate(settings: Settings, region_too: bool = False) -> None:
    from qwen_cli.settings import write_values

    if settings.user_file.exists():
        values: dict[str, object] = {"auth.method": None, "auth.provider": None}
        if region_too:
            values["auth.region"] = None
            values["terms_seen"] = None  # the terms versions the logins recorded (qwen_cli/terms_notice.py)
        write_values(settings.user_file, values)


def remove(settings: Settings, method: str, provider: str | None = None) -> bool:
    """Forget one login of the active profile: the method's own logout (the OAuth file under its lock, or the
    stored key) and its verification record. True when something was removed."""
    from qwen_cli import terms_notice
    from qwen_cli.auth import methods, verify
    from qwen_cli.auth.profiles import current

    removed = methods.get(method).logout(settings, provider)
    verify.forget(settings.home, methods.login_id(method, provider, current(settings)))
    terms_notice.forget(settings, method, provider)
    return removed
