"""A browser login that ends in an ordinary API key: OpenRouter's OAuth PKCE flow (S256).

qwen listens on 127.0.0.1 on a free port, sends the browser to the provider's authorize page with a fresh
code challenge, a random `state` and that loopback address as `callback_url`, and waits up to
`auth.browser_timeout` seconds (300) for the page to come back with a code. The same wait reads stdin, so
where no browser can open (SSH, CI, --no-browser) the person pastes the address the browser ended on, or just
the code. The code is exchanged at `{base_url}/auth/keys` (the provider's catalogue URL or its trusted
override: nowhere else) for a key, which the api-key login then stores like a pasted one.

A callback whose `state` is not this login's is refused with a 400 page and a warning, and the wait goes on:
a stale tab or another local program can neither end the login nor slip its own code into it.

Sources: https://openrouter.ai/docs/oauth (authorize URL and parameters, S256 = base64url(sha256(verifier)),
the exchange body {code, code_verifier, code_challenge_method} and its {"key": ...} answer).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import queue
import secrets
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

from qwen_cli.errors import (
    AuthError,
    ConfigError,
    RateLimitError,
    RequestError,
    ServerError,
    UsageError,
    raise_if_interrupted,
)

if TYPE_CHECKING:
    from qwen_cli.catalogue import Provider
    from qwen_cli.context import AppContext
    from qwen_cli.providers.events import NetworkOptions
    from qwen_cli.settings import Settings

CALLBACK_PATH = "/callback"
EXCHANGE_PATH = "/auth/keys"
AUTHORIZE_SETTING = "oauth_authorize_url"
MAX_PASTE = 8192
POLL_SECONDS = 0.2

PAGE_DONE = (
    b"<!doctype html><meta charset=utf-8><title>qwen</title>"
    b"<p>Logged in. You can close this tab and go back to the terminal.</p>"
)
PAGE_REFUSED = (
    b"<!doctype html><meta charset=utf-8><title>qwen</title>"
    b"<p>This address is not the one qwen is waiting for. Nothing was done; you can close this tab.</p>"
)


def offers(prov: Provider) -> bool:
    """Whether the provider has a browser login (its catalogue entry names an authorize page)."""
    return bool(prov.oauth_authorize_url)


def browser_command(prov_id: str) -> str:
    return f"qwen auth login --provider {prov_id} --browser"


def check_flags(method: str | None, provider: str | None, base_url: str | None, key_stdin: bool) -> None:
    """`--browser` goes with a catalogue provider that has a browser login, and nothing that names another
    key or another host; anything else is a usage error (exit 2)."""
    from qwen_cli import catalogue
    from qwen_cli.auth import methods

    keyed = methods.provider_method().id
    having = ", ".join(p.id for p in catalogue.providers().values() if offers(p)) or "none"
    if (method and method != keyed) or not provider:
        raise UsageError(
            "--browser is the browser login of an API-key provider, and needs --provider",
            hint=f"Providers with one: {having}; e.g. {browser_command('openrouter')}",
        )
    prov = catalogue.provider(provider)
    if not offers(prov):
        raise UsageError(
            f"{prov.name} has no browser login", hint=f"Providers with one: {having}. For {prov.id}, paste a key."
        )
    if key_stdin:
        raise UsageError(
            "--browser and --key-stdin can't be combined: the browser login brings its own key",
            hint=f"Drop --key-stdin to log in in the browser, or --browser to pipe in a key for {prov.id}.",
        )
    if base_url:
        raise UsageError(
            "--base-url can't be combined with --browser: the login code goes to the provider's own API only",
            hint=f"To move both (a gateway, a test server), set providers.{prov.id}.base_url and "
            f"providers.{prov.id}.{AUTHORIZE_SETTING} in your own config.toml.",
        )


@dataclass(frozen=True)
class Endpoints:
    authorize: str
    exchange: str


def endpoints(settings: Settings, prov: Provider) -> Endpoints:
    """The authorize page and the exchange URL: catalogue data, or their overrides from trusted config files
    (an untrusted project's were dropped, with a warning, when the settings loaded)."""
    from qwen_cli import catalogue

    ids = (prov.id, prov.catalogue_id or prov.id)
    found = catalogue.url_override(settings, ids, None, AUTHORIZE_SETTING)
    authorize = found[0] if found else prov.oauth_authorize_url
    base = catalogue.provider_url(settings, prov, None)[0]
    if not authorize or not base:
        raise UsageError(f"{prov.name} has no browser login", hint=f"Paste a key: qwen auth login --provider {prov.id}")
    return Endpoints(authorize, base.rstrip("/") + EXCHANGE_PATH)


def pkce_pair() -> tuple[str, str]:
    """(verifier, S256 challenge). A challenge that would look like an `sk-` key to the output redaction is
    drawn again: the printed URL must be the exact one."""
    while True:
        verifier = secrets.token_urlsafe(48)
        digest = hashlib.sha256(verifier.encode("ascii")).digest()
        challenge = base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
        if "sk-" not in challenge:
            return verifier, challenge


def authorize_url(page: str, callback: str, challenge: str, state: str) -> str:
    parts = urlsplit(page)
    ours = urlencode(
        {"callback_url": callback, "code_challenge": challenge, "code_challenge_method": "S256", "state": state}
    )
    return urlunsplit(parts._replace(query=f"{parts.query}&{ours}" if parts.query else ours))


# -- waiting for the code: the loopback callback and stdin, whichever answers first --------------------------


class CallbackServer:
    """A one-login HTTP server on 127.0.0.1 (a free port). Each GET of the callback path puts
    ("code", code) or ("refused", None) on `events`. Closed on leaving the `with` block."""

    def __init__(self, state: str) -> None:
        self.state = state
        self.events: queue.Queue[tuple[str, str | None]] = queue.Queue()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def callback_url(self) -> str:
        assert self._httpd is not None
        return f"http://127.0.0.1:{self._httpd.server_address[1]}{CALLBACK_PATH}"

    def __enter__(self) -> CallbackServer:
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._httpd.daemon_threads = True  # a client that holds its connection open blocks nobody
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.1}, name="login-callback", daemon=True
        )
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join(timeout=2)

    def answer(self, path: str, host: str | None) -> tuple[int, bytes]:
        parts = urlsplit(path)
        expected_host = urlsplit(self.callback_url).netloc
        if parts.path != CALLBACK_PATH or host not in (expected_host, expected_host.replace("127.0.0.1", "localhost")):
            return 404, PAGE_REFUSED
        query = parse_qs(parts.query)
        code = (query.get("code") or [""])[0]
        if (query.get("state") or [""])[0] != self.state or not _looks_like_code(code):
            self.events.put(("refused", None))
            return 400, PAGE_REFUSED
        self.events.put(("code", code))
        return 200, PAGE_DONE


