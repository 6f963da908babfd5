"""Read-only access to the data catalogues in `qwen_cli/data/*.toml` (loaded once, on first use)."""

from __future__ import annotations

import functools
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from qwen_cli.errors import UsageError

DATA_DIR = Path(__file__).resolve().parent / "data"

if TYPE_CHECKING:
    from qwen_cli.settings import Settings


@functools.cache
def load(name: str) -> dict:
    """A data file, parsed. tomllib is pure Python: parsing providers.toml would cost every `qwen ask` about
    5 ms, so each file has a generated twin, NAME.parsed.json (`make data`), that holds the parsed form and
    a hash of the TOML it came from. The twin is used only while that hash matches: an edited TOML is parsed
    again (and tests/catalogue/test_parsed_data.py fails until `make data` is run)."""
    # Files beside this module, not importlib.resources: that import alone costs qwen ask ~15 ms (zipfile,
    # tempfile), and qwen is installed as files, never run from a zip.
    raw = (DATA_DIR / f"{name}.toml").read_bytes()
    try:
        twin = json.loads((DATA_DIR / f"{name}.parsed.json").read_bytes())
        if twin["toml_blake2b"] == _stamp(raw) and isinstance(twin["data"], dict):
            return twin["data"]
    except (OSError, ValueError, TypeError, KeyError):
        pass
    return _parse_toml(raw.decode("utf-8"))


def parsed_twin(name: str) -> str:
    """The text of NAME.parsed.json for the TOML as it is now (`make data` writes it)."""
    raw = (DATA_DIR / f"{name}.toml").read_bytes()
    twin = {"toml_blake2b": _stamp(raw), "data": _parse_toml(raw.decode("utf-8"))}
    return json.dumps(twin, ensure_ascii=False, indent=1) + "\n"  # in the TOML's order; a TOML date fails here


def _stamp(raw: bytes) -> str:
    return hashlib.blake2b(raw, digest_size=16).hexdigest()


def _parse_toml(text: str) -> dict:
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib  # type: ignore[no-redef]
    return tomllib.loads(text)


@dataclass(frozen=True)
class Region:
    """One region of a provider: its endpoint, aliases and the terms that apply there."""

    id: str
    aliases: tuple[str, ...]
    base_url: str
    terms: str | None  # a [documents] id in terms.toml; None when which one applies is not on record
    site: str = ""
    console: str = ""
    label: str = ""
    batch: bool | None = None  # the OpenAI-compatible Batch API, where the provider's docs say so


@dataclass(frozen=True)
class Provider:
    """A provider of the API-key method as the catalogue records it (unknown facts are None)."""

    id: str
    name: str
    base_url: str | None  # the default region's, for a provider with regions
    key_env: str | None
    default_model: str | None
    terms_url: str | None
    privacy_url: str | None
    terms: str | None  # id of a terms entry shared with other methods (e.g. Alibaba Cloud)
    local: bool
    checked: str
    models: tuple[str, ...] = ()
    regions: dict[str, Region] = field(default_factory=dict, compare=False)
    default_region: str | None = None
    header_sets: tuple[str, ...] = ()
    catalogue_id: str = ""  # the entry holding its URLs (`same_as`), for overrides
    oauth_authorize_url: str | None = None  # the browser login's authorize page (OpenRouter's PKCE flow)
    protocol: str = "openai"  # the wire protocol: openai, anthropic or gemini (providers/protocols/)
    max_tokens: int | None = None  # the answer limit sent when none is asked for (Anthropic requires one)
    batch: bool = False  # its docs describe the OpenAI-compatible Batch API (`qwen batch`); regions may say so

    def has_batch(self, base_url: str | None) -> bool:
        """Whether the endpoint at base_url is documented to serve the Batch API: the region's flag when
        base_url is one of its regions', else the provider's own."""
        from qwen_cli.auth.binding import normal

        for r in self.regions.values():
            if normal(r.base_url) == normal(base_url) and r.batch is not None:
                return r.batch
        return self.batch

    def region(self, name: str | None) -> Region | None:
        """The named region (an id or alias), else the default one; None for a provider without regions."""
        if not self.regions:
            if name:
                raise UsageError(f"--region does not apply to {self.name}: it has one endpoint")
            return None
        return find_region(self.regions, name or self.default_region or next(iter(self.regions)), self.name)


def _regions(table: dict) -> dict[str, Region]:
    return {
        rid: Region(
            rid,
            tuple(r.get("aliases", ())),
            r["base_url"],
            r.get("terms"),
            r.get("site", ""),
            r.get("console", ""),
            r.get("label", ""),
            r.get("batch"),
        )
        for rid, r in table.items()
    }


def find_region(regions: dict[str, Region], name: str, what: str) -> Region:
    wanted = name.strip().lower()
    for r in regions.values():
        if wanted == r.id or wanted in r.aliases:
            return r
    choices = ", ".join(f"{r.id} ({'/'.join(r.aliases)})" if r.aliases else r.id for r in regions.values())
    raise UsageError(f"unknown {what} region {name!r}", hint=f"Use one of: {choices}.")


def region_names(regions: dict[str, Region]) -> list[str]:
    names: list[str] = []
    for r in regions.values():
        names += [r.id, *r.aliases]
    return names


def _section(method_id: str) -> dict:
    """A method's part of providers.toml: its table is named by the method's id."""
    return load("providers")[method_id]


