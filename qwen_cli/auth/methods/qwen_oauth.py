"""Qwen OAuth: your qwen.ai account, logged in with the device flow (auth/qwen_oauth.py) and kept in
oauth_creds.json, the file Qwen Code uses, refreshed under its lock."""

from __future__ import annotations

from typing import TYPE_CHECKING

from qwen_cli.auth.methods.base import BaseMethod, Choice, LoginRequest, LoginResult, StatusEntry, entry_from
from qwen_cli.auth.profiles import current
from qwen_cli.errors import AuthError, UsageError

if TYPE_CHECKING:
    from qwen_cli.auth.credentials import Credentials
    from qwen_cli.auth.oauth_replies import DeviceAuthorization
    from qwen_cli.context import AppContext
    from qwen_cli.errors import QuotaError
    from qwen_cli.settings import Settings
    from qwen_cli.terms import Page

ID = "qwen-oauth"
PROVIDER = "qwen"
LOGIN_COMMAND = f"qwen auth login --method {ID}"


class QwenOAuth(BaseMethod):
    id = ID
    title = "Qwen OAuth"
    short_name = "Qwen OAuth"
    blurb = "log in with your qwen.ai account in a browser (the free tier ended on 2026-04-15)"
    way = "Qwen OAuth"
    own_provider: str | None = PROVIDER
    statistics_may_apply = True
    env_rank = 2
    verified_subject = "the login"

    def login_command(self, provider: str | None = None) -> str:
        return LOGIN_COMMAND

    def from_store(self, settings: Settings) -> Choice | None:
        from qwen_cli import paths  # not token_store: choosing (every command's statistics hook) stays cheap
        from qwen_cli.auth.profiles import file_of

        path = file_of(paths.oauth_creds_file(settings.home), current(settings))
        return Choice(ID, None, path.name) if path.exists() else None

    def stored_logins(self, settings: Settings) -> list[str | None]:
        return [None] if self.from_store(settings) else []

    def credentials(self, settings: Settings, choice: Choice, model: str | None, refresh: bool = True) -> Credentials:
        from qwen_cli.auth import qwen_oauth, token_store
        from qwen_cli.auth.methods.base import pick_model

        chosen, model_source = pick_model(settings, model, (None, ""), None, None)
        if refresh:
            creds = qwen_oauth.credentials(settings, model=chosen)
        else:
            token = token_store.read_token(settings.home, current(settings))
            if token is None:
                raise qwen_oauth.NotLoggedIn()
            creds = qwen_oauth.to_credentials(settings, token, chosen)
        creds.method_source = choice.reason
        creds.model_source = model_source if chosen else "auth.qwen_oauth"
        creds.base_url_source = creds.source
        return creds

    def headers(self) -> dict[str, str]:
        from qwen_cli.providers.http import user_agent

        return {"X-DashScope-CacheControl": "enable", "X-DashScope-UserAgent": user_agent(), "X-DashScope-AuthType": ID}

    def status(self, settings: Settings, choice: Choice | None) -> list[StatusEntry]:
        from qwen_cli.auth import qwen_oauth, token_store
        from qwen_cli.auth.methods.base import pick_model

        profile = current(settings)
        if not token_store.creds_path(settings.home, profile).exists():
            return []
        try:
            token = token_store.read_token(settings.home, profile)
        except AuthError as exc:
            return [
                StatusEntry(
                    ID,
                    PROVIDER,
                    title=self.title,
                    login_id=ID,
                    source=token_store.creds_path(settings.home, profile).name,
                    problem=exc.message,
                    problem_hint=exc.hint,
                )
            ]
        if token is None:
            return []
        creds = qwen_oauth.to_credentials(settings, token, pick_model(settings, None, (None, ""), None, None)[0])
        state = entry_from(creds, self, login_id=ID, store=creds.source)
        state.secret_label = "token"
        state.unknown_expiry = "unknown: the server did not say (refreshed when the API rejects it)"
        state.secrets.append(token.refresh_token)
        expired = token.seconds_left() <= 0
        state.usable = bool(token.refresh_token) or not expired
        if expired and not token.refresh_token:
            state.problem = "the access token has expired and there is no refresh token"
            state.problem_hint = f"Run `{LOGIN_COMMAND}`."
        elif token_store.was_refused(settings.home, token, profile):
            state.usable = False
            state.problem = "the Qwen OAuth login has expired: the server refused its refresh token (invalid_grant)"
            state.problem_hint = f"Log in again: {LOGIN_COMMAND}"
        return [state]

    def login(self, app: AppContext, request: LoginRequest) -> LoginResult:
        from qwen_cli.auth import login, qwen_oauth, token_store

        for flag, _value in request.given():
            raise UsageError(f"{flag} does not apply to Qwen OAuth")
        login.say_terms(app, ID)
        settings = app.settings
        token = qwen_oauth.login(settings, lambda device: _show_device_code(app, device, request.no_browser))
        app.secrets.extend([token.access_token, token.refresh_token])
        from qwen_cli.auth.oauth_endpoints import Endpoints

        endpoints = Endpoints.from_settings(settings)
        result = LoginResult(
            ID,
            None,
            None,
            endpoints.model,
            qwen_oauth.api_base(token.resource_url, endpoints.default_api_base),
            f"token saved in {token_store.creds_path(settings.home, current(settings))}",
        )
        login.finish(app, result, self.title, request.activate)
        if request.verify:  # the device flow stores the token itself; the check comes after
            creds = self.credentials(app.settings, Choice(ID, None, "flag"), None)
            result.verification = login.check(app, creds)
        return result

    def logout(self, settings: Settings, provider: str | None) -> bool:
        from qwen_cli.auth import qwen_oauth

        return qwen_oauth.logout(settings.home, current(settings))

    def models(self, provider: str | None) -> list[str]:
        from qwen_cli import catalogue

        model = catalogue.qwen_oauth().get("model")
        return [model] if model else []

    def quota_error(self, message: str, host: str, hint: str) -> QuotaError:
        from qwen_cli.errors import QuotaError

        hint += " (The Qwen OAuth free tier was discontinued by the provider on 2026-04-15.)"
        return QuotaError(f"Qwen OAuth quota exhausted: {message}", hint=hint)

    def terms_page(self, provider: str | None, region: str | None, strict: bool) -> Page:
        from qwen_cli import terms

        return terms.documents_page(ID, PROVIDER)

    def terms_summary(self, provider: str | None, region: str | None) -> str:
        from qwen_cli import terms

        return terms.documents_summary(ID)


def _hyperlink(app: AppContext, url: str) -> str:
    """The URL (made terminal-safe) itself, wrapped in an OSC-8 hyperlink only when stderr is a real terminal."""
    from qwen_cli.termsafe import clean

    url = clean(url)
    if app.stderr_isatty and app.env.get("TERM") != "dumb":
        return f"\x1b]8;;{url}\x1b\\{url}\x1b]8;;\x1b\\"
    return url


def _show_device_code(app: AppContext, device: DeviceAuthorization, no_browser: bool) -> None:
    out = app.out
    out.info("To log in with Qwen OAuth, open this URL in a browser (on any device) and confirm the code:")
    # Our own OSC 8 around an already cleaned URL: out.info would (rightly) neutralise the escape.
    app.stderr.write(_hyperlink(app, device.verification_uri_complete) + "\n")
    app.stderr.flush()
    out.info(f"Code: {device.user_code}")
    if not no_browser and app.browser.open(device.verification_uri_complete):
        out.info("Opened your browser.")
    out.info("Waiting for approval (Ctrl-C to cancel)...")


METHOD = QwenOAuth()
