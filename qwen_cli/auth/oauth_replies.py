"""Reading what an OAuth endpoint answered: by status and content type first, then the JSON.

oauthlib's parser would turn any body that is not JSON into `missing_token` (a 429 text page while
polling, an HTML captive portal answering a refresh), and it cannot see the status or the content type.
So the replies are classified here, explicitly (RFC 6749 §5.1/§5.2, RFC 8628 §3.2/§3.5):

    Tokens      HTTP 200, a JSON object with an access_token
    Refusal     a JSON object with an OAuth error code (`{"error": "slow_down"}`, also OpenAI-style
                `{"error": {"code": ...}}`), whatever the status
    NotOAuth    anything else: HTML, plain text, an empty body, JSON of another shape; the caller decides
                (a 5xx or 429 may be transient), and `server_error()` says what came back, naming the host
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from qwen_cli.errors import AuthError, ServerError

if TYPE_CHECKING:
    from qwen_cli.auth.http import Reply

MAX_TEXT = 200
# The device code's lifetime: values above an hour are cut to an hour (qwen stops waiting then); a value
# that is not a positive number of seconds up to a day is refused as a broken or hostile server.
DEVICE_LIFETIME_MAX = 3600.0
SANE_SECONDS_MAX = 86400.0
DEVICE_LIFETIME_DEFAULT = 300.0  # when the reply has no expires_in (RFC 8628 makes it REQUIRED)
TOKEN_LIFETIME_MAX = 366 * 86400.0  # an access-token lifetime beyond this is treated as unknown

_NUMBER = re.compile(r"[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?")


def clip(text: object, limit: int = MAX_TEXT) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def json_object(reply: Reply) -> dict[str, Any] | None:
    """The body as a JSON object; None for HTML, an empty body, broken or hostile (deeply nested) JSON."""
    if "html" in reply.content_type:
        return None
    text = reply.text.strip()
    if not text.startswith("{"):
        return None
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return None
    return data if isinstance(data, dict) else None


def number(value: object) -> float:
    """A JSON number or a numeric string ("600") as a finite float; ValueError for anything else."""
    if isinstance(value, bool):
        raise ValueError(value)
    if isinstance(value, str) and _NUMBER.fullmatch(value.strip()):
        value = value.strip()
    elif not isinstance(value, (int, float)):
        raise ValueError(value)
    try:
        result = float(value)
    except OverflowError:
        raise ValueError(value) from None
    if not math.isfinite(result):
        raise ValueError(value)
    return result


# -- token endpoint -----------------------------------------------------------------------------------------


@dataclass
class Tokens:
    params: dict[str, Any]


@dataclass
class Refusal:
    error: str
    description: str
    status: int

    @property
    def detail(self) -> str:
        return self.error + (f": {self.description}" if self.description else "")


@dataclass
class NotOAuth:
    status: int
    what: str  # "an HTML page", "an empty body", "text: ...", "JSON without an access token or error code"


def classify(reply: Reply) -> Tokens | Refusal | NotOAuth:
    data = json_object(reply)
    if data is not None:
        token = data.get("access_token")
        if reply.status == 200 and isinstance(token, str) and token:
            return Tokens(data)
        error, description = _error_of(data)
        if error:
            return Refusal(error, description, reply.status)
    return NotOAuth(reply.status, _describe(reply, data))


def _error_of(data: dict[str, Any]) -> tuple[str, str]:
    error = data.get("error")
    if isinstance(error, dict):  # OpenAI-style {"error": {"code": ..., "message": ...}}
        code, text = error.get("code") or error.get("type"), error.get("message")
    else:
        code, text = error, data.get("error_description")
    code = clip(code, 60) if isinstance(code, str) and code.strip() else ""
    return code, clip(text) if isinstance(text, str) else ""


def _describe(reply: Reply, data: dict[str, Any] | None) -> str:
    if data is not None:
        return "JSON without an access token or an error code"
    if not reply.text.strip():
        return "an empty body"
    if "html" in reply.content_type or reply.text.lstrip()[:1] == "<":
        from qwen_cli.providers.failures import first_line

        title = clip(first_line(reply.text), 80)
        return f"an HTML page ({title})" if title else "an HTML page"
    return f"text: {clip(reply.text, 80)}"


def server_error(reply: Reply, what: str, answer: Tokens | Refusal | NotOAuth, hint: str) -> ServerError:
    """`HOST answered the token refresh with HTTP 404 and an HTML page (Not Found), not an OAuth reply`."""
    if reply.status >= 500 or isinstance(answer, (Tokens, Refusal)):
        detail = f": {answer.detail}" if isinstance(answer, Refusal) else ""
        return ServerError(f"{reply.host} failed with HTTP {reply.status} during {what}{detail}", hint=hint)
    return ServerError(
        f"{reply.host} answered {what} with HTTP {reply.status} and {answer.what}, not an OAuth reply", hint=hint
    )


# -- device authorization -----------------------------------------------------------------------------------


@dataclass
class DeviceAuthorization:
    device_code: str
    user_code: str
    verification_uri: str
    verification_uri_complete: str
    expires_in: float
    interval: float | None  # None: the server did not say (RFC 8628 §3.2: the client then uses 5 s)
    code_verifier: str


def device_authorization(data: dict[str, Any], host: str, verifier: str, allow_http: bool) -> DeviceAuthorization:
    """Check a device authorization reply (RFC 8628 §3.2) before anything from it is shown or opened."""
    from qwen_cli.auth.oauth_endpoints import url_problem

    def bad(text: str) -> AuthError:
        from qwen_cli.auth.methods.qwen_oauth import LOGIN_COMMAND

        return AuthError(
            f"{host} sent an unusable device login reply: {text}",
            hint=f"Check auth.qwen_oauth.base_url if you changed it, or try again: {LOGIN_COMMAND}",
        )

    from qwen_cli.secrets import register

    register(data.get("device_code") if isinstance(data.get("device_code"), str) else None)
    codes = {}
    for name in ("device_code", "user_code"):
        value = data.get(name)
        if not isinstance(value, str) or not value.strip():
            raise bad(f"no {name}")
        codes[name] = value
    uri, complete = data.get("verification_uri"), data.get("verification_uri_complete")
    if not uri and not complete:
        raise bad("no verification_uri")
    for name, value in (("verification_uri", uri), ("verification_uri_complete", complete)):
        problem = None if value is None else url_problem(value, allow_http)
        if problem:
            raise bad(f"{name} {clip(value, 80)!r} may not be shown or opened: {problem}")
    if not complete:
        sep = "&" if "?" in str(uri) else "?"
        complete = f"{uri}{sep}{urlencode({'user_code': codes['user_code']})}"
    # Never None (it has a default) and never 0 (allow_zero=False raises), so `or` only narrows the type.
    expires_in = _seconds(data, "expires_in", DEVICE_LIFETIME_DEFAULT, bad, allow_zero=False) or DEVICE_LIFETIME_DEFAULT
    interval = _seconds(data, "interval", None, bad, allow_zero=True)
    return DeviceAuthorization(
        codes["device_code"],
        codes["user_code"],
        uri or complete,
        complete,
        min(expires_in, DEVICE_LIFETIME_MAX),
        interval,
        verifier,
    )


def _seconds(
    data: dict[str, Any], name: str, default: float | None, bad: Callable[[str], AuthError], allow_zero: bool
) -> float | None:
    if data.get(name) is None:
        return default
    try:
        value = number(data[name])
    except ValueError:
        value = -1.0
    if value < 0 or (value == 0 and not allow_zero) or value > SANE_SECONDS_MAX:
        raise bad(f"{name} {clip(data[name], 40)!r} is not a number of seconds between 0 and {SANE_SECONDS_MAX:g}")
    return value


def token_lifetime(params: dict[str, Any]) -> float | None:
    """expires_in of a token reply in seconds; None when absent or not usable (RFC 6749 §5.1: RECOMMENDED)."""
    try:
        value = number(params.get("expires_in"))
    except ValueError:
        return None
    return value if 0 < value <= TOKEN_LIFETIME_MAX else None
