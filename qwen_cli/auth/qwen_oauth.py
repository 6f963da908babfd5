"""Qwen OAuth: the device authorization grant (RFC 8628) with PKCE S256, refresh, and the token lifecycle.

oauthlib builds the token-endpoint bodies; requests (through auth.http, which never follows redirects) does
the HTTP; `oauth_replies` reads the answers by status and content type before trusting any JSON;
`oauth_endpoints` decides and checks where requests go; `polling` says when to poll.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import secrets
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from qwen_cli import secrets as redaction
from qwen_cli.auth import oauth_replies as replies
from qwen_cli.auth import token_store
from qwen_cli.auth.credentials import Credentials
from qwen_cli.auth.http import FormClient
from qwen_cli.auth.methods.qwen_oauth import ID as METHOD
from qwen_cli.auth.methods.qwen_oauth import LOGIN_COMMAND as LOGIN_AGAIN
from qwen_cli.auth.methods.qwen_oauth import PROVIDER
from qwen_cli.auth.oauth_endpoints import Endpoints
from qwen_cli.auth.oauth_replies import DeviceAuthorization
from qwen_cli.auth.polling import PollSchedule
from qwen_cli.auth.token_store import OAuthToken
from qwen_cli.errors import AuthError, NetworkError, RateLimitError, raise_if_interrupted

if TYPE_CHECKING:
    from qwen_cli.settings import Settings

log = logging.getLogger("qwen_cli.auth")

BASE_URL_HINT = "Check auth.qwen_oauth.base_url (QWEN_OAUTH_BASE_URL) if you changed it"
UNCHANGED = "your stored login was not changed"
TRANSIENT = ("server_error", "temporarily_unavailable")  # RFC 6749 §4.1.2.1 codes some token endpoints send too


class NotLoggedIn(AuthError):
    def __init__(self) -> None:
        super().__init__("not logged in with Qwen OAuth", hint=f"Run `{LOGIN_AGAIN}`.")


class LoginGone(AuthError):
    def __init__(self, detail: str = "") -> None:
        super().__init__(
            "your Qwen OAuth login has expired or was revoked" + (f" ({detail})" if detail else ""),
            hint=f"Log in again: {LOGIN_AGAIN}",
        )


# Looked up at call time, so in-process tests can swap in a virtual clock (no user-facing knob).
def _sleep(seconds: float) -> None:
    time.sleep(seconds)


def _clock() -> float:
    return time.monotonic()


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


def _device_client(endpoints: Endpoints) -> Any:
    from oauthlib.oauth2 import DeviceClient  # type: ignore[import-untyped,unused-ignore]  # no stubs in the test extra

    return DeviceClient(endpoints.client_id)


def request_device_code(endpoints: Endpoints, client: FormClient) -> DeviceAuthorization:
    url = endpoints.urls(client).device
    verifier, challenge = pkce_pair()
    redaction.register(verifier)
    body = urlencode(
        {
            "client_id": endpoints.client_id,
            "scope": endpoints.scope,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
    )
    reply = client.post_form(url, body)
    answer = replies.classify(reply)
    data = replies.json_object(reply)
    if reply.status == 200 and data is not None and not isinstance(answer, replies.Refusal):
        return replies.device_authorization(data, reply.host, verifier, endpoints.allow_http)
    if isinstance(answer, replies.Refusal) and reply.status < 500:
        raise AuthError(f"{reply.host} refused to start a Qwen OAuth login: {answer.detail}", hint=BASE_URL_HINT + ".")
    if reply.status == 429:
        raise RateLimitError(f"{reply.host} is rate limiting logins (HTTP 429)", hint="Wait a minute and try again.")
    raise replies.server_error(
        reply,
        "the device login request",
        answer,
        hint=("Try again in a moment." if reply.status >= 500 else BASE_URL_HINT + "."),
    )


def token_from_reply(
    params: dict[str, Any], previous: OAuthToken | None = None, now: float | None = None
) -> OAuthToken:
    """Build the stored token from a token-endpoint reply, keeping the old refresh token and resource_url
    when the server sends none. Without a usable expires_in the expiry is unknown (None), not guessed."""
    now = time.time() if now is None else now
    lifetime = replies.token_lifetime(params)

    def text(name: str, fallback: str | None) -> str | None:
        value = params.get(name)
        return value if isinstance(value, str) and value else fallback

    return OAuthToken(
        access_token=params["access_token"],
        refresh_token=text("refresh_token", previous.refresh_token if previous else "") or "",
        token_type=text("token_type", "Bearer") or "Bearer",
        expiry_date=None if lifetime is None else int((now + lifetime) * 1000),
        resource_url=text("resource_url", previous.resource_url if previous else None),
        id_token=text("id_token", previous.id_token if previous else None),
    )


def poll_for_token(
    endpoints: Endpoints,
    client: FormClient,
    device: DeviceAuthorization,
    sleep: Callable[[float], None] | None = None,
    clock: Callable[[], float] | None = None,
) -> OAuthToken:
    """Poll until the user approves, on the schedule of RFC 8628 §3.5 (see `polling`); transient failures
    are retried, less often each time, until the device code expires."""
    sleep = sleep or _sleep
    clock = clock or _clock
    url = endpoints.urls(client).token
    body = _device_client(endpoints).prepare_request_body(
        device.device_code, include_client_id=True, client_id=endpoints.client_id, code_verifier=device.code_verifier
    )
    schedule = PollSchedule(device.interval)
    deadline = clock() + device.expires_in
    while True:
        remaining = deadline - clock()
        if remaining > 0:
            sleep(schedule.wait(remaining))
        raise_if_interrupted()
        if clock() >= deadline:
            raise _expired()
        try:
            reply = client.post_form(url, body)
        except NetworkError as exc:
            schedule.failed()
            log.debug("poll failed (%s); next in %.1f s", exc.message, schedule.wait(deadline - clock()))
            continue
        answer = replies.classify(reply)
        if isinstance(answer, replies.Tokens):
            return token_from_reply(answer.params)
        if reply.status == 429:  # Qwen's slow_down, whatever the body says
            schedule.slow_down()
        elif reply.status >= 500 or (isinstance(answer, replies.Refusal) and answer.error in TRANSIENT):
            schedule.failed()
        elif isinstance(answer, replies.Refusal):
            _on_refusal(answer, schedule)
        else:
            raise replies.server_error(reply, "the login poll", answer, hint=BASE_URL_HINT + ".")
        log.debug("poll: HTTP %d; next in %.1f s", reply.status, schedule.wait(deadline - clock()))


def _on_refusal(answer: replies.Refusal, schedule: PollSchedule) -> None:
    """The RFC 8628 §3.5 error codes; returns to keep polling, raises to stop."""
    if answer.error == "authorization_pending":
        schedule.answered()
    elif answer.error == "slow_down":
        schedule.slow_down()
    elif answer.error == "expired_token":
        raise _expired()
    elif answer.error == "access_denied":
        raise AuthError("the Qwen OAuth login was denied in the browser", hint=f"Run `{LOGIN_AGAIN}` to try again.")
    else:
        raise AuthError(f"Qwen OAuth login failed: {answer.detail}", hint=f"Run `{LOGIN_AGAIN}` to try again.")


def _expired() -> AuthError:
    return AuthError("the login code expired before it was approved", hint=f"Run `{LOGIN_AGAIN}` to start over.")


def refresh(endpoints: Endpoints, client: FormClient, token: OAuthToken) -> OAuthToken:
    """One refresh_token grant (RFC 6749 §6). Only a JSON invalid_grant with 400/401 means the login is gone;
    any other failure leaves it usable for a later try."""
    url = endpoints.urls(client).token
    body = _device_client(endpoints).prepare_refresh_body(
        refresh_token=token.refresh_token, client_id=endpoints.client_id
    )
    reply = client.post_form(url, body)
    answer = replies.classify(reply)
    if isinstance(answer, replies.Tokens):
        return token_from_reply(answer.params, previous=token)
    if isinstance(answer, replies.Refusal) and answer.error == "invalid_grant" and answer.status in (400, 401):
        raise LoginGone(answer.error)
    if reply.status == 429 or (isinstance(answer, replies.Refusal) and answer.error == "slow_down"):
        raise RateLimitError(
            f"{reply.host} is rate limiting token refreshes (HTTP {reply.status})",
            hint=f"Wait a minute and try again; {UNCHANGED}.",
        )
    if isinstance(answer, replies.Refusal) and reply.status < 500 and answer.error not in TRANSIENT:
        raise AuthError(
            f"{reply.host} refused the token refresh (HTTP {reply.status}): {answer.detail}",
            hint=f"{BASE_URL_HINT}; {UNCHANGED}. If it persists, log in again: {LOGIN_AGAIN}",
        )
    hint = "Try again in a moment" if reply.status >= 500 else f"{BASE_URL_HINT}; a proxy or portal may be answering"
    raise replies.server_error(reply, "the token refresh", answer, hint=f"{hint}; {UNCHANGED}.")


def fresh_token(
    home: Path,
    endpoints: Endpoints,
    client: FormClient,
    force: bool = False,
    stale_access_token: str | None = None,
    sleep: Callable[[float], None] = time.sleep,
    profile: str | None = None,
) -> OAuthToken:
    """The stored token, refreshed under the cross-process lock when under 30 s of validity is left
    (or when `force`, e.g. after an API 401). The file is re-read after taking the lock, so when another
    process has refreshed already, its token is used and no second refresh request is made."""
    token = token_store.read_token(home, profile)
    if token is None:
        raise NotLoggedIn()
    if not force and not token.needs_refresh():
        return token
    with token_store.locked(home, sleep=sleep, profile=profile):
        current = token_store.read_token(home, profile)
        if current is None:
            raise NotLoggedIn()
        if force:
            if stale_access_token is not None and current.access_token != stale_access_token:
                return current
        elif not current.needs_refresh():
            return current
        log.debug("refreshing the Qwen OAuth access token (%s)", "forced" if force else "close to expiry")
        try:
            new = refresh(endpoints, client, current)
        except LoginGone:
            token_store.mark_refused(home, current, profile)  # the file stays for Qwen Code; status: expired
            raise
        token_store.write_token(home, new, profile)
        return new


def to_credentials(
    settings: Settings,
    token: OAuthToken,
    model: str | None,
    client: FormClient | None = None,
    endpoints: Endpoints | None = None,
) -> Credentials:
    """Credentials for the OpenAI-compatible adapter; `refresh` forces one refresh (used after an API 401/403,
    and the only refresh a token of unknown lifetime gets)."""
    from qwen_cli.auth.profiles import current

    endpoints = endpoints or Endpoints.from_settings(settings)
    home = settings.home
    profile = current(settings)
    if client is None:
        client = _client(settings)

    def force_refresh() -> Credentials:
        new = fresh_token(home, endpoints, client, force=True, stale_access_token=token.access_token, profile=profile)
        return to_credentials(settings, new, model, client, endpoints)

    return Credentials(
        method=METHOD,
        provider=PROVIDER,
        base_url=api_base(token.resource_url, endpoints.default_api_base),
        model=model or endpoints.model,
        token=token.access_token,
        headers=_headers(),
        source=token_store.creds_path(home, profile).name,
        expires_at=token.expires_at,
        refresh=force_refresh,
        profile=profile,
    )


def _headers() -> dict[str, str]:
    from qwen_cli.auth import methods

    return methods.get(METHOD).headers()


def _client(settings: Settings) -> FormClient:
    from qwen_cli.providers.events import NetworkOptions

    return FormClient(NetworkOptions.from_settings(settings))


def credentials(settings: Settings, model: str | None = None) -> Credentials:
    """Resolve Qwen OAuth credentials, refreshing the access token first when it is about to expire."""
    from qwen_cli.auth.profiles import current

    client = _client(settings)
    endpoints = Endpoints.from_settings(settings)
    token = fresh_token(settings.home, endpoints, client, profile=current(settings))
    return to_credentials(settings, token, model, client, endpoints)


def login(
    settings: Settings,
    on_device: Callable[[DeviceAuthorization], None],
    sleep: Callable[[float], None] | None = None,
    clock: Callable[[], float] | None = None,
) -> OAuthToken:
    """Run the whole device flow and store the token (the active profile's file). Nothing is written unless
    the login succeeds."""
    from qwen_cli.auth.profiles import current

    profile = current(settings)
    endpoints = Endpoints.from_settings(settings)
    client = _client(settings)
    device = request_device_code(endpoints, client)
    on_device(device)
    token = poll_for_token(endpoints, client, device, sleep=sleep, clock=clock)
    with token_store.locked(settings.home, sleep=sleep or time.sleep, profile=profile):
        token_store.write_token(settings.home, token, profile)
    return token


def logout(home: Path, profile: str | None = None) -> bool:
    """Remove oauth_creds.json (or the profile's file) under its lock, so a concurrent refresh can't write
    it back."""
    if not token_store.creds_path(home, profile).exists():
        return False
    with token_store.locked(home, profile=profile):
        return token_store.delete_token(home, profile)
