"""A real loopback OAuth 2.0 device-authorization server (RFC 8628 + PKCE S256) at Qwen's paths.

    stub = OAuthStub().start()
    POST {stub.base_url}/api/v1/oauth2/device/code   -> device_code, user_code, verification_uri(_complete), ...
    stub.approve()                                    (or auto_approve_after = N)
    POST {stub.base_url}/api/v1/oauth2/token         -> access_token, refresh_token, ...
    stub.stop()

Polls for a device code answer, in order of precedence: invalid client -> scripted item (script_poll) ->
unknown/used code (invalid_grant) -> PKCE mismatch (invalid_grant) -> expired_token -> access_denied ->
authorization_pending -> tokens.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import string
import time
from collections import deque

from tests.servers.openai_stub import Recorded, Response, StubHandler, StubServer

CLIENT_ID = "f0304373b74a44d2b584a3fb70ca9e56"
SCOPE = "openid profile email model.completion"
DEVICE_PATH = "/api/v1/oauth2/device/code"
TOKEN_PATH = "/api/v1/oauth2/token"
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"

_GATEWAY_TIMEOUT_HTML = (
    "<html>\r\n<head><title>504 Gateway Time-out</title></head>\r\n<body>\r\n"
    "<center><h1>504 Gateway Time-out</h1></center>\r\n</body>\r\n</html>\r\n"
)


def pkce_challenge(verifier: str) -> str:
    """base64url(sha256(verifier)) without padding (RFC 7636 S256)."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _user_code() -> str:
    letters = "".join(secrets.choice("BCDFGHJKLMNPQRSTVWXZ") for _ in range(4))
    digits = "".join(secrets.choice(string.digits) for _ in range(4))
    return f"{letters}-{digits}"


class Device:
    def __init__(self, device_code, user_code, challenge, scope, expires_in):
        self.device_code = device_code
        self.user_code = user_code
        self.challenge = challenge
        self.scope = scope
        self.expires_at = time.monotonic() + expires_in
        self.status = "pending"  # pending | approved | denied | expired | used
        self.polls = 0


