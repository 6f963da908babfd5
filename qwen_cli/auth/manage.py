"""Storing, activating and removing logins. Library code: it takes settings, writes files, never prompts."""

from __future__ import annotations

from qwen_cli.auth import keystore
from qwen_cli.errors import UsageError

CODING_PLAN_PREFIX = "sk-sp-"


def key_prefix_warning(key: str) -> str | None:
    from qwen_cli import catalogue

    prefix = catalogue.coding_plan().get("key_prefix", CODING_PLAN_PREFIX)
    if key.startswith(prefix):
        return None
    return (
        f"this key does not start with {prefix!r} like Coding Plan keys do; "
        "a pay-as-you-go DashScope key belongs to `--method api-key --provider dashscope`"
    )


def clean_key(raw: str | None) -> str | None:
    """A key as typed or piped: surrounding whitespace removed; an empty one is no key."""
    if raw is None:
        return None
    key = raw.strip()
    if any(c.isspace() for c in key):
        raise UsageError("the key contains whitespace", hint="Pass exactly one key, e.g. printf %s \"$KEY\" | ...")
    return key or None


def store_coding_plan(settings, key: str | None, region: str, base_url: str | None, model: str | None,
                      store: str = "file") -> keystore.Entry:
    entry = keystore.Entry("coding-plan", None, {"region": region, "base_url": base_url, "model": model})
    keystore.save(settings.home, entry, key, store)
    return entry


def store_api_key(settings, provider: str, key: str | None, base_url: str | None, model: str | None,
                  store: str = "file") -> keystore.Entry:
    entry = keystore.Entry("api-key", provider, {"base_url": base_url, "model": model})
    keystore.save(settings.home, entry, key, store)
    return entry


def activate(settings, method: str, provider: str | None = None, region: str | None = None) -> None:
    """Make a method the active one in the user's config.toml (never a secret there)."""
    from qwen_cli.settings import write_values

    values = {"auth.method": method}
    if method == "api-key" and provider:
        values["auth.provider"] = provider
    if method == "coding-plan" and region:
        values["auth.region"] = region
    write_values(settings.user_file, values)  # one write: a concurrent login can't mix its half in


def deactivate(settings) -> None:
    from qwen_cli.settings import write_values

    if settings.user_file.exists():
        write_values(settings.user_file, {"auth.method": None, "auth.provider": None})


def remove(settings, method: str, provider: str | None = None) -> bool:
    """Forget one login: the OAuth file (under the lock) or the stored key. True when something was removed."""
    from qwen_cli.auth import verify

    if method == "qwen-oauth":
        from qwen_cli.auth import qwen_oauth

        removed = qwen_oauth.logout(settings.home)
    else:
        removed = keystore.remove(settings.home, method, provider)
    verify.forget(settings.home, method if method != "api-key" else f"api-key:{provider}")
    return removed
