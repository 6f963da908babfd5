"""What an authentication method is (the `AuthMethod` protocol), and the pieces the methods share.

A method answers, for itself: whether the environment or a stored login selects it, the credentials it
resolves (and where each part came from), the entries `qwen auth status` lists, its login procedure, its
logout, its models, whether usage statistics may apply, its terms and its login command. Nothing outside
`auth/methods/` compares method ids.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from qwen_cli.auth.credentials import Credentials
    from qwen_cli.auth.verify import Verification
    from qwen_cli.context import AppContext
    from qwen_cli.errors import QuotaError
    from qwen_cli.settings import Settings
    from qwen_cli.terms import Page

STORED_SOURCES = ("credentials.toml", "keyring")


@dataclass
class Choice:
    """Which method (and provider) an invocation uses, and why. Reads no secrets."""

    method: str
    provider: str | None
    reason: str  # "flag", "env:QWEN_AUTH_METHOD", "user:/path", "env:OPENAI_API_KEY", "oauth_creds.json", ...


@dataclass
class LoginRequest:
    """What `qwen auth login` (or the chooser, or /auth) was given; anything missing is asked for."""

    provider: str | None = None
    region: str | None = None
    base_url: str | None = None
    model: str | None = None
    key_stdin: bool = False
    store: str | None = None
    no_browser: bool = False
    browser: bool = False  # the provider's browser login (OpenRouter's PKCE) instead of a pasted key
    verify: bool = False
    activate: bool = True
    protocol: str | None = None  # the custom provider's wire protocol (openai, anthropic, gemini)

    def given(self) -> list[tuple[str, object]]:
        """(flag, value) for the flags that were given, for "does not apply" checks."""
        flags = (
            ("--provider", self.provider),
            ("--region", self.region),
            ("--base-url", self.base_url),
            ("--key-stdin", self.key_stdin or None),
            ("--browser", self.browser or None),
            ("--protocol", self.protocol),
        )
        return [(name, value) for name, value in flags if value]


@dataclass
class LoginResult:
    """What a login stored, for the confirmation line and `--json`."""

    method: str
    provider: str | None
    region: str | None
    model: str | None
    base_url: str | None
    stored_in: str  # where the secret lives, as a phrase for the "Logged in" line
    verification: Verification | None = None


@dataclass
class StatusEntry:
    """One login as `qwen auth status` and the pickers show it. It renders itself: `label()` and `lines()`."""

    method: str
    provider: str | None
    title: str = ""
    login_id: str = ""
    region: str | None = None
    base_url: str | None = None
    model: str | None = None
    source: str | None = None
    masked_key: str | None = None
    fingerprint: str | None = None  # of the secret in use: verification results are shown only for it
    expires_at: float | None = None
    store: str | None = None
    active: bool = False
    usable: bool = False
    problem: str | None = None
    problem_hint: str | None = None
    overridden: str | None = None  # "sk-…abcd in credentials.toml, overridden by OPENAI_API_KEY"
    secret_label: str = "key"
    shows_provider: bool = False
    unknown_expiry: str | None = None  # what to say when a secret has no known expiry
    origins: dict[str, str] = field(default_factory=dict)  # Credentials.origins(): where each part came from
    protocol: str | None = None  # the wire protocol of an API-key login (openai, anthropic, gemini)
    profile: str | None = None  # the profile the login is stored under (auth/profiles.py); None: the default
    secrets: list[str] = field(default_factory=list, repr=False)

    @property
    def id(self) -> str:
        return self.login_id or self.method

    @property
    def condition(self) -> str:
        """valid, expired (refreshed on use), invalid, or missing."""
        if self.problem and not self.usable:
            return "invalid" if self.source else "missing"
        if self.expires_at is not None and self.expires_at <= _now():
            return "expired"
        return "valid"

    def label(self) -> str:
        named = f" [profile {self.profile}]" if self.profile else ""
        if self.shows_provider:
            return f"{self.title} ({self.provider}){named}"
        if self.region:
            return f"{self.title} ({self.region}){named}"
        return self.title + named

    def lines(
        self, source_text: str, now: float, terms: str, verified: Verification | None, relative: Any
    ) -> list[tuple[str, str]]:
        """(name, value) rows under the label. `relative(seconds)` words a time difference."""
        rows: list[tuple[str, str]] = []
        if self.problem:
            rows.append(("problem", self.problem + (f" ({self.problem_hint})" if self.problem_hint else "")))
        if self.shows_provider:
            rows.append(("provider", self.provider or "-"))
            if self.protocol:
                rows.append(("protocol", self.protocol))
        if self.region:
            rows.append(("region", self.region))
        if self.base_url:
            rows.append(("base URL", self.base_url))
        if self.model:
            rows.append(("model", self.model))
        if self.source and self.source.startswith("none"):
            rows.append(("key", "none needed (local server)"))
        elif self.source:
            rows.append((self.secret_label, f"{self.masked_key or 'none'} from {source_text}"))
        if self.overridden:
            rows.append(("stored", self.overridden))
        if self.expires_at is not None:
            left = self.expires_at - now
            note = " (refreshed automatically on next use)" if left < 30 and self.usable else ""
            rows.append(("expires" if left >= 0 else "expired", relative(left) + note))
        elif self.unknown_expiry and self.masked_key:
            rows.append(("expires", self.unknown_expiry))
        rows.append(("terms", terms))
        if verified is not None:
            mark = "ok" if verified.ok else "FAILED"
            rows.append(("verified", f"{mark}, {relative(verified.at - now)}: {verified.what}: {verified.detail}"))
        elif self.usable:
            rows.append(("verified", "not yet (qwen auth status --verify checks with one request)"))
        return rows


def _now() -> float:
    import time

    return time.time()


class AuthMethod(Protocol):
    id: str
    title: str  # "Qwen OAuth"
    short_name: str  # in sentences and hints: "Qwen OAuth", "Coding Plan", "API key"
    blurb: str  # the chooser's line
    way: str  # in "log in with Qwen OAuth, an Alibaba Cloud Coding Plan key, or an API key"
    takes_provider: bool  # logins are per provider (`--provider`, `auth.provider`)
    takes_region: bool  # logins name a region (`--region`, `auth.region`)
    own_provider: str | None  # the one provider of a method without a choice of them ("qwen")
    statistics_may_apply: bool  # telemetry policy rule 2: False means never collected
    env_rank: int  # environment detection runs in this order (lower first)
    verified_subject: str  # "the key works": what a passed check speaks of

    def login_command(self, provider: str | None = None) -> str: ...

    def from_environment(self, settings: Settings) -> Choice | None:
        """This method, when the environment alone selects it (no auth.method configured)."""
        ...

    def from_store(self, settings: Settings) -> Choice | None:
        """This method, when a stored login of it exists (the last step of auto-detection)."""
        ...

    def choice(self, settings: Settings, provider: str | None, reason: str) -> Choice: ...

    def credentials(
        self, settings: Settings, choice: Choice, model: str | None, refresh: bool = True
    ) -> Credentials: ...

    def status(self, settings: Settings, choice: Choice | None) -> list[StatusEntry]:
        """Every login of this method that has credentials (stored or in the environment). No network."""
        ...

    def login(self, app: AppContext, request: LoginRequest) -> LoginResult: ...

    def logout(self, settings: Settings, provider: str | None) -> bool: ...

    def stored_logins(self, settings: Settings) -> list[str | None]:
        """The providers (None for a method without them) that have a stored login, for `logout --all`."""
        ...

    def models(self, provider: str | None) -> list[str]:
        """The models the catalogue (or a stored login) names for this method, without asking the server."""
        ...

    def headers(self) -> dict[str, str]: ...

    def quota_error(self, message: str, host: str, hint: str) -> QuotaError: ...

    def terms_page(self, provider: str | None, region: str | None, strict: bool) -> Page: ...

    def terms_summary(self, provider: str | None, region: str | None) -> str: ...

    def overview_row(self) -> dict[str, str]: ...

    def env_keys(self, settings: Settings) -> list[str]:
        """Environment variables that supply this method's secrets (logout says they stay set)."""
        ...

    def status_region(self, settings: Settings) -> str | None:
        """The region of the stored login, for methods that have regions."""
        ...


