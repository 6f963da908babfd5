"""Qwen OAuth: the device authorization grant (RFC 8628) with PKCE S256, refresh, and the token lifecycle.

oauthlib builds the token-endpoint bodies and turns error replies into typed exceptions; requests
(through auth.http) does the HTTP, so loopback test servers and enterprise gateways over http work too.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

from qwen_cli.auth import token_store
from qwen_cli.auth.credentials import Credentials
from qwen_cli.auth.http import FormClient
from qwen_cli.auth.methods import dashscope_headers
from qwen_cli.auth.token_store import OAuthToken
from qwen_cli.errors import AuthError, RateLimitError, ServerError

log = logging.getLogger("qwen_cli.auth")

METHOD = "qwen-oauth"
DEVICE_PATH = "/api/v1/oauth2/device/code"
TOKEN_PATH = "/api/v1/oauth2/token"
DEFAULT_POLL_INTERVAL = 2.0
MAX_POLL_INTERVAL = 10.0
LOGIN_AGAIN = "qwen auth login --method qwen-oauth"


class NotLoggedIn(AuthError):
    def __init__(self):
        super().__init__("not logged in with Qwen OAuth", hint=f"Run `{LOGIN_AGAIN}`.")


class LoginGone(AuthError):
    def __init__(self, detail: str = ""):
        super().__init__(
            "your Qwen OAuth login has expired or was revoked" + (f" ({detail})" if detail else ""),
            hint=f"Log in again: {LOGIN_AGAIN}",
        )


@dataclass(frozen=True)
class Endpoints:
    base_url: str
    client_id: str
    scope: str
    default_api_base: str
    model: str

    @property
    def device_url(self) -> str:
        return self.base_url + DEVICE_PATH

    @property
    def token_url(self) -> str:
        return self.base_url + TOKEN_PATH

    @classmethod
    def from_settings(cls, settings) -> Endpoints:
        from qwen_cli import catalogue

        data = catalogue.qwen_oauth()
        base = settings.get("auth.qwen_oauth.base_url") or data["base_url"]
        return cls(base.rstrip("/"), data["client_id"], data["scope"], data["default_api_base"], data["model"])


@dataclass
class DeviceAuthorization:
    device_code: str
    user_code: str
    verification_uri: str
    verification_uri_complete: str
    expires_in: float
    interval: float
    code_verifier: str


def pkce_pair() -> tuple[str, str]:
    """(verifier, challenge): 32 random bytes base64url-encoded, and base64url(SHA-256(verifier)), unpadded."""
    verifier = _b64url(secrets.token_bytes(32))
    challenge = _b64url(hashlib.sha256(verifier.encode("ascii")).digest())
    return verifier, challenge


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def api_base(resource_url: str | None, default: str) -> str:
    """`portal.qwen.ai` -> `https://portal.qwen.ai/v1`; a scheme or `/v1` already there is kept, not doubled."""
    if not resource_url or not resource_url.strip():
        return default.rstrip("/")
    url = resource_url.strip().rstrip("/")
    if "://" not in url:
        url = "https://" + url
    if not url.endswith("/v1"):
        url += "/v1"
    return url


def _device_client(endpoints: Endpoints):
    from oauthlib.oauth2 import DeviceClient

    return DeviceClient(endpoints.client_id)


def _json(text: str) -> dict | None:
    import json

    try:
        data = json.loads(text)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def request_device_code(endpoints: Endpoints, client: FormClient) -> DeviceAuthorization:
    verifier, challenge = pkce_pair()
    body = urlencode(
        {
            "client_id": endpoints.client_id,
            "scope": endpoints.scope,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
    )
    reply = client.post_form(endpoints.device_url, body)
    data = _json(reply.text)
    if reply.status >= 500:
        raise ServerError(f"the Qwen OAuth server failed to start a login (HTTP {reply.status})",
                          hint="Try again in a moment.")
    if reply.status != 200 or data is None or not data.get("device_code") or not data.get("user_code"):
        detail = _error_text(data) or f"HTTP {reply.status}"
        raise AuthError(f"the Qwen OAuth server refused to start a login: {detail}",
                        hint="Check auth.qwen_oauth.base_url (QWEN_OAUTH_BASE_URL) if you changed it.")
    uri = str(data.get("verification_uri") or "")
    complete = str(data.get("verification_uri_complete") or "")
    if not complete:
        sep = "&" if "?" in uri else "?"
        complete = f"{uri}{sep}{urlencode({'user_code': data['user_code']})}"
    interval = data.get("interval")
    return DeviceAuthorization(
        device_code=str(data["device_code"]),
        user_code=str(data["user_code"]),
        verification_uri=uri or complete,
        verification_uri_complete=complete,
        expires_in=float(data.get("expires_in") or 300),
        interval=float(interval) if isinstance(interval, (int, float)) and interval >= 0 else DEFAULT_POLL_INTERVAL,
        code_verifier=verifier,
    )


def _error_text(data: dict | None) -> str:
    if not data:
        return ""
    error = data.get("error")
    if isinstance(error, dict):  # OpenAI-style {"error": {"message": ...}}
        return str(error.get("message") or error.get("code") or "")
    text = str(error or "")
    if data.get("error_description"):
        text += f": {data['error_description']}"
    return text


def token_from_reply(params: dict, previous: OAuthToken | None = None, now: float | None = None) -> OAuthToken:
    """Build the stored token from a token-endpoint reply, keeping the old refresh token and resource_url
    when the server sends none."""
    now = time.time() if now is None else now
    try:
        lifetime = float(params.get("expires_in"))
    except (TypeError, ValueError):
        lifetime = 3600.0
    refresh = params.get("refresh_token") or (previous.refresh_token if previous else "")
    resource = params.get("resource_url") or (previous.resource_url if previous else None)
    return OAuthToken(
        access_token=str(params["access_token"]),
        refresh_token=str(refresh),
        token_type=str(params.get("token_type") or "Bearer"),
        expiry_date=int((now + lifetime) * 1000),
        resource_url=str(resource) if resource else None,
        id_token=params.get("id_token") or (previous.id_token if previous else None),
    )


def poll_for_token(
    endpoints: Endpoints,
    client: FormClient,
    device: DeviceAuthorization,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> OAuthToken:
    """Poll until the user approves; RFC 8628 errors handled, transient failures retried until expiry."""
    from oauthlib.oauth2.rfc6749.errors import OAuth2Error

    from qwen_cli.errors import NetworkError

    oauth = _device_client(endpoints)
    body = oauth.prepare_request_body(
        device.device_code, include_client_id=True, client_id=endpoints.client_id, code_verifier=device.code_verifier
    )
    interval = device.interval
    deadline = clock() + device.expires_in
    while True:
        sleep(interval)
        if clock() >= deadline:
            raise _expired()
        try:
            reply = client.post_form(endpoints.token_url, body)
        except NetworkError:
            continue
        if reply.status >= 500:
            continue
        try:
            params = oauth.parse_request_body_response(reply.text)
        except OAuth2Error as exc:
            error = exc.error
            if error == "authorization_pending":
                continue
            if error == "slow_down":
                interval = min(interval * 1.5, MAX_POLL_INTERVAL)
                continue
            if error == "expired_token":
                raise _expired() from None
            if error == "access_denied":
                raise AuthError("the Qwen OAuth login was denied in the browser",
                                hint=f"Run `{LOGIN_AGAIN}` to try again.") from None
            detail = error + (f": {exc.description}" if exc.description else "")
            raise AuthError(f"Qwen OAuth login failed: {detail}", hint=f"Run `{LOGIN_AGAIN}` to try again.") from None
        except (ValueError, Warning):
            if reply.status == 429:
                interval = min(interval * 1.5, MAX_POLL_INTERVAL)
                continue
            raise AuthError(f"Qwen OAuth login failed: unexpected reply (HTTP {reply.status})",
                            hint=f"Run `{LOGIN_AGAIN}` to try again.") from None
        return token_from_reply(dict(params))


def _expired() -> AuthError:
    return AuthError("the login code expired before it was approved", hint=f"Run `{LOGIN_AGAIN}` to start over.")


def refresh(endpoints: Endpoints, client: FormClient, token: OAuthToken) -> OAuthToken:
    """One refresh_token grant. invalid_grant (or any 400/401) means the login is gone."""
    from oauthlib.oauth2.rfc6749.errors import OAuth2Error

    oauth = _device_client(endpoints)
    body = oauth.prepare_refresh_body(refresh_token=token.refresh_token, client_id=endpoints.client_id)
    reply = client.post_form(endpoints.token_url, body)
    if reply.status >= 500:
        raise ServerError(f"the Qwen OAuth server failed to refresh the token (HTTP {reply.status})",
                          hint="Try again in a moment.")
    if reply.status == 429:
        raise RateLimitError("the Qwen OAuth server is rate limiting token refreshes (HTTP 429)",
                             hint="Wait a minute and try again.")
    try:
        params = oauth.parse_request_body_response(reply.text)
    except OAuth2Error as exc:
        raise LoginGone(exc.error) from None
    except (ValueError, Warning):
        if reply.status in (400, 401, 403):
            raise LoginGone(f"HTTP {reply.status}") from None
        raise ServerError(f"unexpected reply from the Qwen OAuth token endpoint (HTTP {reply.status})") from None
    if reply.status in (400, 401, 403):
        raise LoginGone(f"HTTP {reply.status}")
    return token_from_reply(dict(params), previous=token)


def fresh_token(
    home: Path,
    endpoints: Endpoints,
    client: FormClient,
    force: bool = False,
    stale_access_token: str | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> OAuthToken:
    """The stored token, refreshed under the cross-process lock when under 30 s of validity is left
    (or when `force`, e.g. after an API 401). The file is re-read after taking the lock, so when another
    process has refreshed already, its token is used and no second refresh request is made."""
    token = token_store.read_token(home)
    if token is None:
        raise NotLoggedIn()
    if not force and not token.needs_refresh():
        return token
    with token_store.locked(home, sleep=sleep):
        current = token_store.read_token(home)
        if current is None:
            raise NotLoggedIn()
        if force:
            if stale_access_token is not None and current.access_token != stale_access_token:
                return current
        elif not current.needs_refresh():
            return current
        log.debug("refreshing the Qwen OAuth access token (%s)", "forced" if force else "close to expiry")
        new = refresh(endpoints, client, current)
        token_store.write_token(home, new)
        return new


def to_credentials(settings, token: OAuthToken, model: str | None, client: FormClient | None = None) -> Credentials:
    """Credentials for the OpenAI-compatible adapter; `refresh` forces one refresh (used after an API 401/403)."""
    endpoints = Endpoints.from_settings(settings)
    home = settings.home
    if client is None:
        client = _client(settings)

    def force_refresh() -> Credentials:
        new = fresh_token(home, endpoints, client, force=True, stale_access_token=token.access_token)
        return to_credentials(settings, new, model, client)

    return Credentials(
        method=METHOD,
        provider="qwen",
        base_url=api_base(token.resource_url, endpoints.default_api_base),
        model=model or endpoints.model,
        token=token.access_token,
        headers=dashscope_headers("qwen-oauth"),
        source="oauth_creds.json",
        expires_at=token.expires_at,
        refresh=force_refresh,
    )


def _client(settings) -> FormClient:
    from qwen_cli.providers.events import NetworkOptions

    return FormClient(NetworkOptions.from_settings(settings))


def credentials(settings, model: str | None = None) -> Credentials:
    """Resolve Qwen OAuth credentials, refreshing the access token first when it is about to expire."""
    client = _client(settings)
    token = fresh_token(settings.home, Endpoints.from_settings(settings), client)
    return to_credentials(settings, token, model, client)


def login(
    settings,
    on_device: Callable[[DeviceAuthorization], None],
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> OAuthToken:
    """Run the whole device flow and store the token. Nothing is written unless the login succeeds."""
    endpoints = Endpoints.from_settings(settings)
    client = _client(settings)
    device = request_device_code(endpoints, client)
    on_device(device)
    token = poll_for_token(endpoints, client, device, sleep=sleep, clock=clock)
    with token_store.locked(settings.home, sleep=sleep):
        token_store.write_token(settings.home, token)
    return token


def logout(home: Path) -> bool:
    """Remove oauth_creds.json under the lock, so a concurrent refresh can't write it back."""
    if not token_store.creds_path(home).exists():
        return False
    with token_store.locked(home):
        return token_store.delete_token(home)
