"""The one place that decides which credentials an invocation uses.

Which method: an explicit argument, else `auth.method` (flag > QWEN_AUTH_METHOD > .env > project > user
config). With none chosen, the environment decides: OPENAI_API_KEY/OPENAI_BASE_URL, then DASHSCOPE_API_KEY
(api-key), then BAILIAN_CODING_PLAN_API_KEY (coding-plan), then an existing oauth_creds.json (qwen-oauth),
then the first stored login. A choice in config decides *which*; the environment still supplies *keys*:
for the chosen method/provider its key variable (shell, then .env) wins over the stored key.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from qwen_cli.auth import binding, keystore
from qwen_cli.auth.credentials import Credentials
from qwen_cli.auth.methods import THREE_WAYS, THREE_WAYS_HINT, check_method, dashscope_headers, login_command
from qwen_cli.errors import AuthError, ConfigError, UsageError
from qwen_cli.providers.http import is_local_url

NOTHING_CONFIGURED = THREE_WAYS
NOTHING_CONFIGURED_HINT = THREE_WAYS_HINT
CODING_PLAN_ENV = "BAILIAN_CODING_PLAN_API_KEY"
DEFAULT_REGION = "china"

log = logging.getLogger("qwen_cli.auth")


class NotConfigured(AuthError):
    """Nothing at all is configured: the first-run chooser's cue."""

    def __init__(self):
        super().__init__(NOTHING_CONFIGURED, hint=NOTHING_CONFIGURED_HINT)


@dataclass
class Choice:
    method: str
    provider: str | None
    reason: str  # "flag", "env:QWEN_AUTH_METHOD", "user:/path", "env:OPENAI_API_KEY", "oauth_creds.json", ...


def _env_api_provider(settings) -> tuple[str, str] | None:
    if settings.getenv("OPENAI_BASE_URL"):
        return "custom", settings.env_source("OPENAI_BASE_URL")
    if settings.getenv("OPENAI_API_KEY"):
        return "openai", settings.env_source("OPENAI_API_KEY")
    if settings.getenv("DASHSCOPE_API_KEY"):
        return "dashscope", settings.env_source("DASHSCOPE_API_KEY")
    return None


def api_provider(settings, provider: str | None = None) -> str | None:
    """The api-key provider: explicit, else auth.provider, else what the environment names, else the first stored."""
    if provider:
        return provider
    configured = settings.get("auth.provider")
    if configured:
        return configured
    found = _env_api_provider(settings)
    if found:
        return found[0]
    for entry in keystore.entries(settings.home):
        if entry.method == "api-key":
            return entry.provider
    return None


def choose(settings, method: str | None = None, provider: str | None = None) -> Choice:
    """Which method (and api-key provider) this invocation uses. Reads no secrets, makes no requests."""
    from qwen_cli.auth import token_store

    if method:
        reason = "flag"
    else:
        method, reason = settings.get("auth.method"), settings.source("auth.method")
    if method:
        check_method(method)
        return Choice(method, api_provider(settings, provider) if method == "api-key" else None, reason)
    if provider or settings.get("auth.provider"):
        reason = "flag" if provider else settings.source("auth.provider")
        return Choice("api-key", api_provider(settings, provider), reason)
    found = _env_api_provider(settings)
    if found:
        return Choice("api-key", found[0], found[1])
    if settings.getenv(CODING_PLAN_ENV):
        return Choice("coding-plan", None, settings.env_source(CODING_PLAN_ENV))
    if token_store.creds_path(settings.home).exists():
        return Choice("qwen-oauth", None, "oauth_creds.json")
    for entry in keystore.entries(settings.home):
        return Choice(entry.method, entry.provider, "credentials.toml")
    raise NotConfigured()


def env_secret(settings, name: str) -> tuple[str | None, str]:
    """(key, source) from the environment or a .env file. Surrounding whitespace (a newline pasted with the
    key) is stripped, and --debug says so."""
    raw = settings.getenv(name)
    if not raw:
        return None, ""
    key = raw.strip()
    if key != raw:
        log.debug("removed whitespace around %s (%s)", name, settings.env_source(name))
    return key or None, settings.env_source(name) or ""


def pick_model(settings, explicit: str | None, env_model: str | None, stored: str | None, default: str | None):
    """--model > general.model from flag/env/.env > OPENAI_MODEL > general.model from a file > login's > default."""
    if explicit:
        return explicit
    configured, source = settings.get("general.model"), settings.source("general.model")
    if configured and (source == "flag" or source.startswith(("env:", ".env:"))):
        return configured
    return env_model or configured or stored or default


