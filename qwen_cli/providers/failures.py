"""Turning HTTP failures into the QwenError family: one line that says what happened, and a hint.

Every body is read defensively: HTML, plain text or broken JSON never surface as a JSONDecodeError.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from qwen_cli.errors import (
    AuthError,
    NetworkError,
    QwenError,
    RateLimitError,
    RequestError,
    ServerError,
)

if TYPE_CHECKING:
    from requests import Response

    from qwen_cli.auth.credentials import Credentials
    from qwen_cli.providers.events import NetworkOptions

_QUOTA = re.compile(
    r"quota|free[ _-]?tier|exceeded your current|insufficient[ _]balance|arrearage|billing",
    re.IGNORECASE,
)
_PLAN_WINDOWS = (
    # "hour allocated quota exceeded" is the Coding Plan's own 5-hour message (its FAQ, read 2026-12-01).
    (re.compile(r"\b(5|five)[ -]?(h|hr|hrs|hour|hours)\b|\bhour allocated quota", re.IGNORECASE), "5-hour"),
    (re.compile(r"\bweek(ly)?\b", re.IGNORECASE), "weekly"),
    (re.compile(r"\bmonth(ly)?\b", re.IGNORECASE), "monthly"),
)
_TAG = re.compile(r"<[^>]+>")
_MISSING_MODEL = re.compile(
    r"model_not_found|invalid model|unknown model|no such model|model\b.{0,80}?\b(?:does not exist|not found)",
    re.IGNORECASE,
)
MAX_MESSAGE = 300


def host_of(url: str) -> str:
    """host[:port] of a URL, without any user:password@ in it."""
    parts = urlsplit(url)
    return parts.netloc.rpartition("@")[2] if parts.netloc else url


def without_userinfo(url: str) -> str:
    """The URL with user:password@ removed, for messages (proxy URLs often carry a password)."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return parts._replace(netloc=host_of(url)).geturl()


def message_from_body(body: bytes | str, status: int | None = None, reason: str | None = None) -> str:
    """The server's own words: the JSON error message if there is one, else the first line of text."""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else (body or "")
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if data is not None:
        found = message_from_json(data)
        if found:
            return _clip(found)
    return _clip(first_line(text)) or (f"{status} {reason}".strip() if status else "empty response")


def message_from_json(data: Any) -> str | None:
    if isinstance(data, list) and data:
        return message_from_json(data[0])
    if not isinstance(data, dict):
        return str(data) if isinstance(data, str) and data else None
    err = data.get("error", data)
    if isinstance(err, str):
        return err
    if isinstance(err, dict):
        for key in ("message", "msg", "detail", "error_description", "error"):
            value = err.get(key)
            if isinstance(value, str) and value:
                return value
            if isinstance(value, (dict, list)):
                nested = message_from_json(value)
                if nested:
                    return nested
        code = err.get("code")
        if isinstance(code, str) and code:
            return code
    detail = data.get("detail") or data.get("message")
    if isinstance(detail, str):
        return detail
    return None


def error_code(data: Any) -> str:
    if isinstance(data, dict):
        err = data.get("error", data)
        if isinstance(err, dict):
            return " ".join(str(err.get(k) or "") for k in ("code", "type", "status")).strip()
    return ""


def first_line(text: str) -> str:
    """First non-empty line of text; for HTML, the page's text with tags removed (a <title> usually)."""
    if "<" in text and ">" in text:
        title = re.search(r"<title[^>]*>(.*?)</title>", text, re.IGNORECASE | re.DOTALL)
        if title and title.group(1).strip():
            return " ".join(title.group(1).split())
        text = _TAG.sub("\n", text)
    for line in text.splitlines():
        line = line.strip()
        if line:
            return line
    return ""