def _handler_for(server: CallbackServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        timeout = 5

        def do_GET(self) -> None:  # noqa: N802 - the http.server name
            status, page = server.answer(self.path, self.headers.get("Host"))
            self.send_response(status)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(page)))
            self.send_header("Cache-Control", "no-store")
            self.send_header("Referrer-Policy", "no-referrer")
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(page)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - quiet: the URL holds the code
            pass

    return Handler


def _looks_like_code(text: str) -> bool:
    return 0 < len(text) <= 1024 and text.isascii() and text.isprintable() and " " not in text


def code_from_paste(line: str, state: str) -> tuple[str | None, str | None]:
    """(code, None) from a pasted callback address or a bare code; else (None, what is wrong with it)."""
    text = line.strip()
    if text.startswith(("http://", "https://")):
        query = parse_qs(urlsplit(text).query)
        if (query.get("state") or [""])[0] != state:
            return None, "that address is not from this login (its state does not match); paste the newest one"
        code = (query.get("code") or [""])[0]
        return (code, None) if _looks_like_code(code) else (None, "that address has no code in it")
    if _looks_like_code(text):
        return text, None
    return None, "that is neither the address the browser ended on nor a code"


class _Pasted:
    """Lines typed or piped on stdin, read without blocking the wait (select on POSIX)."""

    def __init__(self, app: AppContext) -> None:
        self.stream = app.stdin
        self.buffer = b""
        self.closed = False
        try:
            self.fd: int | None = self.stream.fileno()
        except (OSError, ValueError, AttributeError):
            self.fd = None  # an in-memory stream (in-process tests): read it line by line

    def lines(self, wait: float) -> list[str]:
        if self.closed:
            time.sleep(wait)
            return []
        if self.fd is None:
            line = self.stream.readline()
            self.closed = not line
            return [line] if line else []
        import select

        try:
            ready, _, _ = select.select([self.fd], [], [], wait)
        except (OSError, ValueError):  # not selectable here (Windows consoles): the callback alone
            self.closed = True
            return []
        if not ready:
            return []
        chunk = os.read(self.fd, 4096)
        if not chunk:
            self.closed = True
            chunk = b"\n" if self.buffer else b""
        self.buffer = (self.buffer + chunk)[-MAX_PASTE:]
        *complete, self.buffer = self.buffer.split(b"\n")
        return [c.decode("utf-8", "replace") for c in complete if c.strip()]


