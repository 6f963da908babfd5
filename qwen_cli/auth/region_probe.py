"""A key that finds its region: after a provider with regions rejects a key, the same key is tried against the
sibling regions' GET /models, only on that provider's own catalogue hosts (or the user's overrides of them),
so the key never leaves its provider."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from qwen_cli.errors import AuthError, QwenError

if TYPE_CHECKING:
    from qwen_cli.auth.credentials import Credentials
    from qwen_cli.auth.verify import Verification
    from qwen_cli.context import AppContext
    from qwen_cli.settings import Settings

PROBE_TIMEOUT = 5.0  # seconds per sibling region: a person is waiting


class KeyFromAnotherRegion(AuthError):
    """The key was rejected here but accepted by `region`; the hint is the command that fixes the login."""

    def __init__(self, message: str, hint: str, region: str) -> None:
        super().__init__(message, hint=hint)
        self.region = region


def accepting_region(settings: Settings, siblings: Iterable[tuple[str, Credentials]]) -> str | None:
    """The first sibling region whose GET /models accepts the credentials built for it (no retries)."""
    from qwen_cli.providers import openai_compat
    from qwen_cli.providers.events import NetworkOptions

    for region_id, creds in siblings:
        network = NetworkOptions.from_settings(settings, creds.provider)
        network.connect_timeout = min(network.connect_timeout or PROBE_TIMEOUT, PROBE_TIMEOUT)
        network.read_timeout = min(network.read_timeout or PROBE_TIMEOUT, PROBE_TIMEOUT)
        try:
            openai_compat.list_models(creds, network, retries=0)
        except QwenError:
            continue
        return region_id
    return None


def rejected(
    settings: Settings,
    what: str,
    region: str,
    siblings: Iterable[tuple[str, Credentials]],
    command: Callable[[str], str],
) -> KeyFromAnotherRegion | None:
    """The error naming the region that accepted the key, or None when no sibling did."""
    found = accepting_region(settings, siblings)
    if found is None:
        return None
    return KeyFromAnotherRegion(
        f"{what} rejected the key in the {region} region, but the {found} region accepted it",
        hint=f"Log in for that region: {command(found)}",
        region=found,
    )


def after_rejection(
    settings: Settings, what: str, creds: Credentials, urls: dict[str, str], command: Callable[[str], str]
) -> Credentials:
    """The `refresh` of region-bound credentials, called after a 401/403: raises the error naming the sibling
    region (of `urls`, region id -> base URL) that accepts the key, with the command that fixes the login;
    else returns the same credentials once more, so the provider's own answer is what gets reported."""
    import dataclasses

    urls = {rid: url.rstrip("/") for rid, url in urls.items()}
    current = next((rid for rid, url in urls.items() if url == creds.base_url), None)
    if current is not None:
        siblings = [
            (rid, dataclasses.replace(creds, base_url=url, refresh=None))
            for rid, url in urls.items()
            if rid != current and url != creds.base_url
        ]
        found = rejected(settings, what, current, siblings, command)
        if found is not None:
            raise found
    return dataclasses.replace(creds, refresh=None)


def verify_finding_region(
    app: AppContext,
    what: str,
    region: str,
    regions: Iterable[str],
    candidate: Callable[[str], Credentials],
    command: Callable[[str], str],
) -> tuple[Verification, str]:
    """`--verify` before saving, in `region`. A key that region rejects is tried in the other `regions`: the one
    that accepts it is named with the command that fixes the login, or, on a terminal, offered instead.
    Returns the verification and the region it passed in."""
    from qwen_cli.auth import login

    others = list(regions)
    while True:
        try:
            return login.verify_before_saving(app, candidate(region), region=region), region
        except AuthError as exc:
            if isinstance(exc, KeyFromAnotherRegion):
                raise
            siblings = [(rid, candidate(rid)) for rid in others if rid != region]
            found = rejected(app.settings, what, region, siblings, command)
            if found is None:
                raise
            ask = app.prompter
            question = f"{what}'s {found.region} region accepts this key. Log in there instead?"
            if not ask.interactive or not ask.confirm(question, need="", flag="", default=True):
                raise found from None
            region = found.region
