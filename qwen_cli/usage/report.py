"""What `qwen usage` shows: requests and tokens grouped by model, provider or day, estimated costs where the
catalogue has a price, and the Coding Plan's window summary, which `auth status` and chat's /stats print too
(`plan_lines()`, the one renderer)."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from qwen_cli.errors import UsageError

if TYPE_CHECKING:
    from qwen_cli.settings import Settings
    from qwen_cli.usage.windows import Window

BY = ("model", "provider", "day")
NOT_THE_METER = "These figures count what this machine sent, not the provider's own meter."
_SPAN = re.compile(r"^\s*(\d+)\s*([mhdw])\s*$")
_UNITS = {"m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def since_seconds(text: str) -> int:
    """`90m`, `12h`, `7d`, `2w` as seconds; anything else is a usage error."""
    found = _SPAN.match(text or "")
    if not found or int(found.group(1)) == 0:
        raise UsageError(f"--since takes a span like 12h, 7d or 2w, not {text!r}", hint="Units: m, h, d, w.")
    return int(found.group(1)) * _UNITS[found.group(2)]


@dataclass
class Group:
    key: str
    requests: int = 0
    failed: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost: dict[str, float] = field(default_factory=dict)  # currency -> estimate
    unpriced: int = 0  # answered requests with no catalogue price

    def add(self, record: dict[str, Any]) -> None:
        self.requests += 1
        if record["status"] != "ok":
            self.failed += 1
        self.input_tokens += record["input_tokens"] or 0
        self.output_tokens += record["output_tokens"] or 0
        price = price_of(record["provider"], record["model"])
        if price is None:
            self.unpriced += 1
            return
        spent = (
            (record["input_tokens"] or 0) * price["input"] + (record["output_tokens"] or 0) * price["output"]
        ) / 1e6
        self.cost[price["currency"]] = self.cost.get(price["currency"], 0.0) + spent

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "requests": self.requests,
            "failed": self.failed,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "estimated_cost": {k: round(v, 6) for k, v in self.cost.items()} or None,
        }


def key_of(record: dict[str, Any], by: str) -> str:
    if by == "day":
        return time.strftime("%Y-%m-%d", time.gmtime(record["time"]))
    if by == "provider":
        return record["provider"] + (f" ({record['region']})" if record["region"] else "")
    return record["model"] or "(unknown model)"


def group(records: list[dict[str, Any]], by: str) -> tuple[list[Group], Group]:
    groups: dict[str, Group] = {}
    total = Group("total")
    for record in records:
        groups.setdefault(key_of(record, by), Group(key_of(record, by))).add(record)
        total.add(record)
    return sorted(groups.values(), key=lambda g: g.key), total


def price_of(provider: str, model: str) -> dict[str, Any] | None:
    from qwen_cli import catalogue

    found = catalogue.load("providers").get("prices", {}).get(provider, {}).get(model)
    return found if isinstance(found, dict) else None


def prices_used(records: list[dict[str, Any]]) -> list[str]:
    """One line per catalogue price the estimate used: where it is from and when it was read."""
    lines = []
    for provider, model in sorted({(r["provider"], r["model"]) for r in records}):
        price = price_of(provider, model)
        if price is not None:
            lines.append(
                f"{provider} {model}: {price['input']:g} in / {price['output']:g} out {price['currency']} per million"
                f" tokens, from {price['source']}, checked {price['checked']}"
            )
    return lines


def money(cost: dict[str, float]) -> str:
    return ", ".join(f"{v:.4f} {k}" for k, v in sorted(cost.items())) if cost else "-"


# -- the Coding Plan windows: one renderer for `qwen usage`, `qwen auth status` and /stats -----------------------


def plan_lines(settings: Settings, now: float, indent: str = "") -> list[str]:
    """The window summary, or [] when this machine has no Coding Plan record at all."""
    from qwen_cli.usage import ledger, windows

    records = ledger.read(settings.home)
    if not any(r["method"] == windows.plan_method() for r in records):
        return []
    tier = windows.tier(settings)
    found = windows.compute(windows.counted_times(records), now, tier)
    head = f"Coding Plan ({tier})" if tier else "Coding Plan (tier not set)"
    lines = [f"{head}: requests in each window"]
    for w in found:
        count = f"{w.requests:,} of {w.cap:,} ({100 * (w.share or 0):.0f}%)" if w.cap else f"{w.requests:,}"
        lines.append(f"  {w.name:<8} {count:<22} {_leaves(w)}")
    near = windows.closest(found)
    if near is not None:
        lines.append(
            f"  closest to its cap: {near.name}; its oldest request leaves it at {windows.shown(near.leaves_at)}"
        )
    if not tier:
        lines.append("  Set your plan to compare with its caps: qwen config set coding_plan.tier lite (or pro)")
    q = windows.quota()
    lines.append(f"  caps from {q.get('source', 'unknown')} ({q.get('checked', 'unknown')}); {NOT_THE_METER}")
    return [indent + line for line in lines]


def _leaves(w: Window) -> str:
    from qwen_cli.usage import windows

    if w.kind == "week":
        return f"calendar week, next reset {windows.shown(w.start + windows.WEEK)}"
    if w.leaves_at is None:
        return "rolling; empty"
    return f"rolling; oldest leaves at {windows.shown(w.leaves_at)}"


def plan_json(settings: Settings, now: float) -> dict[str, Any] | None:
    from qwen_cli.usage import ledger, windows

    records = ledger.read(settings.home)
    if not any(r["method"] == windows.plan_method() for r in records):
        return None
    tier = windows.tier(settings)
    found = windows.compute(windows.counted_times(records), now, tier)
    near = windows.closest(found)
    q = windows.quota()
    return {
        "tier": tier,
        "windows": [w.as_dict() for w in found],
        "closest": near.name if near else None,
        "caps_source": q.get("source"),
        "caps_checked": q.get("checked"),
        "resets_source": q.get("resets_source"),
        "note": NOT_THE_METER,
    }