# -- the three methods ---------------------------------------------------------------------------------


def api_key_credentials(settings, provider_id: str | None, model: str | None = None) -> Credentials:
    from qwen_cli import catalogue

    if not provider_id:
        raise AuthError("the api-key method is selected but no provider is configured",
                        hint=f"Run `{login_command('api-key')} --provider ID`.")
    prov = catalogue.provider(provider_id)
    entry = keystore.get(settings.home, "api-key", provider_id)
    data = entry.data if entry else {}
    openai_like = prov.key_env == "OPENAI_API_KEY"

    token, source = env_secret(settings, prov.key_env) if prov.key_env else (None, "")
    if not token and entry is not None:
        token, source = keystore.secret_of(entry)

    if openai_like and settings.getenv("OPENAI_BASE_URL"):
        base, base_source = settings.getenv("OPENAI_BASE_URL"), settings.env_source("OPENAI_BASE_URL")
    else:
        base, base_source = data.get("base_url") or prov.base_url, "credentials.toml" if data.get("base_url") else ""
    if not base:
        raise ConfigError(
            f"the {prov.id} provider needs a base URL",
            hint=f"Run `qwen auth login --method api-key --provider {prov.id} --base-url URL`, or set OPENAI_BASE_URL.",
        )
    chosen = pick_model(
        settings, model, settings.getenv("OPENAI_MODEL") if openai_like else None, data.get("model"), prov.default_model
    )
    if not chosen:
        raise ConfigError(
            f"no model chosen for the {prov.id} provider",
            hint="Set OPENAI_MODEL, pass --model, or run `qwen config set general.model MODEL`.",
        )
    if token:
        binding.check(
            settings, provider=prov.id, key_source=source, key_name=prov.key_env or "the key", url=base,
            url_source=base_source, url_name="OPENAI_BASE_URL", bound_to=(data.get("base_url"), prov.base_url),
        )
    local = prov.local or is_local_url(base)
    if not token and not local:
        env_hint = f" or set {prov.key_env}" if prov.key_env else ""
        raise AuthError(
            f"no API key for {prov.name}",
            hint=f"Run `{login_command('api-key', prov.id)}`{env_hint}.",
        )
    return Credentials(
        method="api-key",
        provider=prov.id,
        base_url=base.rstrip("/"),
        model=chosen,
        token=token or None,
        source=source if token else "none (local server)",
    )


def coding_plan_region(settings, entry: keystore.Entry | None = None):
    from qwen_cli import catalogue

    name = settings.get("auth.region") or (entry.data.get("region") if entry else None) or DEFAULT_REGION
    return catalogue.region(str(name))


def coding_plan_credentials(settings, model: str | None = None) -> Credentials:
    from qwen_cli import catalogue

    entry = keystore.get(settings.home, "coding-plan")
    data = entry.data if entry else {}
    token, source = env_secret(settings, CODING_PLAN_ENV)
    if not token and entry is not None:
        token, source = keystore.secret_of(entry)
    if not token:
        raise AuthError(
            "no Alibaba Cloud Coding Plan key",
            hint=f"Run `{login_command('coding-plan')}`, or set {CODING_PLAN_ENV}.",
        )
    region = coding_plan_region(settings, entry)
    stored_region = data.get("region")
    base = data.get("base_url") if data.get("base_url") and stored_region in (None, region.id) else region.base_url
    plan = catalogue.coding_plan()
    return Credentials(
        method="coding-plan",
        provider="coding-plan",
        base_url=str(base).rstrip("/"),
        model=pick_model(settings, model, None, data.get("model"), plan["models"][0]),
        token=token,
        headers=dashscope_headers("coding-plan"),
        source=source,
    )


def oauth_model(settings, model: str | None) -> str | None:
    return pick_model(settings, model, None, None, None)


def resolve(settings, method: str | None = None, provider: str | None = None, model: str | None = None) -> Credentials:
    """Credentials for this invocation. Qwen OAuth tokens are refreshed (under the lock) when close to expiry."""
    choice = choose(settings, method, provider)
    if choice.method == "qwen-oauth":
        from qwen_cli.auth import qwen_oauth

        return qwen_oauth.credentials(settings, model=oauth_model(settings, model))
    if choice.method == "coding-plan":
        return coding_plan_credentials(settings, model)
    return api_key_credentials(settings, choice.provider, model)


# -- inventory for `qwen auth status` / `switch` ----------------------------------------------------------


