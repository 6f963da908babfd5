"""Which terms of service and privacy notices apply, by auth method and provider (data in data/*.toml).

Library code: returns values, never prints. `summary_line()` is the one line that `qwen auth login`
and the chat banner show; `page()` is what `qwen terms show` renders.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING

from qwen_cli.errors import UsageError

if TYPE_CHECKING:
    from qwen_cli.catalogue import Provider
    from qwen_cli.settings import Settings


@dataclass(frozen=True)
class Document:
    id: str
    who: str
    terms_name: str | None
    terms_url: str | None
    privacy_name: str | None
    privacy_url: str | None
    checked: str


@dataclass
class Page:
    method: str
    title: str
    how: str
    provider: str  # display name: "Qwen AI", "Alibaba Cloud", "OpenAI", "a custom provider", ...
    provider_id: str | None
    region: str | None
    local: bool
    applies: str
    documents: list[Document] = field(default_factory=list)
    note: str | None = None  # e.g. "depends on your provider: see its terms"
    training: str = ""
    statistics: str = ""
    ours: str = ""
    switch: str = ""
    checked: str = ""

    def as_dict(self) -> dict:
        return asdict(self)

    @property
    def urls(self) -> list[str]:
        out: list[str] = []
        for doc in self.documents:
            out.extend(u for u in (doc.terms_url, doc.privacy_url) if u)
        return out


def _data() -> dict:
    from qwen_cli.catalogue import load

    return load("terms")


def documents() -> dict[str, Document]:
    return {
        did: Document(
            did,
            d["who"],
            d.get("terms_name"),
            d.get("terms_url"),
            d.get("privacy_name"),
            d.get("privacy_url"),
            d["checked"],
        )
        for did, d in _data()["documents"].items()
    }


def _method(method: str) -> dict:
    return _data()["methods"][method]


def _region_id(region: str | None, strict: bool) -> str | None:
    if not region:
        return None
    from qwen_cli import catalogue

    try:
        return catalogue.region(region).id
    except UsageError:
        if strict:
            raise
        return None


def page(method: str, provider: str | None = None, region: str | None = None, strict: bool = True) -> Page:
    """The terms page for `method`, as the method builds it (a provider matters for API keys, a region
    for the Coding Plan). strict=False ignores an unknown region instead of raising (for values read
    from settings)."""
    from qwen_cli.auth import methods

    return methods.get(method).terms_page(provider, region, strict)


def _base(method: str) -> dict:
    text = _method(method)
    common = _data()["common"]
    return dict(
        method=method,
        title=text["title"],
        how=text["how"],
        applies=text["applies"],
        training=text["training"],
        statistics=text["statistics"],
        ours=common["ours"],
        switch=common["switch"],
        checked=text["checked"],
    )


def documents_page(method: str, provider_id: str) -> Page:
    """A method governed by fixed documents (`documents = [...]` in terms.toml)."""
    text = _method(method)
    docs = documents()
    return Page(
        provider=text["provider"],
        provider_id=provider_id,
        region=None,
        local=False,
        documents=[docs[i] for i in text.get("documents", [])],
        **_base(method),
    )


def region_page(method: str, region: str | None, strict: bool) -> Page:
    """A method whose terms depend on the region of the key (the Coding Plan's catalogue regions)."""
    from qwen_cli import catalogue

    text = _method(method)
    docs = documents()
    rid = _region_id(region, strict)
    regions = catalogue.regions()
    chosen = [regions[rid]] if rid else list(regions.values())
    note = None if rid else "Which one applies depends on the region of your key; both are listed."
    return Page(
        provider=text["provider"],
        provider_id=method,
        region=rid,
        local=False,
        documents=[docs[r.terms] for r in chosen if r.terms is not None],
        note=note,
        **_base(method),
    )


def provider_page(method: str, provider: str | None, region: str | None = None, strict: bool = True) -> Page:
    """A method whose terms are those of the provider you chose (the API key catalogue), for a provider with
    regions those of the region (given, or an alias entry's own; else every region's, with a note)."""
    from qwen_cli import catalogue

    text = _method(method)
    base = _base(method)
    docs = documents()
    if not provider or provider == "custom":
        return Page(
            provider="a custom provider" if provider else "your provider",
            provider_id=provider,
            region=None,
            local=False,
            note=text["custom"],
            **base,
        )
    known = catalogue.providers()
    if provider not in known:
        return Page(
            provider=f"{provider} (not in the catalogue)",
            provider_id="custom",
            region=None,
            local=False,
            note=text["custom"],
            **base,
        )
    entry = known[provider]
    if entry.local:
        base["applies"] = text["local"]
        return Page(provider=entry.name, provider_id=entry.id, region=None, local=True, note=text["local"], **base)
    note = None
    chosen_region = None
    if entry.regions and any(r.terms for r in entry.regions.values()):
        found, note, chosen_region = _region_documents(entry, region, strict, docs)
        note = " ".join(n for n in (note, text.get("alibaba") if found else None) if n) or None
    elif entry.terms and entry.terms in docs:
        found = [docs[entry.terms]]
    elif entry.terms_url or entry.privacy_url:
        found = [
            Document(
                entry.id,
                entry.name,
                f"{entry.name} terms" if entry.terms_url else None,
                entry.terms_url,
                f"{entry.name} privacy policy" if entry.privacy_url else None,
                entry.privacy_url,
                entry.checked,
            )
        ]
    else:
        found = []
    return Page(
        provider=entry.name,
        provider_id=entry.id,
        region=chosen_region,
        local=False,
        documents=found,
        note=note if found else text["unlisted"],
        **base,
    )


def _region_documents(
    entry: Provider, region: str | None, strict: bool, docs: dict[str, Document]
) -> tuple[list[Document], str | None, str | None]:
    """(documents, note, region id) for a provider whose terms depend on the region of the key."""
    chosen = None
    if region:
        try:
            chosen = entry.region(region)
        except UsageError:
            if strict:
                raise
    elif entry.catalogue_id != entry.id:  # an alias entry (`dashscope-intl`) names its region
        chosen = entry.region(None)
    if chosen is not None and chosen.terms:
        return [docs[chosen.terms]], None, chosen.id
    ids = list(dict.fromkeys(r.terms for r in entry.regions.values() if r.terms is not None))
    what = f"for {chosen.label or chosen.id} is not on record" if chosen else "depends on the region of your key"
    return [docs[i] for i in ids], f"Which of these applies {what}; all are listed.", chosen.id if chosen else None


def overview() -> list[dict]:
    """Every method at a glance, as in Qwen Code's terms document."""
    from qwen_cli.auth import methods

    return [m.overview_row() for m in methods.all()]


def overview_row(method: str) -> dict:
    """A method's overview row from terms.toml: its `overview_terms`/`overview_privacy`, else its first
    document's names and URLs."""
    text = _method(method)
    if "overview_terms" in text:
        terms_text, privacy_text = text["overview_terms"], text["overview_privacy"]
    else:
        doc = documents()[text["documents"][0]]
        terms_text, privacy_text = f"{doc.terms_name} ({doc.terms_url})", f"{doc.privacy_name} ({doc.privacy_url})"
    return {
        "method": method,
        "title": text["title"],
        "provider": text["provider"],
        "terms": terms_text,
        "privacy": privacy_text,
    }


def provider_table() -> list[dict]:
    """Every catalogue provider of the api-key method with what applies to it."""
    from qwen_cli import catalogue

    rows = []
    from qwen_cli.auth import methods

    method = methods.provider_method().id
    for pid in catalogue.providers():
        p = page(method, pid)
        doc = p.documents[0] if p.documents else None
        rows.append(
            {
                "id": pid,
                "name": p.provider,
                "local": p.local,
                "terms_url": doc.terms_url if doc else None,
                "privacy_url": doc.privacy_url if doc else None,
                "note": p.note,
                "checked": doc.checked if doc else p.checked,
            }
        )
    return rows


def summary_line(method: str | None, provider: str | None = None, region: str | None = None) -> str:
    """One line naming the terms that apply, e.g. for `qwen auth login` before it stores anything."""
    if not method:
        return "No authentication method is configured yet; `qwen terms show --all` lists the terms of each."
    from qwen_cli.auth import methods

    return methods.get(method).terms_summary(provider, region)


def documents_summary(method: str) -> str:
    p = documents_page(method, method)
    doc = p.documents[0]
    return f"Terms: {p.title} is governed by the {doc.terms_name} ({doc.terms_url}) and {doc.privacy_name}."


def region_summary(method: str, region: str | None) -> str:
    p = region_page(method, region, strict=False)
    if p.region and p.documents:
        doc = p.documents[0]
        return f"Terms: {p.title} is governed by the terms of {doc.who} ({doc.terms_url})."
    return (
        f"Terms: {p.title} is governed by Alibaba Cloud's terms for your key's region "
        f"(see `qwen terms show --method {method}`)."
    )


def provider_summary(method: str, provider: str | None, region: str | None = None) -> str:
    p = provider_page(method, provider, region, strict=False)
    if not provider:
        return f"Terms: {p.title}: the terms of the provider you choose apply, not Qwen's."
    label = f"{p.title} with {p.provider}"
    if p.local:
        return f"Terms: {label}: nothing leaves this machine, so no third-party terms apply."
    if p.documents:
        doc = p.documents[0]
        where = doc.terms_url or doc.privacy_url
        return f"Terms: {label}: the terms of {doc.who} apply, not Qwen's ({where})."
    if p.provider_id == "custom":
        return f"Terms: {label}: its own terms apply, not Qwen's."
    return f"Terms: {label}: the terms of {p.provider} apply, not Qwen's; see its website."


def statistics_notice(first_time: bool = True) -> str:
    """What usage statistics cover and how to opt out; `first_time` adds the "shown once" sentence."""
    data = _data()["statistics"]
    return data["notice"] + (" " + data["once"] if first_time else "")


def active(settings: Settings) -> dict:
    """The active method, provider and region, as the resolver chooses them (it reads no secrets and makes
    no requests); the configured settings when it cannot tell."""
    method, source = settings.get("auth.method"), settings.source("auth.method")
    provider = settings.get("auth.provider")
    region = settings.get("auth.region")
    try:
        from qwen_cli.auth import methods
        from qwen_cli.auth.resolve import choose

        choice = choose(settings)
        method, source = choice.method, choice.reason
        chosen = methods.get(method)
        provider = choice.provider if chosen.takes_provider else provider
        if not region:
            region = chosen.status_region(settings)
    except Exception:  # noqa: BLE001 - nothing configured, or a bad value: fall back to the settings
        pass
    return {
        "method": method,
        "method_source": source if method else None,
        "provider": provider,
        "region": _region_id(region, strict=False) if isinstance(region, str) else None,
    }


def browser_command(env: Mapping[str, str] | None = None, platform: str | None = None) -> list[str] | None:
    """The command that would open a terms URL here, or None when no browser is usable (see qwen_cli/browser.py,
    the one decision `qwen auth login` makes too)."""
    from qwen_cli import browser

    env = os.environ if env is None else env
    if not browser.usable(env, platform=platform):
        return None
    command = browser.command_for("%s", env, platform)
    return command[:-1] if command and command[-1] == "%s" else command
