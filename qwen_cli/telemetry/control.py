"""Usage statistics as data: the state `qwen telemetry status` and chat's /telemetry show, and switching
them on or off (`set_enabled`). No printing here: the commands word the results."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from qwen_cli.settings import Settings
    from qwen_cli.telemetry.policy import Decision


@dataclass(frozen=True)
class Switched:
    on: bool
    file: Path  # the config file that now says so
    dropped: int  # queued events deleted (switching off)


def set_enabled(settings: Settings, on: bool) -> Switched:
    """Write `privacy.usage_statistics` to the user's config. Off also deletes everything queued: the
    setting first, so a sender that starts after this sees it; one already sending holds the send lock,
    which clear() waits for."""
    from qwen_cli.settings import write_value
    from qwen_cli.telemetry import spool

    write_value(settings.user_file, "privacy.usage_statistics", on)
    dropped = 0 if on else spool.clear(settings.home)
    if on:
        spool.mark_notice_shown(settings.home)
    return Switched(on, settings.user_file, dropped)


def state(app: Any, settings: Settings) -> tuple[Decision, dict[str, Any]]:
    """The decision for this invocation (the method the resolver chooses) and the status payload."""
    from qwen_cli.telemetry import policy, spool

    method, source = policy.invocation_method(app, settings)
    decision = policy.decide(settings, method, source)
    data = decision.as_dict()
    data["exports"] = decision.endpoint is not None
    data["queued"] = spool.count(settings.home)
    data["spool"] = str(spool.queue_file(settings.home))
    data["notice_shown"] = spool.notice_shown(settings.home)
    return decision, data