def _provider(pid: str, entries: dict) -> Provider:
    own = entries[pid]
    base_id = own.get("same_as", pid)
    e = {**entries[base_id], **own} if base_id != pid else own
    regions = _regions(e.get("regions", {}))
    default_region = e.get("default_region")
    models = tuple(e.get("models", ()))
    return Provider(
        id=pid,
        name=e["name"],
        base_url=regions[default_region].base_url if regions and default_region else e.get("base_url"),
        key_env=e.get("key_env"),
        default_model=e.get("default_model") or (models[0] if models else None),
        terms_url=e.get("terms_url"),
        privacy_url=e.get("privacy_url"),
        terms=e.get("terms"),
        local=bool(e.get("local", False)),
        checked=e["checked"],
        models=models,
        regions=regions,
        default_region=default_region,
        header_sets=tuple(e.get("headers", ())),
        catalogue_id=base_id,
        oauth_authorize_url=e.get("oauth_authorize_url"),
        protocol=e.get("protocol", "openai"),
        max_tokens=e.get("max_tokens"),
        batch=bool(e.get("batch", False)),
    )


@functools.cache
def _providers(method_id: str) -> dict[str, Provider]:
    entries = _section(method_id)
    return {pid: _provider(pid, entries) for pid in entries}


def providers() -> dict[str, Provider]:
    """The providers of the per-provider method (API keys)."""
    from qwen_cli.auth import methods

    return dict(_providers(methods.provider_method().id))


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


def headers(sets: tuple[str, ...] | list[str]) -> dict[str, str]:
    """The headers of the named sets in providers.toml's [headers], with {user_agent} filled in."""
    from qwen_cli.providers.http import user_agent

    table = load("providers").get("headers", {})
    found: dict[str, str] = {}
    for name in sets:
        for header, value in table[name].items():
            found[header] = str(value).replace("{user_agent}", user_agent())
    return found


def url_override(
    settings: Settings, ids: tuple[str, ...], region: str | None, name: str = "base_url"
) -> tuple[str, str] | None:
    """(URL, source) from `providers.<id>.regions.<region>.<name>`, else `providers.<id>.<name>` (`name` is
    base_url unless told), in a trusted config file (an untrusted project's are dropped when settings load),
    trying `ids` in order (an alias entry's own id, then the entry it is `same_as`)."""
    tables = settings.table("providers")
    for pid in dict.fromkeys(ids):
        table = tables.get(pid)
        if not isinstance(table, dict):
            continue
        by_region = table.get("regions")
        if region is not None and isinstance(by_region, dict):
            entry = by_region.get(region)
            if isinstance(entry, dict) and isinstance(entry.get(name), str):
                return entry[name], f"providers.{pid}.regions.{region}.{name}"
        if isinstance(table.get(name), str):
            return table[name], f"providers.{pid}.{name}"
    return None


def configured_region(settings: Settings, prov: Provider) -> str | None:
    """`providers.<id>.region` from a trusted config file: the region used without a stored login's own."""
    table = settings.table("providers").get(prov.id)
    region = table.get("region") if isinstance(table, dict) else None
    return region if isinstance(region, str) and region else None


def provider_url(settings: Settings, prov: Provider, region: Region | None) -> tuple[str | None, str]:
    """(base URL, source): a trusted override, else the region's, else the provider's catalogue URL."""
    found = url_override(settings, (prov.id, prov.catalogue_id or prov.id), region.id if region else None)
    if found:
        return found
    if region is not None:
        return region.base_url, f"region {region.id}"
    return prov.base_url, "catalogue" if prov.base_url else ""


def coding_plan() -> dict:
    from qwen_cli.auth.methods.coding_plan import ID

    return _section(ID)


def qwen_oauth() -> dict:
    from qwen_cli.auth.methods.qwen_oauth import ID

    return _section(ID)


def regions() -> dict[str, Region]:
    """The Coding Plan's regions."""
    return _regions(coding_plan()["regions"])


def region(name: str) -> Region:
    return find_region(regions(), name, "Coding Plan")


@dataclass(frozen=True)
class ModelFacts:
    """What is on record about one model; None is unknown (never guessed)."""

    context_window: int | None = None
    image_input: bool | None = None
    json_schema: bool | None = None
    source: str = ""  # the provider's page, or the config file's table that said so

    def as_dict(self) -> dict:
        return {
            "context_window": self.context_window,
            "image_input": self.image_input,
            "json_schema": self.json_schema,
        }


def model_facts(settings: Settings | None, provider: str | None, model: str | None) -> ModelFacts:
    """data/models.toml's facts for the model at this provider, each overridden by `[models."ID"]` in the
    user's config (their own endpoints are theirs to describe)."""
    if not model:
        return ModelFacts()
    known = load("models").get(provider or "", {}).get(model, {})
    own = settings.table("models").get(model, {}) if settings is not None else {}
    own = own if isinstance(own, dict) else {}
    merged = {**known, **own}

    def fact(name: str, kind: type) -> object:
        value = merged.get(name)
        return value if isinstance(value, kind) and not (kind is int and isinstance(value, bool)) else None

    source = f'config [models."{model}"]' if own else str(known.get("source", ""))
    return ModelFacts(fact("context_window", int), fact("image_input", bool), fact("json_schema", bool), source)  # type: ignore[arg-type]
