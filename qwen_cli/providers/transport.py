"""Our requests/urllib3 layer: a Session that leaves redirects to `http.send`, and the headers deadline.

Session: requests reads the whole body of every 3xx (even with allow_redirects=False, to prepare
`Response.next`), uncapped; `http.send` handles redirects itself (redirects.py) and reads bodies capped.

network.headers_timeout is a wall-clock deadline from connecting until the response headers are
complete. urllib3's timeouts bound each socket operation, so a server that trickles one header byte a
second never trips network.read_timeout and holds us forever. Here a deadline per request shuts the
socket down when it passes: shutdown() (unlike close()) wakes a recv() blocked in another thread at
once, plain or TLS, and the request fails; `send()` then reports the deadline instead of whatever
protocol error that caused. One watchdog thread fires every deadline of the process (`--each` sends
hundreds of requests a second: a timer thread each would cost more than the request). The socket is
found through our own urllib3 connection classes, which hand its file descriptor to the deadline
running on their thread as soon as the socket exists (so the TCP connect, a proxy's CONNECT and the
TLS handshake are covered too).

Reuse: for a run of many alike requests (`ask --each`), what requests would work out again for every one.

Imported inside functions only (by http.py, and by `ask --each` for its Reuse): it subclasses requests and
urllib3 classes.
"""

from __future__ import annotations

import heapq
import itertools
import os
import socket
import threading
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

if TYPE_CHECKING:
    # For the type checker the mixin is a urllib3 connection; at run time it comes before one in the MRO.
    _Connection = HTTPConnection
else:
    _Connection = object

_local = threading.local()
TIDY_AT = 256  # deadlines kept before the ended ones are dropped
COALESCE_MAX = 65536  # a request body up to this size goes out in one send with the head


class Deadline:
    """One request's deadline: watches at most one socket at a time, from start() until stop()."""

    def __init__(self, seconds: float):
        self._lock = threading.Lock()
        self._fd: int | None = None
        self._done = False
        self.fired = False
        self._seconds = seconds

    def __enter__(self) -> Deadline:
        _local.deadline = self
        if self._seconds:
            _watchdog.add(time.monotonic() + self._seconds, self)
        return self

    def __exit__(self, *exc: object) -> None:
        with self._lock:
            self._done = True  # the watchdog drops it when its time comes: _fire() does nothing then
            self._fd = None
        _local.deadline = None

    def watch(self, fd: int) -> None:
        with self._lock:
            if self._done:
                return
            self._fd = fd
            if self.fired:
                _shutdown(fd)

    def forget(self, fd: int) -> None:
        """The socket is about to be closed: its number may be reused, so never shut it down after this."""
        with self._lock:
            if self._fd == fd:
                self._fd = None

    def _fire(self) -> None:
        with self._lock:
            if self._done:
                return
            self.fired = True
            if self._fd is not None:
                _shutdown(self._fd)


class _Watchdog:
    """The thread that fires every Deadline of the process when its time comes (started with the first)."""

    def __init__(self) -> None:
        self._wake = threading.Condition()
        self._due: list[tuple[float, int, Deadline]] = []  # a heap, soonest first
        self._order = itertools.count()  # breaks ties, so deadlines are never compared
        self._thread: threading.Thread | None = None
        self._tidy_at = TIDY_AT

    def add(self, when: float, deadline: Deadline) -> None:
        with self._wake:
            if len(self._due) >= self._tidy_at:  # requests end long before their deadline: drop the ended ones
                self._due = [entry for entry in self._due if not entry[2]._done]
                heapq.heapify(self._due)
                self._tidy_at = max(TIDY_AT, 2 * len(self._due))
            heapq.heappush(self._due, (when, next(self._order), deadline))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="qwen-deadlines", daemon=True)
                self._thread.start()
            elif self._due[0][2] is deadline:
                self._wake.notify()  # sooner than what the thread sleeps for

    def _run(self) -> None:
        while True:
            with self._wake:
                while not self._due:
                    self._wake.wait()
                wait = self._due[0][0] - time.monotonic()
                if wait > 0:
                    self._wake.wait(wait)
                    continue
                _, _, deadline = heapq.heappop(self._due)
            deadline._fire()

    def _after_fork(self) -> None:
        self._wake = threading.Condition()
        self._due = []
        self._thread = None  # a forked child has no watchdog thread: the next deadline starts one


