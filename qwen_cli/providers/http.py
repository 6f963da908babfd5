"""HTTP plumbing for the adapter: one lazily built requests.Session, headers, TLS/proxy options and retries.

`requests` is imported inside functions only, so `qwen --version` and `--help` never pay for it.
"""

from __future__ import annotations

import functools
import logging
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlsplit

from qwen_cli import __version__
from qwen_cli.errors import ConfigError

if TYPE_CHECKING:
    from requests import Response

    from qwen_cli.auth.credentials import Credentials
    from qwen_cli.providers.events import NetworkOptions
    from qwen_cli.providers.transport import Reuse, Session

log = logging.getLogger("qwen_cli.http")

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504, 529})  # 529: overloaded (LiteLLM, Anthropic)
BACKOFF_BASE = 0.5  # seconds; attempt n waits about BACKOFF_BASE * 2**n, with jitter
BACKOFF_MAX = 8.0
RETRY_AFTER_MAX = 30.0  # a server asking for longer is not retried: we fail now with its message
FINISH_GRACE = 0.25  # seconds a server has to end a streamed body after the answer's end marker (finish_body)
FINISH_MAX_BYTES = 65536

_sessions = threading.local()  # one Session per thread: requests does not promise a shared one is thread-safe


class Pacer(Protocol):
    def wait(self) -> None: ...
    def hold(self, seconds: float) -> None: ...


# Set by a caller that sends from several threads at once (`ask --each`): every request waits at it first,
# and a retried 429/5xx holds it for the delay, so one server's "slow down" paces all of them.
pacer: Pacer | None = None

# Set by a caller that sends many alike requests in one run (`ask --each`): the request head and the
# environment's proxy and CA settings are worked out once for the run instead of once per request.
reuse: Reuse | None = None


def session() -> Session:
    """This thread's Session: connections are reused across requests (chat turns, /models)."""
    current: Session | None = getattr(_sessions, "session", None)
    if current is None:
        from qwen_cli.providers.transport import Session

        current = _sessions.session = Session()
    return current


@functools.cache  # the same for the life of the process; asked for every request
def user_agent() -> str:
    try:
        uname = os.uname()
        system, machine = uname.sysname.lower(), uname.machine
    except AttributeError:  # Windows
        import platform

        system, machine = platform.system().lower(), platform.machine()
    py = f"{sys.version_info.major}.{sys.version_info.minor}"
    return f"qwen-cli/{__version__} ({system}; {machine}) python/{py}"


def build_headers(
    credentials: Credentials,
    network: NetworkOptions,
    accept: str = "application/json",
    auth: dict[str, str] | None = None,
) -> dict[str, str]:
    """UA and defaults < the auth layer's headers (e.g. DashScope's) < the key (a bearer token, or the
    protocol's own `auth` headers) < per-provider config headers. The User-Agent is always our own."""
    headers = {"User-Agent": user_agent(), "Accept": accept}
    if accept == "text/event-stream":
        # A compressed stream would be buffered by the decompressor; tokens must arrive as they are sent.
        headers["Accept-Encoding"] = "identity"
    headers.update(credentials.headers or {})
    if auth is not None:
        headers.update(auth)
    elif credentials.token:
        headers["Authorization"] = f"Bearer {credentials.token}"
    headers.update(network.extra_headers or {})
    return headers


def is_loopback(host: str | None) -> bool:
    return bool(host) and _is_loopback(host or "")


@functools.lru_cache(maxsize=64)  # asked for every request (check_transport); the answer never changes
def _is_loopback(host: str) -> bool:
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    import ipaddress

    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def is_local_url(url: str | None) -> bool:
    return bool(url) and is_loopback(urlsplit(url or "").hostname)


