"""Read-only access to the data catalogues in `qwen_cli/data/*.toml` (loaded once, on first use)."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from importlib import resources

from qwen_cli.errors import UsageError


@functools.cache
def load(name: str) -> dict:
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib  # type: ignore[no-redef]
    return tomllib.loads(resources.files("qwen_cli.data").joinpath(f"{name}.toml").read_text("utf-8"))


@dataclass(frozen=True)
class Provider:
    id: str
    name: str
    base_url: str | None
    key_env: str | None
    default_model: str | None
    terms_url: str | None
    privacy_url: str | None
    terms: str | None  # id of a terms entry shared with other methods (e.g. Alibaba Cloud)
    local: bool
    checked: str


@dataclass(frozen=True)
class Region:
    id: str
    aliases: tuple[str, ...]
    site: str
    console: str
    base_url: str
    terms: str


def _section(method_id: str) -> dict:
    """A method's part of providers.toml: its table is named by the method's id."""
    return load("providers")[method_id]


def providers() -> dict[str, Provider]:
    """The providers of the per-provider method (API keys)."""
    from qwen_cli.auth import methods

    entries = _section(methods.provider_method().id)
    return {
        pid: Provider(
            id=pid,
            name=e["name"],
            base_url=e.get("base_url"),
            key_env=e.get("key_env"),
            default_model=e.get("default_model"),
            terms_url=e.get("terms_url"),
            privacy_url=e.get("privacy_url"),
            terms=e.get("terms"),
            local=bool(e.get("local", False)),
            checked=e["checked"],
        )
        for pid, e in entries.items()
    }


def provider(pid: str) -> Provider:
    known = providers()
    if pid not in known:
        import difflib

        guess = difflib.get_close_matches(pid, list(known), n=1)
        raise UsageError(
            f"unknown provider {pid!r}" + (f"; did you mean {guess[0]!r}?" if guess else ""),
            hint="Known providers: " + ", ".join(known) + ". Use `custom` with --base-url for others.",
        )
    return known[pid]


def coding_plan() -> dict:
    from qwen_cli.auth.methods.coding_plan import ID

    return _section(ID)


def qwen_oauth() -> dict:
    from qwen_cli.auth.methods.qwen_oauth import ID

    return _section(ID)


def regions() -> dict[str, Region]:
    return {
        rid: Region(rid, tuple(r["aliases"]), r["site"], r["console"], r["base_url"], r["terms"])
        for rid, r in coding_plan()["regions"].items()
    }


def region(name: str) -> Region:
    wanted = name.strip().lower()
    for r in regions().values():
        if wanted == r.id or wanted in r.aliases:
            return r
    choices = ", ".join(f"{r.id} ({'/'.join(r.aliases)})" for r in regions().values())
    raise UsageError(f"unknown Coding Plan region {name!r}", hint=f"Use one of: {choices}.")