_watchdog = _Watchdog()
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_watchdog._after_fork)


def _shutdown(fd: int) -> None:
    try:
        sock = socket.socket(fileno=fd)  # a second handle on the same socket, detached below so it isn't closed
    except OSError:
        return
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    finally:
        sock.detach()


def _current() -> Deadline | None:
    deadline: Deadline | None = getattr(_local, "deadline", None)
    return deadline


class _Watched(_Connection):
    """Mixed into urllib3's connections: report each socket to this thread's deadline."""

    def _new_conn(self) -> socket.socket:
        sock = super()._new_conn()
        deadline = _current()
        if deadline is not None:
            deadline.watch(sock.fileno())
        return sock

    _held: bytes | None = None  # the request head, waiting to go out with the body in one send
    _holding = False

    def request(self, method: str, url: str, body: Any = None, *args: Any, **kwargs: Any) -> None:
        deadline = _current()
        if deadline is not None and self.sock is not None:  # a kept-alive connection, reused
            deadline.watch(self.sock.fileno())
        # On a connection already open, a small body goes in the same send as the head: one write (and one
        # wait for the socket) fewer per request, and one TCP segment.
        self._holding = self.sock is not None and isinstance(body, bytes) and 0 < len(body) <= COALESCE_MAX
        try:
            super().request(method, url, body, *args, **kwargs)
        finally:
            held, self._held, self._holding = self._held, None, False
        if held:  # nothing came after the head
            super().send(held)

    def send(self, data: Any) -> None:
        if self._holding and self._held is None:
            self._held = bytes(data)  # the head, from endheaders()
            return
        if self._held is not None:
            data, self._held, self._holding = self._held + bytes(data), None, False
        super().send(data)

    def close(self) -> None:
        deadline = _current()
        if deadline is not None and self.sock is not None:
            deadline.forget(self.sock.fileno())
        super().close()


class _HTTPConnection(_Watched, HTTPConnection):
    pass


class _HTTPSConnection(_Watched, HTTPSConnection):
    pass


class _HTTPPool(HTTPConnectionPool):
    ConnectionCls = _HTTPConnection


class _HTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _HTTPSConnection


_POOLS = {"http": _HTTPPool, "https": _HTTPSPool}