class OAuthStub(StubServer):
    def __init__(self):
        super().__init__()
        self.client_id = CLIENT_ID
        self.device_expires_in = 300
        self.interval: int | None = 0
        self.token_expires_in = 3600
        self.resource_url: str | None = None
        self.rotate_refresh = True
        self.echo_refresh_token = False
        self.token_delay = 0.0
        self.auto_approve_after: int | None = None
        self.on_token_issued = None  # callable(access_token)
        self.device_requests = 0
        self.token_requests = 0
        self.refresh_requests = 0
        self.poll_requests = 0
        self.devices: dict[str, Device] = {}  # by device_code
        self.refresh_tokens: set[str] = set()  # currently valid
        self.access_tokens: list[str] = []  # every access token issued, in order
        self._latest: Device | None = None
        self._poll_script: deque = deque()

    @property
    def base_url(self) -> str:
        return self.base

    @property
    def device_url(self) -> str:
        return self.base + DEVICE_PATH

    @property
    def token_url(self) -> str:
        return self.base + TOKEN_PATH

    # -- test controls
    def _device(self, user_code: str | None) -> Device:
        with self._lock:
            if user_code is None:
                if self._latest is None:
                    raise LookupError("no device code has been requested yet")
                return self._latest
            for dev in self.devices.values():
                if dev.user_code == user_code:
                    return dev
        raise LookupError(f"unknown user code {user_code!r}")

    def approve(self, user_code: str | None = None) -> None:
        with self._lock:
            self._device(user_code).status = "approved"

    def deny(self, user_code: str | None = None) -> None:
        with self._lock:
            self._device(user_code).status = "denied"

    def expire(self, user_code: str | None = None) -> None:
        with self._lock:
            self._device(user_code).status = "expired"

    @property
    def latest(self) -> Device | None:
        return self._latest

    def wait_for_device(self, timeout: float = 5.0) -> Device:
        """Block until a device code has been requested; returns it."""
        deadline = time.monotonic() + timeout
        while self._latest is None and time.monotonic() < deadline:
            time.sleep(0.01)
        if self._latest is None:
            raise TimeoutError("no device code was requested")
        return self._latest

    def script_poll(self, *items) -> None:
        """Queue answers for the next device-code polls: "slow_down" (429), any other error name (400),
        an int status (504 -> HTML gateway page, other -> JSON server_error), or an openai_stub Response."""
        with self._lock:
            self._poll_script.extend(items)

    def issue_tokens(
        self, refresh_token: str | None = None, access_token: str | None = None, scope: str = SCOPE
    ) -> dict:
        """Mint (and register) a token pair; returns the token-endpoint response body."""
        access = access_token or "qat-" + secrets.token_urlsafe(24)
        refresh = refresh_token or "qrt-" + secrets.token_urlsafe(24)
        with self._lock:
            self.refresh_tokens.add(refresh)
            self.access_tokens.append(access)
        if self.on_token_issued is not None:
            self.on_token_issued(access)
        body = {
            "access_token": access,
            "refresh_token": refresh,
            "token_type": "Bearer",
            "expires_in": self.token_expires_in,
            "scope": scope,
        }
        if self.resource_url is not None:
            body["resource_url"] = self.resource_url
        return body

    def revoke_refresh_tokens(self) -> None:
        """Invalidate every refresh token (the user's login is gone)."""
        with self._lock:
            self.refresh_tokens.clear()

    def _count(self, *names: str) -> None:
        with self._lock:
            for name in names:
                setattr(self, name, getattr(self, name) + 1)

    # -- serving
    def dispatch(self, h: StubHandler, rec: Recorded) -> None:
        path = rec.path.split("?")[0].rstrip("/")
        if rec.method == "POST" and path in (DEVICE_PATH, TOKEN_PATH):
            ctype = rec.headers.get("content-type", "").split(";")[0].strip().lower()
            if ctype != "application/x-www-form-urlencoded":
                h.send_json(
                    400, {"error": "invalid_request", "error_description": "expected application/x-www-form-urlencoded"}
                )
                return
            if path == DEVICE_PATH:
                self._device_code(h, rec.form)
            else:
                self._token(h, rec.form)
        elif rec.method == "GET" and path == "/authorize":
            self._authorize_page(h, rec)
        else:
            h.send_json(404, {"error": "not_found", "error_description": f"{rec.method} {path}"})

    def _bad_client(self, h, form) -> bool:
        if form.get("client_id") != self.client_id:
            h.send_json(400, {"error": "invalid_client", "error_description": "Unknown client_id"})
            return True
        return False

    def _device_code(self, h, form):
        self._count("device_requests")
        if self._bad_client(h, form):
            return
        challenge = form.get("code_challenge", "")
        if form.get("code_challenge_method") != "S256" or not challenge:
            h.send_json(400, {"error": "invalid_request", "error_description": "PKCE S256 code_challenge required"})
            return
        dev = Device(secrets.token_urlsafe(32), _user_code(), challenge, form.get("scope", ""), self.device_expires_in)
        with self._lock:
            self.devices[dev.device_code] = dev
            self._latest = dev
        body = {
            "device_code": dev.device_code,
            "user_code": dev.user_code,
            "verification_uri": self.base + "/authorize",
            "verification_uri_complete": f"{self.base}/authorize?user_code={dev.user_code}&client=qwen-code",
            "expires_in": self.device_expires_in,
        }
        if self.interval is not None:
            body["interval"] = self.interval
        h.send_json(200, body)

    def _token(self, h, form):
        grant = form.get("grant_type")
        if grant == DEVICE_GRANT:
            self._count("token_requests", "poll_requests")
            if not self._bad_client(h, form):
                self._poll(h, form)
        elif grant == "refresh_token":
            self._count("token_requests", "refresh_requests")
            if self.token_delay:
                h.sleep(self.token_delay)
            if not self._bad_client(h, form):
                self._refresh(h, form)
        else:
            self._count("token_requests")
            h.send_json(400, {"error": "unsupported_grant_type", "error_description": f"{grant!r}"})

    def _scripted(self, h, item) -> None:
        if isinstance(item, Response):
            item.send(h, None)
        elif isinstance(item, int):
            if item == 504:
                h.send_simple(504, _GATEWAY_TIMEOUT_HTML.encode(), {"Content-Type": "text/html"})
            else:
                h.send_json(item, {"error": "server_error", "error_description": f"HTTP {item}"})
        elif item == "slow_down":
            h.send_json(429, {"error": "slow_down", "error_description": "Polling too frequently"})
        else:
            h.send_json(400, {"error": str(item)})

    def _poll(self, h, form):
        with self._lock:
            item = self._poll_script.popleft() if self._poll_script else None
            dev = self.devices.get(form.get("device_code", ""))
            if dev is not None:
                dev.polls += 1
        if item is not None:
            self._scripted(h, item)
            return
        if dev is None or dev.status == "used":
            h.send_json(400, {"error": "invalid_grant", "error_description": "Invalid or already used device code"})
            return
        if pkce_challenge(form.get("code_verifier", "")) != dev.challenge:
            h.send_json(400, {"error": "invalid_grant", "error_description": "PKCE verification failed"})
            return
        with self._lock:
            if dev.status == "pending" and time.monotonic() >= dev.expires_at:
                dev.status = "expired"
            if dev.status == "pending" and self.auto_approve_after is not None and dev.polls > self.auto_approve_after:
                dev.status = "approved"
            status = dev.status
            if status == "approved":
                dev.status = "used"
        if status == "expired":
            h.send_json(400, {"error": "expired_token", "error_description": "The device code has expired"})
        elif status == "denied":
            h.send_json(400, {"error": "access_denied", "error_description": "The user denied the request"})
        elif status == "pending":
            h.send_json(400, {"error": "authorization_pending"})
        else:
            h.send_json(200, self.issue_tokens(scope=dev.scope or SCOPE))

    def _refresh(self, h, form):
        token = form.get("refresh_token", "")
        if self.echo_refresh_token:  # a careless server that repeats the secret in its error
            h.send_json(400, {"error": "invalid_request", "error_description": f"bad refresh_token {token}"})
            return
        with self._lock:
            valid = token in self.refresh_tokens
            if valid and self.rotate_refresh:
                self.refresh_tokens.discard(token)
        if not valid:
            h.send_json(400, {"error": "invalid_grant", "error_description": "Refresh token expired or invalid"})
            return
        body = self.issue_tokens(refresh_token=None if self.rotate_refresh else token)
        if not self.rotate_refresh:
            del body["refresh_token"]
        h.send_json(200, body)

    def _authorize_page(self, h, rec):
        """A stand-in for the browser page; GET /authorize?user_code=X&approve=1 approves (handy for pexpect)."""
        from urllib.parse import parse_qs, urlsplit

        query = parse_qs(urlsplit(rec.path).query)
        code = (query.get("user_code") or [None])[0]
        if code and (query.get("approve") or [""])[0] in ("1", "true", "yes"):
            try:
                self.approve(code)
            except LookupError:
                h.send_simple(404, b"unknown user code", {"Content-Type": "text/plain"})
                return
            h.send_simple(200, b"<html><body>Approved</body></html>", {"Content-Type": "text/html"})
            return
        h.send_simple(200, b"<html><body>Authorize qwen-code</body></html>", {"Content-Type": "text/html"})


__all__ = ["CLIENT_ID", "SCOPE", "DEVICE_GRANT", "DEVICE_PATH", "TOKEN_PATH", "OAuthStub", "pkce_challenge"]