class BaseMethod:
    """Defaults for a method; each module overrides what differs."""

    id = ""
    title = ""
    short_name = ""
    blurb = ""
    way = ""
    takes_provider = False
    takes_region = False
    own_provider: str | None = None
    statistics_may_apply = False
    env_rank = 100
    verified_subject = "the key"

    def login_command(self, provider: str | None = None) -> str:
        return f"qwen auth login --method {self.id}"

    def from_environment(self, settings: Settings) -> Choice | None:
        return None

    def from_store(self, settings: Settings) -> Choice | None:
        return None

    def choice(self, settings: Settings, provider: str | None, reason: str) -> Choice:
        return Choice(self.id, None, reason)

    def stored_logins(self, settings: Settings) -> list[str | None]:
        return []

    def logout(self, settings: Settings, provider: str | None) -> bool:
        from qwen_cli.auth import keystore
        from qwen_cli.auth.profiles import current

        return keystore.remove(settings.home, self.id, provider, current(settings))

    def models(self, provider: str | None) -> list[str]:
        return []

    def headers(self) -> dict[str, str]:
        return {}

    def quota_error(self, message: str, host: str, hint: str) -> QuotaError:
        from qwen_cli.errors import QuotaError

        return QuotaError(f"quota exhausted at {host}: {message}", hint=hint)

    def terms_summary(self, provider: str | None, region: str | None) -> str:
        return f"Terms: {self.title}: see `qwen terms show --method {self.id}`."

    def overview_row(self) -> dict[str, str]:
        from qwen_cli import terms

        return terms.overview_row(self.id)

    def env_keys(self, settings: Settings) -> list[str]:
        return []

    def status_region(self, settings: Settings) -> str | None:
        return None

    def terms_page(self, provider: str | None, region: str | None, strict: bool) -> Page:
        from qwen_cli import terms

        return terms.documents_page(self.id, self.id)


