"""What each catalogue entry's provider does with what you send: training, retention, region (data in
data/terms.toml, `[entries]` and `[facts]`). Library code: returns values, never prints.

An entry is one way to reach a provider: a built-in method (`qwen-oauth`), a Coding Plan region
(`coding-plan/global`), or an api-key provider, with its region when it has regions (`dashscope/sg-singapore`).
Imported only when a command needs the facts: `qwen ask` without the privacy guard never loads them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from qwen_cli.errors import UsageError

if TYPE_CHECKING:
    from qwen_cli.auth.credentials import Credentials
    from qwen_cli.settings import Settings

FIELDS = ("trains", "opt_out", "retention_days", "zero_retention", "regions")
TRAINS = ("no", "yes", "opt-in", "opt-out", "unknown")
ZERO_RETENTION = ("yes", "no", "on-request", "unknown")
TRAINS_BY_DEFAULT = ("yes", "opt-out")  # on unless you act: what the privacy guard refuses
UNKNOWN = "unknown"


@dataclass(frozen=True)
class Fact:
    value: Any
    source: str
    checked: str

    @property
    def known(self) -> bool:
        return self.value != UNKNOWN


@dataclass(frozen=True)
class Entry:
    id: str  # "openai", "dashscope/sg-singapore", "coding-plan/global", "qwen-oauth"
    method: str
    provider_id: str  # the catalogue id: an api-key provider's, else the method's
    name: str  # "OpenAI", "Alibaba Cloud Model Studio (...)", "Qwen OAuth"
    region: str | None
    region_label: str | None
    local: bool
    facts_id: str
    facts: dict[str, Fact] = field(compare=False)
    note: str = ""

    @property
    def version(self) -> str:
        """The terms entry's version: the day its facts were last checked ("" with none on record)."""
        return max((f.checked for f in self.facts.values()), default="")

    def fact(self, name: str) -> Fact:
        """One fact; `unknown` for an entry with none on record (a method registered by a plugin)."""
        return self.facts.get(name) or Fact(UNKNOWN, "no data-use facts on record for this entry", "")

    @property
    def trains(self) -> str:
        return str(self.fact("trains").value)

    @property
    def label(self) -> str:
        return f"{self.name} ({self.region_label or self.region})" if self.region else self.name

    def show_command(self) -> str:
        if self.method == self.provider_id:
            where = f"--method {self.method}"
        else:
            where = f"--provider {self.provider_id}"
        return f"qwen terms show {where}" + (f" --region {self.region}" if self.region else "")

    def as_dict(self) -> dict:
        return {
            "entry": self.id,
            "method": self.method,
            "provider": self.provider_id,
            "name": self.name,
            "region": self.region,
            "local": self.local,
            "version": self.version,
            "facts": {
                name: {"value": f.value, "source": f.source, "checked": f.checked} for name, f in self.facts.items()
            },
            "note": self.note or None,
            "answer": answer_line(self),
        }


def _data() -> dict:
    from qwen_cli.catalogue import load

    return load("terms")


def fact_set(facts_id: str) -> tuple[dict[str, Fact], str]:
    """(facts, note) of one `[facts.<id>]` table, following `like`."""
    table = _data()["facts"][facts_id]
    base, note = fact_set(table["like"]) if "like" in table else ({}, "")
    own = {name: Fact(t["value"], t["source"], t["checked"]) for name, t in table.items() if name in FIELDS}
    return {**base, **own}, table.get("note", note)


def _entry(method: str, provider_id: str, name: str, region, local: bool, keys: tuple[str, ...]) -> Entry:
    mapping = _data()["entries"]
    key = next((k for k in keys if k in mapping), keys[0])
    facts_id = mapping.get(key, "")
    facts, note = fact_set(facts_id) if facts_id else ({}, "")
    rid = region.id if region is not None else None
    label = (region.label or region.id) if region is not None else None
    return Entry(keys[0], method, provider_id, name, rid, label, local, facts_id, facts, note)


def entries() -> list[Entry]:
    """Every catalogue entry, in catalogue order (a missing mapping gives an entry without facts: the test
    in tests/catalogue/ names it)."""
    from qwen_cli import catalogue
    from qwen_cli.auth import methods

    found: list[Entry] = []
    for method in methods.all():
        if method.takes_provider:
            for prov in catalogue.providers().values():
                found += _provider_entries(method.id, prov)
        elif method.takes_region:
            for region in catalogue.regions().values():
                found.append(_entry(method.id, method.id, method.title, region, False, (f"{method.id}/{region.id}",)))
        else:
            found.append(_entry(method.id, method.id, method.title, None, False, (method.id,)))
    return found