def wait_for_code(app: AppContext, server: CallbackServer, state: str, opened: bool, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    pasted = _Pasted(app)
    while True:
        raise_if_interrupted()  # a Ctrl-C Python swallowed (see errors.raise_if_interrupted) still ends the wait
        try:
            kind, code = server.events.get_nowait()
        except queue.Empty:
            kind, code = "", None
        if kind == "code" and code:
            return code
        if kind == "refused":
            app.out.warn(
                "refused a call to the login address that was not this login's (wrong state or no code); still waiting"
            )
        left = deadline - time.monotonic()
        if left <= 0:
            raise AuthError(
                f"the browser login timed out after {_duration(timeout)} without an answer",
                hint="Run the login again; on a machine without a browser, paste the address the browser "
                "ended on (or the code) when asked.",
            )
        for line in pasted.lines(min(POLL_SECONDS, left)):
            found, problem = code_from_paste(line, state)
            if found:
                return found
            app.out.warn(f"{problem}.")
        if pasted.closed and not opened:
            raise UsageError(
                "no browser could be opened and stdin ended without an address or a code",
                hint="Open the URL above anywhere, then pipe or paste the address it ends on (or the code).",
            )


def _duration(seconds: float) -> str:
    return f"{seconds / 60:g} min" if seconds >= 60 else f"{seconds:g} s"


# -- the exchange ---------------------------------------------------------------------------------------------


def exchange(network: NetworkOptions, url: str, headers: dict[str, str], code: str, verifier: str, setting: str) -> str:
    """The key the provider gives for `code`, or a one-line error by what it answered. `setting` names the
    base URL's override, for hints."""
    from qwen_cli.auth.http import LOGIN_NETWORK_HINT
    from qwen_cli.errors import NetworkError
    from qwen_cli.providers import http
    from qwen_cli.providers.failures import host_of

    body = json.dumps({"code": code, "code_verifier": verifier, "code_challenge_method": "S256"}).encode()
    sent = {
        **headers,
        "Content-Type": "application/json",
        "Accept": "application/json",
        "User-Agent": http.user_agent(),
    }
    try:
        response = http.send("POST", url, headers=sent, network=network, data=body, retries=0, allow_redirects=False)
    except NetworkError as exc:
        exc.hint = LOGIN_NETWORK_HINT
        raise
    host, status = host_of(url), response.status_code
    text = (response.content or b"").decode("utf-8", "replace")
    again = "Run the browser login again: a code works once and only for a short while."
    if 300 <= status < 400:
        raise ConfigError(
            f"{host} answered the key exchange with a redirect (HTTP {status}); qwen does not follow it, "
            "as the request carries the login code",
            hint=f"Point {setting} at the server that answers itself, if you trust it.",
        )
    if status >= 400:
        detail = _server_message(text)
        message = f"{host} refused the key exchange (HTTP {status}" + (f": {detail})" if detail else ")")
        if status in (400, 401, 403):
            raise AuthError(message, hint=again)
        if status == 429:
            raise RateLimitError(message, hint="Wait a minute, then run the browser login again.")
        if status >= 500:
            raise ServerError(message, hint="The provider has a problem; try again later.")
        raise RequestError(message, hint=again)
    try:
        answer = json.loads(text)
    except ValueError:
        answer = None
    if not isinstance(answer, dict):
        raise ServerError(
            f"{host} answered the key exchange (HTTP {status}) with something other than JSON",
            hint=f"Check that {setting} (if you set it) points at the provider's API; try again later.",
        )
    key = answer.get("key")
    if not isinstance(key, str) or not key.strip() or not key.strip().isprintable():
        raise ServerError(f"{host} answered the key exchange without a key", hint=again)
    return key.strip()


def _server_message(text: str) -> str:
    """The provider's own words, if its error body has some (shortened; printed through app.out, which
    cleans them)."""
    try:
        body = json.loads(text)
    except ValueError:
        return ""
    error = body.get("error") if isinstance(body, dict) else None
    message = error.get("message") if isinstance(error, dict) else error if isinstance(error, str) else None
    return message[:200] if isinstance(message, str) else ""


# -- the whole login ------------------------------------------------------------------------------------------


def login_key(app: AppContext, prov: Provider, no_browser: bool) -> str:
    """Run the browser login for `prov` and return the key it ends with (registered as a secret). Nothing is
    stored here; Ctrl-C anywhere leaves no socket open and nothing written."""
    from qwen_cli import catalogue
    from qwen_cli.auth import methods
    from qwen_cli.auth.credentials import Credentials
    from qwen_cli.providers.events import NetworkOptions
    from qwen_cli.providers.http import check_transport

    settings = app.settings
    where = endpoints(settings, prov)
    network = NetworkOptions.from_settings(settings, prov.id)
    # The code is as good as a key for a moment: refuse clear text to another machine before asking for one.
    check_transport(Credentials(methods.provider_method().id, prov.id, where.exchange, "", token="code"), network)
    verifier, challenge = pkce_pair()
    state = secrets.token_hex(16)
    app.secrets.append(verifier)
    timeout = float(settings.get("auth.browser_timeout"))
    out = app.out
    with CallbackServer(state) as server:
        url = authorize_url(where.authorize, server.callback_url, challenge, state)
        opened = not no_browser and app.browser.open(url)
        if opened:
            out.info(f"Opened your browser to log in to {prov.name} at:")
        else:
            out.info(f"To log in to {prov.name}, open this URL in a browser (on any device):")
        out.info(f"  {url}")
        wait = _duration(timeout)
        if opened:
            out.info(f"Waiting up to {wait} for the browser (or paste here the address it ends on, or the code).")
        else:
            out.info(
                f"Waiting up to {wait}: paste here the address the browser ends on (an error page there is fine) "
                "or just the code, and press Enter."
            )
        code = wait_for_code(app, server, state, opened, timeout)
    app.secrets.append(code)
    out.info(f"Got the code; asking {prov.name} for a key...")
    setting = f"providers.{prov.id}.base_url"
    key = exchange(network, where.exchange, catalogue.headers(prov.header_sets), code, verifier, setting)
    app.secrets.append(key)
    return key