# -- shared by the methods -------------------------------------------------------------------------------


def env_secret(settings: Settings, name: str) -> tuple[str | None, str]:
    """(key, source) from the environment or a .env file. Surrounding whitespace (a newline pasted with the
    key) is stripped, and --debug says so."""
    raw = settings.getenv(name)
    if not raw:
        return None, ""
    key = raw.strip()
    if key != raw:
        import logging

        logging.getLogger("qwen_cli.auth").debug("removed whitespace around %s (%s)", name, settings.env_source(name))
    return key or None, settings.env_source(name) or ""


def pick_model(
    settings: Settings, explicit: str | None, env_model: tuple[str | None, str], stored: str | None, default: str | None
) -> tuple[str | None, str]:
    """(model, where it came from): --model > general.model from flag/env/.env > OPENAI_MODEL >
    general.model from a file > the login's > the default."""
    if explicit:
        return explicit, "flag"
    configured, source = settings.get("general.model"), settings.source("general.model")
    if configured and (source == "flag" or source.startswith(("env:", ".env:"))):
        return configured, source
    if env_model[0]:
        return env_model
    if configured:
        return configured, source
    if stored:
        return stored, "credentials.toml"
    return default, "catalogue" if default else ""


def fingerprint(secret: str | None) -> str | None:
    """A short, one-way name for a secret: verification results are kept against it."""
    if not secret:
        return None
    import hashlib

    return "sha256:" + hashlib.sha256(secret.encode("utf-8")).hexdigest()[:16]


def entry_from(
    creds: Credentials, method: AuthMethod, *, login_id: str, region: str | None = None, store: str | None = None
) -> StatusEntry:
    from qwen_cli.secrets import mask

    return StatusEntry(
        method=creds.method,
        provider=creds.provider,
        title=method.title,
        login_id=login_id,
        region=region,
        base_url=creds.base_url,
        model=creds.model,
        source=creds.source,
        masked_key=mask(creds.token) if creds.token else None,
        fingerprint=fingerprint(creds.token),
        expires_at=creds.expires_at,
        store=store,
        usable=True,
        shows_provider=method.takes_provider,
        origins=creds.origins(),
        secrets=[creds.token] if creds.token else [],
        protocol=creds.protocol if method.takes_provider else None,
    )


def failed_entry(method: AuthMethod, provider: str | None, login_id: str, exc: Exception) -> StatusEntry:
    from qwen_cli.errors import QwenError

    problem, hint = (exc.message, exc.hint) if isinstance(exc, QwenError) else (str(exc), None)
    return StatusEntry(
        method.id,
        provider,
        title=method.title,
        login_id=login_id,
        problem=problem,
        problem_hint=hint,
        shows_provider=method.takes_provider,
    )


def overridden_text(stored_secret: str | None, stored_where: str, creds: Credentials, var: str) -> str | None:
    """For a stored key that an environment variable (or .env) replaces: what is stored, and what wins."""
    if not stored_secret or not creds.source.startswith(("env:", ".env:")) or stored_secret == creds.token:
        return None
    from qwen_cli.secrets import mask

    by = var if creds.source.startswith("env:") else f"{var} in the .env file {creds.source[5:]}"
    return f"{mask(stored_secret)} in {stored_where}, overridden by {by}"
