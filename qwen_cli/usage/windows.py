"""The Coding Plan's quota windows, counted from this machine's ledger.

Each window comes from the catalogue (`[coding-plan.quota]` in data/providers.toml): a rolling window counts
the requests of the last N seconds, and its oldest request leaves it N seconds after it was sent; a `week`
window counts from Monday 00:00 in the plan's time zone, and everything in it leaves at the next Monday.
Only requests the server answered count (status `ok`, or `interrupted` once it had begun): a 429, a 401 or a
request that never arrived is not a request against the cap. These are this machine's figures, never the
provider's own meter: another machine or tool using the same key is not in them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from qwen_cli.settings import Settings

WEEK = 7 * 24 * 3600
COUNTED = ("ok", "interrupted")


@dataclass
class Window:
    name: str
    kind: str  # "rolling" or "week"
    requests: int
    cap: int | None  # None: the plan tier is not set
    start: float  # epoch seconds: the window's beginning at `now`
    leaves_at: float | None  # when the oldest request in it leaves (None: the window is empty)

    @property
    def share(self) -> float | None:
        return self.requests / self.cap if self.cap else None

    @property
    def full(self) -> bool:
        return self.cap is not None and self.requests >= self.cap

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "requests": self.requests,
            "cap": self.cap,
            "percent": None if self.share is None else round(100 * self.share, 1),
            "start": iso(self.start),
            "oldest_leaves_at": iso(self.leaves_at) if self.leaves_at is not None else None,
        }


def plan_method() -> str:
    from qwen_cli.auth.methods.coding_plan import ID

    return ID


def quota() -> dict[str, Any]:
    from qwen_cli import catalogue

    return dict(catalogue.coding_plan().get("quota", {}))


def tier(settings: Settings) -> str | None:
    value = settings.get("coding_plan.tier")
    return str(value) if value else None


def counted_times(records: list[dict[str, Any]]) -> list[float]:
    method = plan_method()
    return sorted(float(r["time"]) for r in records if r["method"] == method and r["status"] in COUNTED)


def compute(times: list[float], now: float, plan_tier: str | None) -> list[Window]:
    """Every window of the catalogue at `now`, from the sorted send times of counted requests."""
    found = []
    for spec in quota().get("windows", []):
        kind = spec["kind"]
        if kind == "week":
            offset = float(spec.get("utc_offset_hours", 0)) * 3600
            start = week_start(now, offset)
            end = start + WEEK
        else:
            start = now - float(spec["seconds"])
            end = None
        inside = [t for t in times if start <= t <= now]  # a rolling window holds requests from start on
        if inside:
            leaves = end if end is not None else inside[0] + float(spec["seconds"])
        else:
            leaves = None
        cap = spec.get(plan_tier) if plan_tier else None
        found.append(Window(spec["name"], kind, len(inside), int(cap) if cap else None, start, leaves))
    return found


def week_start(now: float, offset: float) -> float:
    """Epoch seconds of the latest Monday 00:00 at UTC+offset, at or before `now`."""
    local = now + offset
    days = int(local // 86400)
    monday = days - (days + 3) % 7  # 1970-01-01 was a Thursday: day 0 is 3 days after a Monday
    return monday * 86400 - offset


def closest(windows: list[Window]) -> Window | None:
    """The window nearest its cap (the first of equals); None without caps or requests."""
    best = None
    for window in windows:
        if window.share is not None and window.requests and (best is None or window.share > (best.share or 0)):
            best = window
    return best


def for_settings(settings: Settings, now: float) -> list[Window]:
    from qwen_cli.usage import ledger

    return compute(counted_times(ledger.read(settings.home)), now, tier(settings))


def full_window_note(settings: Settings, method: str, now: float) -> str | None:
    """For a quota error: which window this machine's ledger says is full (or that none is)."""
    if method != plan_method() or tier(settings) is None:
        return None
    windows = for_settings(settings, now)
    full = [w for w in windows if w.full]
    if full:
        w = full[0]
        return (
            f"this machine's usage ledger: the {w.name} window is full, {w.requests:,} of {w.cap:,} requests; "
            f"its oldest request leaves it at {shown(w.leaves_at)}"
        )
    near = closest(windows)
    if near is None:
        return "this machine's usage ledger shows no window full: other machines or tools using this plan count too"
    return (
        f"this machine's usage ledger shows no window full (closest: {near.name}, {near.requests:,} of "
        f"{near.cap:,}): other machines or tools using this plan count too"
    )


def iso(epoch: float) -> str:
    import time

    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def shown(epoch: float | None) -> str:
    import time

    return "-" if epoch is None else time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(epoch))