def _clip(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_MESSAGE else text[: MAX_MESSAGE - 1] + "…"


def _body(response: Response) -> bytes:
    try:
        return response.content or b""
    except Exception:  # noqa: BLE001 - a body that cannot be read is just an empty body
        return b""


def _json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        return None


def is_quota(message: str, code: str = "") -> bool:
    return bool(_QUOTA.search(message) or _QUOTA.search(code))


def plan_window(message: str) -> str | None:
    for pattern, name in _PLAN_WINDOWS:
        if pattern.search(message):
            return name
    return None


def quota_or_rate_error(message: str, code: str, credentials: Credentials, attempts: int = 1) -> RateLimitError:
    if not is_quota(message, code):
        tried = f" after {attempts} attempts" if attempts > 1 else ""
        return RateLimitError(
            f"rate limited by {host_of(credentials.base_url)}{tried}: {message}",
            hint="Wait a little and try again; network.max_retries sets how often qwen retries by itself.",
        )
    from qwen_cli.auth import methods

    method = methods.METHODS.get(credentials.method, methods.provider_method())
    others = [m.short_name for m in methods.all() if m.id != method.id]
    hint = (
        "Waiting a few seconds won't help. Switch method with `qwen auth switch` "
        f"({', '.join(others[:-1])} or {others[-1]}), or wait until the quota resets."
    )
    return method.quota_error(message, host_of(credentials.base_url), hint)


def response_error(response: Response, credentials: Credentials, url: str, status: int | None = None) -> QwenError:
    """The error for an HTTP response with status >= 400 (or an unexpected 1xx/3xx). `status`: the one the
    body's own error type means, where the protocol names one (Gemini answers a bad key with 400)."""
    shown = response.status_code
    status = status or shown
    body = _body(response)
    data = _json(body)
    message = message_from_body(body, shown, getattr(response, "reason", None))
    attempts = getattr(response, "attempts", 1)
    host = host_of(url)
    if status in (401, 403):
        source = f" (key from {credentials.source})" if credentials.source else ""
        return AuthError(
            f"{host} rejected the credentials with HTTP {shown}{source}: {message}",
            hint="Check them with `qwen auth status`, or log in again with `qwen auth login`.",
        )
    if status == 429:
        return quota_or_rate_error(message, error_code(data), credentials, attempts)
    if 400 <= status < 500:
        return RequestError(
            f"{host} rejected the request with HTTP {shown}: {message}", hint=_request_hint(status, message)
        )
    if status >= 500:
        tried = f" after {attempts} attempts" if attempts > 1 else ""
        return ServerError(
            f"{host} failed with HTTP {shown}{tried}: {message}",
            hint="The provider is having trouble; try again later.",
        )
    return ServerError(f"unexpected HTTP {shown} from {host}: {message}", hint="Check the base URL.")


_TOO_LONG = re.compile(
    r"context.?(length|window)|maximum.{0,20}tokens|too many tokens|prompt is too long|input.{0,20}too long"
    r"|reduce the length",
    re.IGNORECASE,
)
TOO_LONG_HINT = (
    "The input is longer than the model's context: send less (a shorter -f file or prompt), or pick a "
    "model with a larger context window."
)


def _request_hint(status: int, message: str = "") -> str:
    """Every rejection gets advice: the specific kind where the status or the text says which."""
    if status == 413 or _TOO_LONG.search(message):
        return TOO_LONG_HINT
    if status == 404:
        return "Check the base URL (it usually ends in /v1) and the model name."
    return "The provider refused this request as it was sent; its reason is above. Check the model and options."


def stream_error(payload: Any, credentials: Credentials, status: int | None = None) -> QwenError:
    """An `{"error": ...}` object that arrived inside a 200 stream. `status`: the HTTP status its error type
    means, where the protocol names one (Anthropic's `authentication_error` is 401)."""
    message = _clip(message_from_json(payload) or "the server reported an error mid-stream")
    code = error_code(payload)
    status = status or _status_in(payload)
    if status == 429 or re.search(r"rate.?limit|too many requests|quota", f"{message} {code}", re.IGNORECASE):
        return quota_or_rate_error(message, code, credentials)
    if status in (401, 403):
        return AuthError(f"the server rejected the credentials mid-stream: {message}", hint="Run `qwen auth status`.")
    if status is not None and 400 <= status < 500:
        return RequestError(
            f"the server rejected the request mid-stream: {message}", hint=_request_hint(status, message)
        )
    return ServerError(
        f"the server reported an error mid-stream: {message}", hint="Try again; the answer is incomplete."
    )


def _status_in(payload: Any) -> int | None:
    """An HTTP status carried in an error object's code or status, as a number or a string ("500")."""
    err = payload.get("error") if isinstance(payload, dict) else None
    if not isinstance(err, dict):
        return None
    for key in ("code", "status"):
        value = err.get(key)
        if isinstance(value, str) and value.strip().isdigit():
            value = int(value)
        if isinstance(value, int) and not isinstance(value, bool) and 400 <= value <= 599:
            return value
    return None


def is_missing_model(status: int, body: bytes) -> bool:
    """A 404, or a 400/422 that says the model is unknown (LiteLLM answers "Invalid model name" with 400)."""
    if status == 404:
        return True
    return status in (400, 422) and bool(_MISSING_MODEL.search(f"{message_from_body(body)} {error_code(_json(body))}"))


def _causes(exc: BaseException) -> Iterator[BaseException]:
    seen = set()
    todo = [exc]
    while todo:
        e = todo.pop()
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        yield e
        # ssl.SSLError.reason is a string ("WRONG_VERSION_NUMBER"), urllib3's is an exception
        linked = (*getattr(e, "args", ()), getattr(e, "reason", None), e.__cause__, e.__context__)
        todo.extend(x for x in linked if isinstance(x, BaseException))


def _has(exc: BaseException, *names: str, text: tuple[str, ...] = ()) -> bool:
    for e in _causes(exc):
        if isinstance(e, BaseException) and type(e).__name__ in names:
            return True
        if text and any(t in str(e) for t in text):
            return True
    return False


TLS_HINT = (
    "If a proxy or TLS inspection re-signs traffic, point network.ca_bundle, REQUESTS_CA_BUNDLE or "
    "SSL_CERT_FILE at its CA certificate (PEM)."
)
PROXY_HINT = "Check --proxy / network.proxy and HTTPS_PROXY / NO_PROXY."


def exception_error(exc: BaseException, url: str, network: NetworkOptions, attempts: int = 1) -> QwenError:
    """A requests/urllib3 exception as one line: DNS, refused, timeout, TLS, proxy, or reset."""
    host = host_of(url)
    parts = urlsplit(url)
    tried = f" after {attempts} attempts" if attempts > 1 else ""
    if _has(exc, "SSLCertVerificationError", text=("CERTIFICATE_VERIFY_FAILED",)):
        return NetworkError(f"TLS verification failed for {host}: {_ssl_detail(exc)}", hint=TLS_HINT)
    if _has(exc, "SSLError"):
        return NetworkError(
            f"the TLS handshake with {host} failed: {_ssl_detail(exc)}",
            hint="Check the base URL's scheme and port: does the server speak https:// there, or plain http://?",
        )
    if _has(exc, "ProxyError"):
        proxy = network.proxy
        proxy = without_userinfo(proxy) if proxy else "set in HTTPS_PROXY/HTTP_PROXY"
        return NetworkError(f"cannot connect through the proxy ({proxy}){tried}: {_reason(exc)}", hint=PROXY_HINT)
    if _has(exc, "ConnectTimeout", "ConnectTimeoutError"):
        return NetworkError(
            f"timed out connecting to {host}{tried} (network.connect_timeout = {network.connect_timeout:g}s)",
            hint="Check your connection or proxy (HTTPS_PROXY, --proxy), or raise network.connect_timeout.",
        )
    if _has(exc, "ReadTimeout", "ReadTimeoutError"):
        return StreamTimeout(
            f"{host} sent nothing for {network.read_timeout:g}s (network.read_timeout)",
            hint="The server may be overloaded; try again or raise network.read_timeout.",
        )
    if is_permanent(exc):
        return NetworkError(
            f"cannot resolve {parts.hostname} (DNS lookup failed){tried}",
            hint="Check the base URL and your connection; behind a proxy set HTTPS_PROXY or --proxy.",
        )
    if _has(exc, "ConnectionRefusedError", text=("Connection refused",)):
        return NetworkError(
            f"connection refused by {host}{tried}",
            hint="Is the server running, and is the base URL's port right?",
        )
    if _has(exc, "ChunkedEncodingError", "ProtocolError", "IncompleteRead", text=("ended prematurely",)):
        return NetworkError(f"{host} closed the connection early", hint="Check your connection and retry.")
    if _has(exc, "InvalidURL", "MissingSchema", "InvalidSchema", "LocationParseError"):
        from qwen_cli.errors import ConfigError

        return ConfigError(f"invalid URL {url!r}", hint="Fix the base URL (OPENAI_BASE_URL or `qwen auth login`).")
    return NetworkError(f"connection to {host} failed{tried}: {_short(exc)}", hint="Check your connection and retry.")


class StreamTimeout(NetworkError):
    """A timeout waiting for data (network.read_timeout or network.idle_timeout): nothing was cut, nothing came."""


def headers_timeout_error(url: str, network: NetworkOptions) -> NetworkError:
    return NetworkError(
        f"{host_of(url)} did not finish sending response headers within {network.headers_timeout:g}s "
        "(network.headers_timeout)",
        hint="The server is stalling; try again later, or raise network.headers_timeout for a slow gateway.",
    )


def is_permanent(exc: BaseException) -> bool:
    """A DNS failure (of the host or of the proxy) won't be fixed by retrying in a second."""
    return _has(exc, "NameResolutionError", "gaierror", text=_DNS_TEXTS)


_DNS_TEXTS = ("Name or service not known", "nodename nor servname", "Temporary failure in name resolution")


def _reason(exc: BaseException) -> str:
    if _has(exc, "ConnectionRefusedError", text=("Connection refused",)):
        return "connection refused"
    if is_permanent(exc):
        return "its name does not resolve"
    if _has(exc, "ConnectTimeout", "ConnectTimeoutError", "ReadTimeout", "ReadTimeoutError"):
        return "timed out"
    tunnel = re.search(r"Tunnel connection failed: (\d{3}[\w .-]*)", " ".join(str(e) for e in _causes(exc)))
    if tunnel:
        return f"the proxy refused the tunnel with HTTP {tunnel.group(1).strip()}"
    return _short(exc)


def _ssl_detail(exc: BaseException) -> str:
    import ssl

    for e in _causes(exc):
        if isinstance(e, ssl.SSLCertVerificationError):
            return e.verify_message or _short(e)
    text = str(exc)
    found = re.search(r"\[SSL[^\]]*\]\s*([^()]+?)(?:\s*\(|'|$)", text)
    return found.group(1).strip() if found else _short(exc)


def _short(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    text = re.sub(r"<[^>]*object at 0x[0-9a-f]+>:?\s*", "", text)
    text = re.sub(r"HTTP(S)?ConnectionPool\([^)]*\):\s*", "", text)
    return _clip(text)
