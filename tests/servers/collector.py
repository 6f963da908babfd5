"""A loopback OTLP/HTTP logs collector for tests: it counts connections, requests and bytes.

    collector = Collector().start()      # url = http://127.0.0.1:PORT/v1/logs
    collector.status = 500               # answer every request with this status
    collector.delay = 2.0                # wait before answering
    collector.redirect = "/v1/elsewhere"  # answer POST /v1/logs with 307 to there (other paths get `status`)
    collector.snapshot()                 # (connections, requests, bytes) so far
    collector.stop()

`bytes` counts everything a client sent: request line, headers and body.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def verify_request(self, request, client_address):
        with self.owner.lock:
            self.owner.connections += 1
        return True


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # keep test output quiet
        pass

    def _record(self) -> None:
        owner = self.server.owner
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        head = self.requestline.encode("latin-1") + b"\r\n" + bytes(self.headers)
        with owner.lock:
            owner.requests.append(
                {"method": self.command, "path": self.path, "headers": dict(self.headers), "body": body}
            )
            owner.bytes += len(head) + len(body)
        if owner.delay:
            time.sleep(owner.delay)
        payload = b"{}"
        redirect = owner.redirect if self.path == "/v1/logs" else None
        self.send_response(307 if redirect else owner.status)
        if redirect:
            self.send_header("Location", redirect)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(payload)

    do_POST = do_GET = do_PUT = _record


class Collector:
    def __init__(self, status: int = 200, delay: float = 0.0):
        self.status = status
        self.delay = delay
        self.redirect: str | None = None
        self.lock = threading.Lock()
        self.connections = 0
        self.requests: list[dict] = []
        self.bytes = 0
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> Collector:
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.owner = self
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1/logs"

    def snapshot(self) -> tuple[int, int, int]:
        with self.lock:
            return self.connections, len(self.requests), self.bytes

    def raw(self) -> bytes:
        """Everything received, headers and bodies, for canary searches."""
        with self.lock:
            parts = []
            for r in self.requests:
                parts.append(json.dumps(r["headers"]).encode() + b"\n" + r["body"])
            return b"\n".join(parts)

    def records(self) -> list[dict]:
        """All logRecords received, in order."""
        out = []
        with self.lock:
            bodies = [r["body"] for r in self.requests]
        for body in bodies:
            data = json.loads(body)
            for resource in data["resourceLogs"]:
                for scope in resource["scopeLogs"]:
                    out.extend(scope["logRecords"])
        return out

    def wait_for(self, n: int, timeout: float = 15.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.snapshot()[1] >= n:
                return True
            time.sleep(0.02)
        return self.snapshot()[1] >= n


@pytest.fixture
def collector():
    """A started Collector, stopped after the test."""
    server = Collector().start()
    try:
        yield server
    finally:
        server.stop()