@dataclass
class MethodState:
    method: str
    provider: str | None
    region: str | None = None
    base_url: str | None = None
    model: str | None = None
    source: str | None = None
    masked_key: str | None = None
    expires_at: float | None = None
    store: str | None = None
    active: bool = False
    usable: bool = False
    problem: str | None = None
    problem_hint: str | None = None
    secrets: list[str] = field(default_factory=list, repr=False)

    @property
    def id(self) -> str:
        return self.method if self.method != "api-key" else f"api-key:{self.provider}"


def _state_from(creds: Credentials, region: str | None = None, store: str | None = None) -> MethodState:
    from qwen_cli.secrets import mask

    return MethodState(
        method=creds.method,
        provider=creds.provider,
        region=region,
        base_url=creds.base_url,
        model=creds.model,
        source=creds.source,
        masked_key=mask(creds.token) if creds.token else None,
        expires_at=creds.expires_at,
        store=store,
        usable=True,
        secrets=[creds.token] if creds.token else [],
    )


def _oauth_state(settings) -> MethodState | None:
    from qwen_cli.auth import qwen_oauth, token_store

    if not token_store.creds_path(settings.home).exists():
        return None
    try:
        token = token_store.read_token(settings.home)
    except AuthError as exc:
        return MethodState("qwen-oauth", "qwen", source="oauth_creds.json", problem=exc.message, problem_hint=exc.hint)
    if token is None:
        return None
    creds = qwen_oauth.to_credentials(settings, token, oauth_model(settings, None))
    state = _state_from(creds, store="oauth_creds.json")
    state.secrets.append(token.refresh_token)
    expired = token.seconds_left() <= 0
    state.usable = bool(token.refresh_token) or not expired
    if expired and not token.refresh_token:
        state.problem = "the access token has expired and there is no refresh token"
        state.problem_hint = f"Run `{login_command('qwen-oauth')}`."
    return state


def _failed(method: str, provider: str | None, exc: Exception) -> MethodState:
    message = getattr(exc, "message", str(exc))
    return MethodState(method, provider, problem=message, problem_hint=getattr(exc, "hint", None))


def _coding_plan_state(settings) -> MethodState | None:
    entry = keystore.get(settings.home, "coding-plan")
    if entry is None and not settings.getenv(CODING_PLAN_ENV):
        return None
    try:
        creds = coding_plan_credentials(settings)
        region = coding_plan_region(settings, entry).id
    except (AuthError, UsageError, ConfigError) as exc:
        return _failed("coding-plan", "coding-plan", exc)
    store = entry.store if entry is not None and creds.source in ("credentials.toml", "keyring") else None
    return _state_from(creds, region=region, store=store)


def _api_key_state(settings, provider: str) -> MethodState:
    try:
        creds = api_key_credentials(settings, provider)
    except (AuthError, UsageError, ConfigError) as exc:
        return _failed("api-key", provider, exc)
    entry = keystore.get(settings.home, "api-key", provider)
    store = entry.store if entry is not None and creds.source in ("credentials.toml", "keyring") else None
    return _state_from(creds, store=store)


def inventory(settings) -> tuple[Choice | None, list[MethodState]]:
    """Every method that has credentials (stored, in the environment or in oauth_creds.json), the active one
    marked. Reads local files and the environment only: no refresh, no network."""
    try:
        choice = choose(settings)
    except NotConfigured:
        choice = None
    states: list[MethodState] = []
    oauth = _oauth_state(settings)
    if oauth:
        states.append(oauth)
    plan = _coding_plan_state(settings)
    if plan:
        states.append(plan)
    providers: list[str] = [e.provider for e in keystore.entries(settings.home) if e.method == "api-key"]
    found = _env_api_provider(settings)
    if found and found[0] not in providers:
        providers.append(found[0])
    if choice and choice.method == "api-key" and choice.provider and choice.provider not in providers:
        providers.append(choice.provider)
    for provider in providers:
        states.append(_api_key_state(settings, provider))
    if choice is not None:
        active = next((s for s in states if _matches(s, choice.method, choice.provider)), None)
        if active is None:
            active = MethodState(
                choice.method,
                choice.provider,
                problem=f"{choice.method} is selected but has no credentials",
                problem_hint=f"Run `{login_command(choice.method, choice.provider)}`.",
            )
            states.insert(0, active)
        active.active = True
    return choice, states


def _matches(state: MethodState, method: str, provider: str | None) -> bool:
    return state.method == method and (method != "api-key" or state.provider == provider)