def check_transport(credentials: Credentials, network: NetworkOptions) -> None:
    """Refuse to send a key in clear text to anything but this machine (exit 8), unless allowed."""
    parts = urlsplit(credentials.base_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(
            f"the base URL {credentials.base_url!r} is not an http(s) URL",
            hint="Fix it, e.g. OPENAI_BASE_URL=https://api.example.com/v1, or run `qwen auth login` again.",
        )
    if parts.scheme == "http" and credentials.token and not network.allow_insecure_http:
        if not is_loopback(parts.hostname):
            raise ConfigError(
                f"refusing to send your key over plain http:// to {parts.hostname}: anyone on the path could read it",
                hint="Use https://, or if this network is trusted: qwen config set network.allow_insecure_http true",
            )


def _verify(network: NetworkOptions) -> bool | str:
    if not network.ca_bundle:
        return True
    path = os.path.expanduser(network.ca_bundle)
    if not os.path.exists(path):
        raise ConfigError(
            f"the CA bundle {network.ca_bundle} does not exist",
            hint="Fix network.ca_bundle (or REQUESTS_CA_BUNDLE / SSL_CERT_FILE) to point at a PEM file.",
        )
    return path


def _proxies(url: str, network: NetworkOptions, environ: Mapping[str, str]) -> dict[str, str] | None:
    """An explicit proxy (--proxy / network.proxy) wins over HTTPS_PROXY, but NO_PROXY still applies."""
    if not network.proxy:
        return None
    from requests.utils import should_bypass_proxies

    no_proxy = environ.get("NO_PROXY") or environ.get("no_proxy")
    if should_bypass_proxies(url, no_proxy=no_proxy):
        return None
    return {"http": network.proxy, "https": network.proxy}


def backoff(attempt: int) -> float:
    import random

    return min(BACKOFF_MAX, BACKOFF_BASE * 2.0**attempt) * (0.5 + random.random() / 2)


def retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date); None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    from email.utils import parsedate_to_datetime

    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def send(
    method: str,
    url: str,
    *,
    headers: dict[str, str],
    network: NetworkOptions,
    json_body: Any = None,
    data: bytes | None = None,
    stream: bool = False,
    allow_redirects: bool = True,
    should_retry: Callable[[Response], bool] | None = None,
    notify: Callable[[str], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
    retries: int | None = None,
) -> Response:
    """Send one request, retrying connection errors, 429 and 5xx with backoff. Returns the last response.

    `should_retry(response)` can veto a retry (a quota 429 won't get better in seconds). Nothing is
    retried once a response is returned: the caller owns the body from then on. Unless `stream` is set
    and the status is 2xx, the body has been read already, capped at network.max_response_bytes.
    Redirects are followed within the origin only (see redirects.py); with allow_redirects=False a 3xx
    is returned as it is.
    """
    from qwen_cli.providers import redirects

    hops = 0
    while True:
        response = _send_retrying(
            method,
            url,
            headers=headers,
            network=network,
            json_body=json_body,
            data=data,
            stream=stream,
            should_retry=should_retry,
            notify=notify,
            sleep=sleep,
            retries=retries,
        )
        if not allow_redirects or not response.is_redirect:
            return response
        location = redirects.target(url, response)
        response.close()
        hops += 1
        redirects.check(url, location, hops)
        log.debug("HTTP %d: following the redirect to %s", response.status_code, location)
        if response.status_code == 303:
            method, json_body, data = "GET", None, None
        url = location


def _send_retrying(
    method: str,
    url: str,
    *,
    headers: dict[str, str],
    network: NetworkOptions,
    json_body: Any,
    data: bytes | None,
    stream: bool,
    should_retry: Callable[[Response], bool] | None,
    notify: Callable[[str], None] | None,
    sleep: Callable[[float], None],
    retries: int | None,
) -> Response:
    import requests

    from qwen_cli.providers.failures import exception_error, headers_timeout_error, is_permanent
    from qwen_cli.providers.transport import Deadline, send_once

    verify = _verify(network)
    proxies = _proxies(url, network, os.environ)
    timeout = (network.connect_timeout, network.read_timeout)
    max_retries = network.max_retries if retries is None else retries
    attempt = 0
    while True:
        log.debug("%s %s (attempt %d)", method, url, attempt + 1)
        _trace_headers(">", headers)
        if pacer is not None:
            pacer.wait()
        sent_at = time.monotonic()
        response: Response | None = None
        failure: requests.exceptions.RequestException | None = None
        with Deadline(network.headers_timeout) as deadline:
            try:
                response = (reuse.request if reuse is not None else send_once)(
                    session(),
                    method,
                    url,
                    headers=headers,
                    json=json_body,
                    data=data,
                    timeout=timeout,
                    verify=verify,
                    proxies=proxies,
                )
            except requests.exceptions.RequestException as exc:
                failure = exc
        if deadline.fired:
            if response is not None:
                response.close()
            raise headers_timeout_error(url, network)
        if isinstance(failure, requests.exceptions.ConnectionError) and not isinstance(
            failure, requests.exceptions.SSLError
        ):
            if attempt >= max_retries or is_permanent(failure):
                raise exception_error(failure, url, network, attempts=attempt + 1) from None
            delay = backoff(attempt)
            _note(notify, f"connection failed; retrying in {delay:.1f}s ({attempt + 1}/{max_retries})")
        elif failure is not None:
            raise exception_error(failure, url, network) from None
        else:
            assert response is not None  # request() returned it, as it did not raise
            log.debug("HTTP %d from %s after %.0f ms", response.status_code, url, (time.monotonic() - sent_at) * 1000)
            _trace_headers("<", response.headers)
            if not stream or response.status_code >= 300:
                read_body(response, network, url)
            if response.status_code not in RETRY_STATUSES or attempt >= max_retries:
                response.attempts = attempt + 1  # type: ignore[attr-defined]  # failures.py reads it
                return response
            retry_delay = retry_after(response.headers.get("Retry-After"))
            if (retry_delay is not None and retry_delay > RETRY_AFTER_MAX) or (
                should_retry and not should_retry(response)
            ):
                response.attempts = attempt + 1  # type: ignore[attr-defined]
                return response
            delay = backoff(attempt) if retry_delay is None else retry_delay
            if pacer is not None:
                pacer.hold(delay)
            response.close()
            _note(notify, f"HTTP {response.status_code}; retrying in {delay:.1f}s ({attempt + 1}/{max_retries})")
        sleep(delay)
        attempt += 1


def read_body(response: Response, network: NetworkOptions, url: str) -> bytes:
    """Read the whole body now, capped (limits.read_body); a failure while reading is a one-line error."""
    import requests
    import urllib3

    from qwen_cli.providers import limits
    from qwen_cli.providers.failures import exception_error, host_of

    try:
        return limits.read_body(response, network, host_of(url))
    except (requests.exceptions.RequestException, urllib3.exceptions.HTTPError, OSError) as exc:
        response.close()
        raise exception_error(exc, url, network) from None


# Request headers whose values --debug shows as they are; any other (Authorization, a [providers.*.headers]
# value that may be an org token) is masked. Response headers are the server's and shown, but for cookies.
_SHOWN_REQUEST_HEADERS = frozenset(
    {
        "user-agent",
        "accept",
        "accept-encoding",
        "content-type",
        "content-length",
        "connection",
        "x-dashscope-cachecontrol",
        "x-dashscope-authtype",
        "x-dashscope-useragent",
        "anthropic-version",
    }
)
_SECRET_RESPONSE_HEADERS = frozenset({"set-cookie"})


def _trace_headers(direction: str, headers: Mapping[str, str]) -> None:
    """`--debug`: each header of the exchange on its own line, credentials masked."""
    if not log.isEnabledFor(logging.DEBUG):
        return
    from qwen_cli.secrets import mask

    for name, value in headers.items():
        lower = name.lower()
        hidden = lower not in _SHOWN_REQUEST_HEADERS if direction == ">" else lower in _SECRET_RESPONSE_HEADERS
        if hidden:
            scheme, _, rest = str(value).partition(" ")
            value = f"{scheme} {mask(rest)}" if rest and scheme.lower() in ("bearer", "basic") else mask(str(value))
        log.debug("%s %s: %s", direction, name, value)


def _note(notify: Callable[[str], None] | None, message: str) -> None:
    log.debug(message)
    if notify is not None:
        notify(message)


def finish_body(response: Response, chunks: Iterator[bytes]) -> None:
    """Read the rest of a streamed body whose answer has ended (the chunked terminator, as a rule already
    here), so urllib3 returns the connection to this thread's pool and the next request skips a TCP (and TLS)
    handshake. A server that sends more than FINISH_MAX_BYTES or takes longer than FINISH_GRACE seconds
    to end the body has its connection closed with the response instead, as it would be without this."""
    import requests
    import urllib3

    from qwen_cli.providers.transport import Deadline

    original = getattr(response.raw, "_original_response", None)
    connection = getattr(response.raw, "_connection", None)
    sock = getattr(connection, "sock", None)
    if sock is None or original is None or getattr(original, "will_close", True):
        return  # already released, or the server closes the connection after this body anyway
    left = FINISH_MAX_BYTES
    with Deadline(FINISH_GRACE) as deadline:
        deadline.watch(sock.fileno())
        try:
            for chunk in chunks:
                left -= len(chunk)
                if left < 0:
                    return
        except (requests.exceptions.RequestException, urllib3.exceptions.HTTPError, OSError) as exc:
            log.debug("the body did not end cleanly after the answer (%s); its connection is closed", exc)


def iter_body(response: Response, chunk_size: int = 65536) -> Iterator[bytes]:
    """Yield body bytes as soon as they arrive (one network read each), for chunked and close-delimited bodies.

    Every piece is at most chunk_size bytes after decompression: urllib3 inflates only that far ahead.
    """
    raw = response.raw
    if getattr(raw, "chunked", False) and raw.supports_chunked_reads():
        yield from raw.read_chunked(chunk_size, decode_content=True)
        return
    while True:
        data = raw.read1(chunk_size, decode_content=True)
        if not data:
            return
        yield data
