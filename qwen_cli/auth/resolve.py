"""The one place that decides which credentials an invocation uses; each method resolves itself.

Which method: an explicit argument, else `auth.method` (flag > QWEN_AUTH_METHOD > .env > project > user
config); a provider alone (flag or `auth.provider`) selects the per-provider method (API keys). With none
chosen, the environment decides, in each method's `env_rank` order (OPENAI_BASE_URL / OPENAI_API_KEY /
DASHSCOPE_API_KEY, then BAILIAN_CODING_PLAN_API_KEY), then the first stored login in registry order
(oauth_creds.json, then credentials.toml), then what Qwen Code's settings.json selects (qwen_code_source.py).
A choice in config decides *which*; the environment still supplies *keys*: for the chosen method/provider
its key variable (shell, then .env) wins over the stored key.

Every step reads the active profile's logins (auth/profiles.py). A named profile holds stored logins only,
so neither the environment nor settings.json selects or supplies a key there; and when `auth.method`/
`auth.provider` come from a file and the profile has no such login, the profile's own first login is used
(a profile need not hold the same method as the default one).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from qwen_cli.auth import methods
from qwen_cli.auth.methods.base import Choice, StatusEntry
from qwen_cli.errors import AuthError

if TYPE_CHECKING:
    from qwen_cli.auth.credentials import Credentials
    from qwen_cli.settings import Settings

__all__ = ["Choice", "MethodState", "NotConfigured", "choose", "inventory", "resolve"]

MethodState = StatusEntry  # the name `auth status` code used before the registry


class NotConfigured(AuthError):
    """Nothing at all is configured: the first-run chooser's cue."""

    def __init__(self) -> None:
        message, hint = methods.nothing_configured()
        super().__init__(message, hint=hint)


def choose(settings: Settings, method: str | None = None, provider: str | None = None) -> Choice:
    """Which method (and provider) this invocation uses. Reads no secrets, makes no requests."""
    from qwen_cli import qwen_code_source
    from qwen_cli.auth import profiles

    profile = profiles.current(settings)
    profiles.require(settings, profile)
    chosen = _configured(settings, method, provider)
    if chosen is not None and (profile is None or chosen.reason == "flag" or _stored_in_profile(settings, chosen)):
        return chosen
    from_settings_json = []  # keys only Qwen Code's settings.json `env` supplies: below the stored logins
    for candidate in sorted(methods.all(), key=lambda m: m.env_rank):
        found = candidate.from_environment(settings)
        if found and qwen_code_source.is_source(found.reason):
            from_settings_json.append(found)
        elif found:
            return found
    for candidate in methods.all():
        found = candidate.from_store(settings)
        if found:
            return found
    selected = qwen_code_source.choice(settings) if profile is None else None
    if selected:
        return methods.get(selected[0]).choice(settings, selected[1], selected[2])
    if from_settings_json:
        return from_settings_json[0]
    raise NotConfigured()


def _configured(settings: Settings, method: str | None, provider: str | None) -> Choice | None:
    """The method (and provider) a flag or `auth.method`/`auth.provider` names, else None."""
    if method:
        reason = "flag"
    else:
        method, reason = settings.get("auth.method"), settings.source("auth.method")
        if provider:  # the method is configured, but a flag picked the login
            reason = "flag"
    if method:
        return methods.get(method).choice(settings, provider, reason)
    if provider or settings.get("auth.provider"):
        reason = "flag" if provider else settings.source("auth.provider")
        return methods.provider_method().choice(settings, provider, reason)
    return None


def _stored_in_profile(settings: Settings, choice: Choice) -> bool:
    return choice.provider in methods.get(choice.method).stored_logins(settings)


def resolve(
    settings: Settings,
    method: str | None = None,
    provider: str | None = None,
    model: str | None = None,
    refresh: bool = True,
) -> Credentials:
    """Credentials for this invocation, each part with where it came from. With refresh (the default) a
    Qwen OAuth token close to expiry is refreshed under the lock; refresh=False reads files only, for
    commands that show the resolution without using it."""
    choice = choose(settings, method, provider)
    return methods.get(choice.method).credentials(settings, choice, model, refresh=refresh)


def inventory(settings: Settings, active_profile_only: bool = False) -> tuple[Choice | None, list[StatusEntry]]:
    """Every login of every profile (or, for pickers that switch methods, of the active profile) that has
    credentials (stored, in the environment or in oauth_creds.json), the active one marked. Reads local
    files and the environment only: no refresh, no network."""
    from qwen_cli.auth import profiles

    active_profile = profiles.current(settings)
    try:
        choice: Choice | None = choose(settings)
    except NotConfigured:
        choice = None
    states: list[StatusEntry] = []
    for profile in [active_profile] if active_profile_only else profiles.known(settings):
        mine = profile == active_profile
        view = settings if mine else profiles.using(settings, profile)
        for method in methods.all():
            for state in method.status(view, choice if mine else None):
                state.profile = profile
                state.login_id = state.id + profiles.suffix(profile)
                states.append(state)
    if choice is not None:
        wanted = methods.login_id(choice.method, choice.provider, active_profile)
        active = next((s for s in states if s.id == wanted), None)
        if active is None:
            chosen = methods.get(choice.method)
            active = StatusEntry(
                choice.method,
                choice.provider,
                title=chosen.title,
                login_id=wanted,
                problem=f"{choice.method} is selected but has no credentials",
                problem_hint=f"Run `{chosen.login_command(choice.provider)}`.",
                shows_provider=chosen.takes_provider,
                profile=active_profile,
            )
            states.insert(0, active)
        active.active = True
        if active.origins:
            active.origins["method"] = choice.reason
    return choice, states