def _provider_entries(method: str, prov) -> list[Entry]:
    base = prov.catalogue_id or prov.id
    if not prov.regions:
        return [_entry(method, prov.id, prov.name, None, prov.local, (prov.id, base))]
    return [
        _entry(method, prov.id, prov.name, r, prov.local, (f"{prov.id}/{r.id}", f"{base}/{r.id}"))
        for r in prov.regions.values()
    ]


def for_login(method: str, provider: str | None = None, region: str | None = None) -> list[Entry]:
    """The entries a login may reach: one when its region is known (or it has none), else every region's.
    An api-key provider not in the catalogue is `custom`."""
    from qwen_cli.auth import methods

    chosen = methods.get(method)
    pid = (provider or "custom") if chosen.takes_provider else method
    if chosen.takes_provider:
        from qwen_cli import catalogue

        if pid not in catalogue.providers():
            pid = "custom"
    mine = [e for e in entries() if e.method == method and e.provider_id == pid]
    if region:
        wanted = _region_id(mine, method, pid, region)
        picked = [e for e in mine if e.region == wanted]
        if picked:
            return picked
    return mine


def _region_id(mine: list[Entry], method: str, pid: str, region: str) -> str | None:
    from qwen_cli import catalogue

    regions = catalogue.regions() if method == pid else catalogue.provider(pid).regions
    if not regions:
        return None
    try:
        return catalogue.find_region(regions, region, pid).id
    except UsageError:
        return None


def for_credentials(settings: Settings, creds: Credentials) -> list[Entry]:
    """The entries these credentials reach: the region whose URL they use, else the configured one, else all."""
    mine = for_login(creds.method, creds.provider, None)
    if len(mine) <= 1:
        return mine
    region = _credentials_region(settings, creds, mine)
    picked = [e for e in mine if e.region == region]
    return picked or mine


def _credentials_region(settings: Settings, creds: Credentials, mine: list[Entry]) -> str | None:
    from qwen_cli import catalogue

    source = creds.base_url_source or ""
    if source.startswith("region "):
        return source[len("region ") :]
    if source.startswith("providers.") and ".regions." in source:
        return source.split(".regions.", 1)[1].rsplit(".", 1)[0]
    regions = catalogue.regions() if creds.method == creds.provider else catalogue.provider(creds.provider).regions
    base = creds.base_url.rstrip("/")
    for r in regions.values():
        if r.base_url.rstrip("/") == base:
            return r.id
    configured = settings.get("auth.region") if creds.method == creds.provider else None
    return configured if isinstance(configured, str) else None


def trains_text(entry: Entry) -> str:
    """The short answer, as `qwen terms compare` shows it."""
    if entry.local:
        return "no (local)"
    return entry.trains


def retention_text(entry: Entry) -> str:
    value = entry.fact("retention_days").value
    if entry.local:
        return "not sent"
    if value == UNKNOWN:
        return UNKNOWN
    return "not stored" if value == 0 else f"up to {value} days"


def answer_line(entry: Entry) -> str:
    """The one line `qwen auth login` prints: is what I send used for training by default, and who says so."""
    fact = entry.fact("trains")
    who = entry.label
    if entry.local:
        return f"Training: {who}: nothing leaves this machine, so no provider trains on it."
    said = f"({fact.source}, checked {fact.checked})"
    opt_out = entry.fact("opt_out").value
    answers = {
        "no": f"Training: {who} does not use API inputs for training by default {said}.",
        "opt-in": f"Training: {who} uses API inputs for training only if you opt in {said}.",
        "yes": f"Training: {who} uses API inputs for training by default {said}.",
        "opt-out": f"Training: {who} uses API inputs for training unless you opt out ({opt_out}) {said}.",
    }
    return answers.get(
        entry.trains,
        f"Training: whether {who} uses API inputs for training is not on record: {fact.source}.",
    )


def login_line(method: str, provider: str | None = None, region: str | None = None) -> str | None:
    """The training answer for a login, or None when its region is not known and the regions disagree."""
    found = for_login(method, provider, region)
    if not found:
        return None
    if len({(e.trains, e.fact("trains").source) for e in found}) == 1:
        return answer_line(found[0])
    parts = [f"{e.region_label or e.region}: {e.trains}" for e in found]
    command = found[0].show_command().rsplit(" --region ", 1)[0]
    return f"Training: by default it depends on the region of your key ({'; '.join(parts)}); see `{command}`."
