"""`privacy.require_no_training`: the one decision whether a request may go to a provider, by its data-use facts.

`true` refuses a provider whose terms entry says it trains on what you send by default (`yes`, `opt-out`);
`"strict"` also refuses one whose answer is `unknown`. Read from the user's config or the environment only
(settings.py drops a project file's or a .env file's value with a warning). Checked before a request leaves:
`qwen ask`, `qwen chat` (cli/common.credentials_for) and every key verification (auth/login.check).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from qwen_cli.errors import ConfigError

if TYPE_CHECKING:
    from qwen_cli.auth.credentials import Credentials
    from qwen_cli.data_use import Entry
    from qwen_cli.settings import Settings

SETTING = "privacy.require_no_training"
MODES = ("false", "true", "strict")


class TrainingRefused(ConfigError):
    """A request the user's own privacy setting forbids (exit 8, as every refusal a setting makes)."""

    kind = "privacy"


def mode(settings: Settings) -> str | None:
    """ "true", "strict", or None when the guard is off."""
    value = settings.get(SETTING)
    return value if value in ("true", "strict") else None


def refuses(entry: Entry, guard: str | None) -> bool:
    from qwen_cli.data_use import TRAINS_BY_DEFAULT, UNKNOWN

    if guard is None or entry.local:
        return False
    return entry.trains in TRAINS_BY_DEFAULT or (guard == "strict" and entry.trains == UNKNOWN)


def check(settings: Settings, creds: Credentials) -> None:
    """Raise TrainingRefused when the guard is on and these credentials reach a provider it refuses. Costs
    nothing (no data file is read) while the guard is off."""
    guard = mode(settings)
    if guard is None:
        return
    from qwen_cli import data_use

    _refuse_any(settings, guard, data_use.for_credentials(settings, creds))


def check_login(settings: Settings, method: str, provider: str | None, region: str | None) -> None:
    guard = mode(settings)
    if guard is None:
        return
    from qwen_cli import data_use

    _refuse_any(settings, guard, data_use.for_login(method, provider, region))


def _refuse_any(settings: Settings, guard: str, reached: list[Entry]) -> None:
    """Refuse when any entry the request may reach is refused: with the region unknown, the strictest wins."""
    refused = next((e for e in reached if refuses(e, guard)), None)
    if refused is None:
        return
    fact = refused.fact("trains")
    said = "trains on API inputs by default" if refused.trains != "unknown" else "does not say whether it trains"
    raise TrainingRefused(
        f"refusing to send this request to {refused.label}: its terms entry {said} "
        f"(trains: {refused.trains}; source: {fact.source}, checked {fact.checked}), "
        f"and {SETTING} = {guard} ({settings.source(SETTING)})",
        hint=f"Use a provider that does not train by default (`qwen terms compare`), or change {SETTING} "
        "in your user config or environment.",
    )


def describe(settings: Settings) -> str | None:
    """One line for `auth status`, `terms show` and the chat banner; None while the guard is off."""
    guard = mode(settings)
    if guard is None:
        return None
    allowed = "no, opt-in and local servers" + ("" if guard == "strict" else ", and unknown")
    return (
        f"Privacy guard: {SETTING} = {guard} ({settings.source(SETTING)}): requests go only to providers whose "
        f"training answer is {allowed}."
    )