class Adapter(HTTPAdapter):
    """requests' adapter with the watched connections, direct and through an HTTP(S) proxy.

    It also remembers the pool its last request went to. requests works the pool out again for every
    request (parsing the URL, choosing the proxy, building the pool key, checking the CA bundle on disk),
    though the same URL with the same TLS settings and proxy always gets the same pool, until the pool
    manager drops it, which closes it. Remembered only once cert_verify has accepted it. One adapter per
    thread's Session (http.session()), so no lock.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._last: tuple[tuple[Any, ...], Any] | None = None  # (URL, verify, cert, proxies), its pool
        self._chosen: tuple[tuple[Any, ...], Any] | None = None
        self._reused = False

    def get_connection_with_tls_context(
        self, request: requests.PreparedRequest, verify: Any, proxies: Any = None, cert: Any = None
    ) -> Any:
        key = (request.url, verify, cert, tuple(proxies.items()) if proxies else ())
        last = self._last
        self._reused = last is not None and last[0] == key and last[1].pool is not None
        if last is not None and self._reused:
            return last[1]
        pool = super().get_connection_with_tls_context(request, verify, proxies, cert)
        self._last, self._chosen = None, (key, pool)
        return pool

    def cert_verify(self, conn: Any, url: str, verify: Any, cert: Any) -> None:
        if self._reused:
            return  # accepted when this pool was chosen, for the same URL and TLS settings
        super().cert_verify(conn, url, verify, cert)  # type: ignore[no-untyped-call]
        self._last = self._chosen

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _POOLS

    def proxy_manager_for(self, proxy: str, **kwargs: Any) -> Any:
        manager = super().proxy_manager_for(proxy, **kwargs)
        if not proxy.lower().startswith("socks"):  # SOCKS pools have their own connection classes
            manager.pool_classes_by_scheme = _POOLS
        return manager


class Session(requests.Session):
    def __init__(self) -> None:
        super().__init__()
        for prefix in ("http://", "https://"):
            self.mount(prefix, Adapter())

    def prepare_request(self, request: requests.Request) -> requests.PreparedRequest:
        # With no auth of its own, requests applies a ~/.netrc (or $NETRC) entry for the host, replacing the
        # Authorization header we chose: the user's key or token would never be sent, someone's login instead.
        if request.auth is None:
            request.auth = _leave_headers
        return super().prepare_request(request)

    def get_redirect_target(self, resp: requests.Response) -> None:
        return None  # never follow, never read a 3xx body here: http.send decides

    def resolve_redirects(self, *args: Any, **kwargs: Any) -> Iterator[Any]:
        yield from ()  # there is no target (above): skip requests' per-request look at the URL for one


def send_once(
    session: Session,
    method: str,
    url: str,
    *,
    headers: dict[str, str],
    json: Any,
    data: bytes | None,
    timeout: tuple[float, float],
    verify: bool | str,
    proxies: dict[str, str] | None,
) -> requests.Response:
    """One request as http.send makes it: streamed, never redirected (http.send decides about a 3xx)."""
    return session.request(
        method,
        url,
        headers=headers,
        json=json,
        data=data,
        stream=True,
        allow_redirects=False,
        timeout=timeout,
        verify=verify,
        proxies=proxies,
    )


class Reuse:
    """What the requests of one run have in common, worked out once instead of for each of them.

    requests' Session.request prepares every request from scratch (parses the URL, merges and checks each
    header, builds the cookie jars) and reads the environment for it (HTTPS_PROXY, NO_PROXY,
    REQUESTS_CA_BUNDLE): about a quarter of the CPU of a short request, and `ask --each` sends hundreds a
    second from one process. Here the head (method, URL, headers merged with the Session's) is prepared by
    requests once per distinct head and copied; only the body is new. The environment's settings are
    merged by requests once per URL, proxy and CA bundle. Everything else is Session.send as usual, and
    nothing is reused across runs, so the environment is the one of the run.
    """

    MAX_HEADS = 64  # distinct heads kept (a refreshed token makes a new one); past it the oldest go

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._heads: dict[tuple[Any, ...], requests.PreparedRequest] = {}
        self._settings: dict[tuple[Any, ...], Any] = {}  # what Session.send takes: proxies, stream, verify, cert

    def request(
        self,
        session: Session,
        method: str,
        url: str,
        *,
        headers: dict[str, str],
        json: Any,
        data: bytes | None,
        timeout: tuple[float, float],
        verify: bool | str,
        proxies: dict[str, str] | None,
    ) -> requests.Response:
        """What `send_once` does, with the head reused."""
        if session.cookies:  # a cookie the server set goes on this thread's next requests: requests adds it
            return send_once(
                session,
                method,
                url,
                headers=headers,
                json=json,
                data=data,
                timeout=timeout,
                verify=verify,
                proxies=proxies,
            )
        prepared = self._head(session, method, url, headers)
        prepared.prepare_body(data, None, json)
        settings = self._environment(session, prepared.url or url, verify, proxies)
        return session.send(prepared, allow_redirects=False, timeout=timeout, **settings)

    def _head(self, session: Session, method: str, url: str, headers: dict[str, str]) -> requests.PreparedRequest:
        key = (method, url, tuple(headers.items()))
        head = self._heads.get(key)
        if head is None:
            head = session.prepare_request(requests.Request(method, url, headers=headers))
            with self._lock:  # workers miss together at the start; a lookup needs no lock
                if len(self._heads) >= self.MAX_HEADS:
                    self._heads.pop(next(iter(self._heads)), None)
                self._heads[key] = head
        prepared = requests.PreparedRequest()
        prepared.method, prepared.url, prepared.hooks = head.method, head.url, head.hooks
        prepared.headers = head.headers.copy()
        prepared._cookies = head._cookies  # type: ignore[attr-defined]  # empty, and only read from here on
        return prepared

    def _environment(self, session: Session, url: str, verify: bool | str, proxies: dict[str, str] | None) -> Any:
        key = (url, verify, tuple(sorted((proxies or {}).items())))
        settings = self._settings.get(key)
        if settings is None:
            settings = self._settings[key] = session.merge_environment_settings(
                url, dict(proxies or {}), True, verify, None
            )
        return settings


def _leave_headers(prepared: requests.PreparedRequest) -> requests.PreparedRequest:
    return prepared
