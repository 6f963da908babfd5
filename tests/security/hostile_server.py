"""A loopback HTTP server that misbehaves on purpose, on raw sockets (stdlib only).

http.server can't trickle header bytes or send a line that never ends, so this one writes the bytes
itself. Each connection reads one request, records it in `requests`, then hands the socket to a
handler: `routes` maps a path suffix ("/models") to one, `handler` answers everything else.

    server = HostileServer(gzip_bomb()).start()
    ... point qwen at server.url ("http://127.0.0.1:PORT/v1") ...
    server.stop()

Handlers are built by the functions below; each is `fn(conn, request)` and may run until the client
hangs up or the server stops (`conn.wait(seconds)` returns True when it is stopping).
"""

from __future__ import annotations

import functools
import json
import socket
import struct
import threading
import time
import zlib
from dataclasses import dataclass

MIB = 1 << 20
SSE_HEADERS = {"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]  # lower-cased names
    body: bytes


class Conn:
    """One accepted connection: write() swallows a client that went away; wait() ends early on stop()."""

    def __init__(self, sock: socket.socket, stopping: threading.Event):
        self.sock = sock
        self._stopping = stopping
        self.gone = False

    def write(self, data: bytes) -> bool:
        if self.gone:
            return False
        try:
            self.sock.sendall(data)
        except OSError:
            self.gone = True
        return not self.gone

    def wait(self, seconds: float) -> bool:
        return self._stopping.wait(seconds)

    def head(self, status: int, headers: dict[str, str], reason: str = "X") -> bool:
        lines = [f"HTTP/1.1 {status} {reason}", *(f"{k}: {v}" for k, v in headers.items()), "Connection: close"]
        return self.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))


class HostileServer:
    def __init__(self, handler=None, host: str = "127.0.0.1", url_host: str | None = None):
        self.handler = handler or respond(200, {"object": "list", "data": [{"id": "test-model"}]})
        self.routes: dict[str, object] = {}
        self.host = host
        self.url_host = url_host or host  # "localhost" names the same socket as another origin
        self.requests: list[Request] = []
        self.accepted_at: list[float] = []  # time.monotonic() of each accepted connection
        self._stopping = threading.Event()
        self._sock: socket.socket | None = None
        self.port: int | None = None

    @property
    def base(self) -> str:
        return f"http://{self.url_host}:{self.port}"

    @property
    def url(self) -> str:
        return self.base + "/v1"

    def start(self) -> HostileServer:
        self._sock = socket.create_server((self.host, 0))
        self._sock.settimeout(0.1)
        self.port = self._sock.getsockname()[1]
        threading.Thread(target=self._accept, name="hostile-accept", daemon=True).start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._sock is not None:
            self._sock.close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def _accept(self) -> None:
        while not self._stopping.is_set():
            try:
                sock, _ = self._sock.accept()
                self.accepted_at.append(time.monotonic())
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=self._serve, args=(sock,), daemon=True).start()

    def _serve(self, sock: socket.socket) -> None:
        sock.settimeout(10)
        try:
            request = _read_request(sock)
            if request is None:
                return
            self.requests.append(request)
            handler = next((h for suffix, h in self.routes.items() if request.path.endswith(suffix)), self.handler)
            handler(Conn(sock, self._stopping), request)
        except OSError:
            pass
        finally:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()


def _read_request(sock: socket.socket) -> Request | None:
    data = b""
    while b"\r\n\r\n" not in data:
        more = sock.recv(65536)
        if not more:
            return None
        data += more
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    method, path, _ = lines[0].split(" ", 2)
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length") or 0)
    while len(body) < length:
        more = sock.recv(65536)
        if not more:
            break
        body += more
    return Request(method, path, headers, body)


# -- bodies ----------------------------------------------------------------------------------------------


@functools.cache
def gzip_of_zeros(mib: int = 256) -> bytes:
    """`mib` MiB of zero bytes, gzipped to about a thousandth of that (256 MiB -> 260 KB).

    Each MiB is compressed after a full flush, so every block after the first is the same bytes: the
    bomb is built by repetition instead of compressing 256 MiB in every test run.
    """
    block = bytes(MIB)
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = deflate.compress(block) + deflate.flush(zlib.Z_FULL_FLUSH)
    repeat = deflate.compress(block) + deflate.flush(zlib.Z_FULL_FLUSH)
    crc = 0
    for _ in range(mib):
        crc = zlib.crc32(block, crc)
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"
    return header + first + repeat * (mib - 1) + deflate.flush() + struct.pack("<II", crc, (mib * MIB) & 0xFFFFFFFF)


def deep_json(depth: int = 100_000) -> bytes:
    return b"[" * depth + b"]" * depth


def chunk_json(content: str) -> bytes:
    return json.dumps({"choices": [{"index": 0, "delta": {"content": content}, "finish_reason": None}]}).encode()


# -- handlers --------------------------------------------------------------------------------------------


def respond(status: int, body, headers: dict | None = None):
    """A plain answer with Content-Length; a dict or list body is sent as JSON."""
    data = json.dumps(body).encode() if isinstance(body, (dict, list)) else body
    base = {"Content-Type": "application/json"} if isinstance(body, (dict, list)) else {}

    def handler(conn: Conn, request: Request) -> None:
        conn.head(status, {**base, **(headers or {}), "Content-Length": str(len(data))})
        conn.write(data)

    return handler


def gzip_bomb(status: int = 200, content_type: str = "application/json", mib: int = 256):
    headers = {"Content-Type": content_type, "Content-Encoding": "gzip"}
    if 300 <= status < 400:
        headers["Location"] = "/v1/elsewhere"
    return respond(status, gzip_of_zeros(mib), headers)


def sse(*chunks: bytes, delay: float = 0.0):
    """An event stream, close-delimited: each chunk written as is, `delay` seconds apart."""

    def handler(conn: Conn, request: Request) -> None:
        conn.head(200, SSE_HEADERS)
        for i, chunk in enumerate(chunks):
            if i and delay and conn.wait(delay):
                return
            conn.write(chunk)

    return handler


def endless_line(total: int = 48 * MIB, piece: int = MIB):
    """One SSE line of `total` bytes that never gets its newline, then the connection closes."""

    def handler(conn: Conn, request: Request) -> None:
        conn.head(200, SSE_HEADERS)
        conn.write(b"data: ")
        block = b"x" * piece
        for _ in range(total // piece):
            if not conn.write(block):
                return

    return handler


def trickle_headers(period: float = 1.0, seconds: float = 60.0):
    """A status line, then one header byte every `period` seconds, for up to `seconds`."""

    def handler(conn: Conn, request: Request) -> None:
        conn.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nX-Slow: ")
        for _ in range(int(seconds / period)):
            if conn.wait(period) or not conn.write(b"a"):
                return

    return handler


def keepalives(*first: bytes, period: float = 0.1, seconds: float = 60.0):
    """An event stream that sends `first` events, then only `: keep-alive` comments, for up to `seconds`."""

    def handler(conn: Conn, request: Request) -> None:
        conn.head(200, SSE_HEADERS)
        for event in first:
            conn.write(event)
        for _ in range(int(seconds / period)):
            if conn.wait(period) or not conn.write(b": keep-alive\n\n"):
                return

    return handler


def redirect(location: str, status: int = 307):
    return respond(status, b"moved\n", {"Location": location, "Content-Type": "text/plain"})
