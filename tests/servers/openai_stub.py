"""A real loopback OpenAI-compatible server for tests (stdlib only, no mocks).

    stub = OpenAIStub().start()
    stub.script(stream_reply(["a", "b"], delay=0.05), error(429, {"error": {"message": "slow"}}))
    ... point the client at stub.url ("http://127.0.0.1:PORT/v1") with key "sk-test-key" ...
    stub.stop()

Scripted responses are consumed in order by POST /v1/chat/completions; when the queue is empty a
default reply is sent (a stream when the request asks for one). Every request is recorded in
`stub.requests` before it is answered.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

DEFAULT_TOKENS = ["Hello", " from", " stub"]
DEFAULT_CONTENT = "Hello from stub"
DEFAULT_MODEL = "test-model"
INVALID_KEY_BODY = {"error": {"message": "Invalid API key", "type": "invalid_request_error", "code": "invalid_api_key"}}
_AUTO = "auto"


class Headers(dict):
    """Header dict with lower-cased keys; lookups are case-insensitive."""

    def __init__(self, items=()):
        super().__init__()
        for key, value in items:
            key = key.lower()
            super().__setitem__(key, value if key not in self else f"{self[key]}, {value}")

    def __getitem__(self, key):
        return super().__getitem__(key.lower())

    def __contains__(self, key):
        return isinstance(key, str) and super().__contains__(key.lower())

    def get(self, key, default=None):
        return super().get(key.lower(), default)


class Recorded:
    """One request as the server saw it."""

    def __init__(self, method: str, path: str, headers: Headers, body: bytes):
        self.method = method
        self.path = path
        self.headers = headers
        self.body = body
        self.time = time.monotonic()
        self.json = None
        if body:
            try:
                self.json = json.loads(body)
            except ValueError:
                self.json = None

    @property
    def form(self) -> dict[str, str]:
        """The body parsed as application/x-www-form-urlencoded (last value wins)."""
        from urllib.parse import parse_qsl

        return dict(parse_qsl(self.body.decode("utf-8", "replace"), keep_blank_values=True))

    @property
    def bearer(self) -> str | None:
        auth = self.headers.get("authorization", "")
        if auth[:7].lower() == "bearer ":
            return auth[7:].strip()
        return None

    def __repr__(self) -> str:
        return f"Recorded({self.method} {self.path}, {len(self.body)} bytes)"


# --------------------------------------------------------------------------------------------------
# Response builders. Each has `times` (how many requests it answers) and send(handler, request).


class Response:
    times = 1

    def send(self, h: StubHandler, req: Recorded) -> None:  # pragma: no cover - interface
        raise NotImplementedError


def _request_model(req: Recorded | None) -> str:
    if req is not None and isinstance(req.json, dict) and isinstance(req.json.get("model"), str):
        return req.json["model"]
    return DEFAULT_MODEL


def _wants_usage(req: Recorded | None) -> bool:
    if req is None or not isinstance(req.json, dict):
        return False
    opts = req.json.get("stream_options")
    return isinstance(opts, dict) and bool(opts.get("include_usage"))


def _usage_dict(usage) -> dict:
    if isinstance(usage, dict):
        return usage
    p, c, t = usage
    return {"prompt_tokens": p, "completion_tokens": c, "total_tokens": t}


class StreamReply(Response):
    def __init__(
        self,
        tokens,
        delay=0.0,
        model=None,
        usage=_AUTO,
        reasoning=(),
        finish_reason="stop",
        done=True,
        keepalive=False,
        crlf=False,
        split_bytes=None,
        truncate_after=None,
        error_after=None,
        multi_data_lines=False,
        headers=None,
        times=1,
        chunked=True,
        split_delay=0.002,
        error_message="The server had an error while processing your request.",
    ):
        self.tokens = list(tokens)
        self.delay = delay
        self.model = model
        self.usage = usage
        self.reasoning = list(reasoning or ())
        self.finish_reason = finish_reason
        self.done = done
        self.keepalive = keepalive
        self.crlf = crlf
        self.split_bytes = split_bytes
        self.truncate_after = truncate_after
        self.error_after = error_after
        self.multi_data_lines = multi_data_lines
        self.headers = dict(headers or {})
        self.times = times
        self.chunked = chunked
        self.split_delay = split_delay
        self.error_message = error_message

    # -- event encoding
    def _event(self, payload) -> bytes:
        nl = "\r\n" if self.crlf else "\n"
        text = payload if isinstance(payload, str) else json.dumps(payload, ensure_ascii=False)
        if self.multi_data_lines and text.startswith("{") and len(text) > 1:
            # SSE joins the data lines of one event with "\n", which JSON treats as whitespace.
            lines = ["data: {", "data: " + text[1:]]
        else:
            lines = ["data: " + text]
        return (nl.join(lines) + nl + nl).encode("utf-8")

    def _keepalive(self) -> bytes:
        nl = "\r\n" if self.crlf else "\n"
        return (": keep-alive" + nl + nl).encode()

    def events(self, req: Recorded | None = None):
        """Yield ("data", bytes) and ("pause", None) items; ("close", None) ends abruptly."""
        model = self.model or _request_model(req)
        cid = f"chatcmpl-stub-{id(self):x}"
        created = int(time.time())

        def chunk(delta, finish=None):
            return {
                "id": cid,
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
            }

        said_role = []

        def role(delta):
            # Like OpenAI: the role rides on the first delta only.
            if not said_role:
                said_role.append(True)
                return {"role": "assistant", **delta}
            return delta

        first = True
        for piece in self.reasoning:
            if not first:
                yield ("pause", None)
            first = False
            yield ("data", self._event(chunk(role({"reasoning_content": piece}))))
        for i, tok in enumerate(self.tokens):
            if self.truncate_after is not None and i >= self.truncate_after:
                yield ("close", None)
                return
            if self.error_after is not None and i >= self.error_after:
                yield ("data", self._event({"error": {"message": self.error_message, "type": "server_error"}}))
                return
            if not first:
                yield ("pause", None)
            first = False
            yield ("data", self._event(chunk(role({"content": tok}))))
        n = len(self.tokens)
        if self.truncate_after is not None and n >= self.truncate_after:
            yield ("close", None)
            return
        if self.error_after is not None and n >= self.error_after:
            yield ("data", self._event({"error": {"message": self.error_message, "type": "server_error"}}))
            return
        if self.finish_reason is not None:
            if not first:
                yield ("pause", None)
            yield ("data", self._event(chunk({}, self.finish_reason)))
        usage = self.usage
        if usage == _AUTO:
            usage = (5, n, 5 + n) if _wants_usage(req) else None
        if usage is not None:
            payload = {
                "id": cid,
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "choices": [],
                "usage": _usage_dict(usage),
            }
            yield ("data", self._event(payload))
        if self.done:
            yield ("data", self._event("[DONE]"))

    def send(self, h, req):
        headers = {"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
        headers.update(self.headers)
        out = h.begin_body(200, headers, chunked=self.chunked)
        for kind, data in self.events(req):
            if kind == "pause":
                if self.keepalive:
                    out.write(self._keepalive())
                if self.delay and h.sleep(self.delay):
                    out.abort()
                    return
            elif kind == "close":
                out.abort()
                return
            elif self.split_bytes:
                for start in range(0, len(data), self.split_bytes):
                    out.write(data[start : start + self.split_bytes])
                    if self.split_delay and h.sleep(self.split_delay):
                        out.abort()
                        return
            else:
                out.write(data)
        out.finish()


class JsonReply(Response):
    def __init__(
        self, content, model=None, usage=(5, 3, 8), finish_reason="stop", reasoning=None, headers=None, times=1
    ):
        self.content = content
        self.model = model
        self.usage = usage
        self.finish_reason = finish_reason
        self.reasoning = reasoning
        self.headers = dict(headers or {})
        self.times = times

    def body(self, req: Recorded | None = None) -> dict:
        message = {"role": "assistant", "content": self.content}
        if self.reasoning is not None:
            message["reasoning_content"] = self.reasoning
        body = {
            "id": f"chatcmpl-stub-{id(self):x}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": self.model or _request_model(req),
            "choices": [{"index": 0, "message": message, "finish_reason": self.finish_reason}],
        }
        if self.usage is not None:
            body["usage"] = _usage_dict(self.usage)
        return body

    def send(self, h, req):
        h.send_simple(200, json.dumps(self.body(req)).encode(), {"Content-Type": "application/json", **self.headers})


class ErrorReply(Response):
    def __init__(self, status, body, headers=None, times=1):
        self.status = status
        self.body = body
        self.headers = dict(headers or {})
        self.times = times

    def send(self, h, req):
        headers = dict(self.headers)
        if isinstance(self.body, (bytes, str)):
            data = self.body.encode() if isinstance(self.body, str) else self.body
            if not any(k.lower() == "content-type" for k in headers):
                headers["Content-Type"] = "text/plain; charset=utf-8"
        else:
            data = json.dumps(self.body).encode()
            if not any(k.lower() == "content-type" for k in headers):
                headers["Content-Type"] = "application/json"
        h.send_simple(self.status, data, headers)


class RawReply(Response):
    """Status line and headers as given, then exactly `chunks` (no framing added), then close."""

    def __init__(self, status=200, chunks=(), headers=None, delay=0.0, times=1):
        self.status = status
        self.chunks = [c.encode() if isinstance(c, str) else c for c in chunks]
        self.headers = dict(headers or {})
        self.delay = delay
        self.times = times

    def send(self, h, req):
        h.close_connection = True
        h.send_response(self.status)
        for k, v in self.headers.items():
            h.send_header(k, v)
        if not any(k.lower() == "connection" for k in self.headers):
            h.send_header("Connection", "close")
        h.end_headers()
        h.wfile.flush()
        for i, c in enumerate(self.chunks):
            if i and self.delay and h.sleep(self.delay):
                return
            h.wfile.write(c)
            h.wfile.flush()


class HangReply(Response):
    """Send SSE 200 headers (unless headers_first=False), then nothing for `seconds`, then close."""

    def __init__(self, seconds, headers_first=True, times=1):
        self.seconds = seconds
        self.headers_first = headers_first
        self.times = times

    def send(self, h, req):
        h.close_connection = True
        if self.headers_first:
            h.send_response(200)
            h.send_header("Content-Type", "text/event-stream")
            h.send_header("Transfer-Encoding", "chunked")
            h.end_headers()
            h.wfile.flush()
        h.sleep(self.seconds)
        h.abort_socket()


class CallReply(Response):
    """Escape hatch: fn(handler, recorded) writes whatever it likes."""

    def __init__(self, fn, times=1):
        self.fn = fn
        self.times = times

    def send(self, h, req):
        self.fn(h, req)


def stream_reply(tokens, **kwargs) -> StreamReply:
    return StreamReply(tokens, **kwargs)


def json_reply(content, **kwargs) -> JsonReply:
    return JsonReply(content, **kwargs)


def error(status, body, headers=None, times=1) -> ErrorReply:
    return ErrorReply(status, body, headers, times)


def raw(status=200, chunks=(), headers=None, delay=0.0, times=1) -> RawReply:
    return RawReply(status, chunks, headers, delay, times)


def hang(seconds, headers_first=True, times=1) -> HangReply:
    return HangReply(seconds, headers_first, times)


def call(fn, times=1) -> CallReply:
    return CallReply(fn, times)


# --------------------------------------------------------------------------------------------------
# Server plumbing shared with the OAuth stub.


class _BodyWriter:
    def __init__(self, h: StubHandler, chunked: bool):
        self.h = h
        self.chunked = chunked

    def write(self, data: bytes) -> None:
        if not data:
            return
        if self.chunked:
            data = f"{len(data):x}\r\n".encode() + data + b"\r\n"
        self.h.wfile.write(data)
        self.h.wfile.flush()

    def finish(self) -> None:
        if self.chunked:
            self.h.wfile.write(b"0\r\n\r\n")
            self.h.wfile.flush()

    def abort(self) -> None:
        self.h.abort_socket()


class StubHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "StubServer/1.0"

    def version_string(self):
        return self.server_version

    stub: StubServer  # set per subclass

    def log_message(self, format, *args):  # noqa: A002 - quiet
        pass

    def setup(self):
        super().setup()
        with self.stub._lock:
            self.stub.connections += 1
        if self.stub.nodelay:  # headers and body are separate writes: without it, delayed ACKs add ~40 ms each
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    # -- helpers for responses
    def sleep(self, seconds: float) -> bool:
        """Sleep, waking early if the server is stopping; True means 'stopping'."""
        return self.stub._stopping.wait(seconds)

    def abort_socket(self) -> None:
        self.close_connection = True
        try:
            self.wfile.flush()
        except OSError:
            pass
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def begin_body(self, status: int, headers: dict, chunked: bool = True) -> _BodyWriter:
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.flush()
        return _BodyWriter(self, chunked)

    def send_simple(self, status: int, data: bytes, headers: dict) -> None:
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
        self.wfile.flush()

    def send_json(self, status: int, body, headers: dict | None = None) -> None:
        self.send_simple(status, json.dumps(body).encode(), {"Content-Type": "application/json", **(headers or {})})

    # -- request reading
    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            parts = []
            while True:
                size_line = self.rfile.readline()
                size = int(size_line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                parts.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(parts)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _handle(self):
        body = self._read_body()
        rec = Recorded(self.command, self.path, Headers(self.headers.items()), body)
        self.stub._record(rec)
        try:
            self.stub.dispatch(self, rec)
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError):
            self.close_connection = True

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _handle


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def handle_error(self, request, client_address):  # quiet on client disconnects
        pass


class StubServer:
    """Base: start()/stop() a ThreadingHTTPServer on 127.0.0.1:0 in a daemon thread."""

    def __init__(self):
        self._lock = threading.RLock()
        self._stopping = threading.Event()
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None
        self.requests: list[Recorded] = []
        self.port: int | None = None
        self.nodelay = False  # True: answer without Nagle's delay (the fan-out bench)
        self.connections = 0  # TCP connections accepted: a client that reuses them opens few

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self):
        stub = self
        handler = type("Handler", (StubHandler,), {"stub": stub})
        self._stopping.clear()
        self._httpd = _Server(("127.0.0.1", 0), handler)
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, name=type(self).__name__, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join(timeout=2)
            self._thread = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def _record(self, rec: Recorded) -> None:
        with self._lock:
            self.requests.append(rec)

    def wait_for_requests(self, n: int, timeout: float = 5.0) -> bool:
        """Block until at least n requests have arrived."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.requests) >= n:
                return True
            time.sleep(0.01)
        return len(self.requests) >= n

    def dispatch(self, h: StubHandler, rec: Recorded) -> None:  # pragma: no cover - interface
        raise NotImplementedError


class OpenAIStub(StubServer):
    """OpenAI-compatible /v1/chat/completions and /v1/models.

    accept_tokens: bearer tokens accepted ("*" = any non-empty bearer); require_auth=False skips the check.
    models_response: a Response used for every GET /v1/models instead of the list (e.g. error(500, ...)).
    """

    def __init__(self, accept_tokens=None, models=None):
        super().__init__()
        self.accept_tokens: set[str] = set(accept_tokens) if accept_tokens is not None else {"sk-test-key"}
        self.models: list[str] = list(models) if models is not None else ["test-model", "other-model"]
        self.require_auth = True
        self.models_response: Response | None = None
        self._script: deque[list] = deque()  # [response, remaining]
        # For fan-out tests and the bench: seconds to wait before answering each chat request (a number, or
        # fn(recorded) -> seconds, so answers can come back out of order), and fn(recorded) -> Response | None
        # choosing a reply per request (None: the script, then the default).
        self.latency = 0.0
        self.reply_for = None

    @property
    def url(self) -> str:
        return self.base + "/v1"

    # -- scripting
    def script(self, *responses: Response) -> None:
        with self._lock:
            for r in responses:
                self._script.append([r, max(1, int(getattr(r, "times", 1)))])

    def pending(self) -> int:
        """How many scripted responses are still queued (counting `times`)."""
        with self._lock:
            return sum(n for _, n in self._script)

    def clear_script(self) -> None:
        with self._lock:
            self._script.clear()

    def _next_scripted(self) -> Response | None:
        with self._lock:
            if not self._script:
                return None
            entry = self._script[0]
            entry[1] -= 1
            if entry[1] <= 0:
                self._script.popleft()
            return entry[0]

    @property
    def chat_requests(self) -> list[Recorded]:
        with self._lock:
            return [r for r in self.requests if r.method == "POST" and r.path.split("?")[0].endswith("/completions")]

    @property
    def last(self) -> Recorded | None:
        with self._lock:
            return self.requests[-1] if self.requests else None

    # -- serving
    def _authorized(self, rec: Recorded) -> bool:
        if not self.require_auth:
            return True
        token = rec.bearer
        if not token:
            return False
        return "*" in self.accept_tokens or token in self.accept_tokens

    def dispatch(self, h, rec):
        path = rec.path.split("?")[0].rstrip("/")
        if path == "/v1/chat/completions" and rec.method == "POST":
            if not self._authorized(rec):
                h.send_json(401, INVALID_KEY_BODY)
                return
            latency = self.latency(rec) if callable(self.latency) else self.latency
            if latency and h.sleep(latency):
                return
            chosen = self.reply_for(rec) if self.reply_for is not None else None
            response = chosen or self._next_scripted() or self._default(rec)
            response.send(h, rec)
        elif path == "/v1/models" and rec.method in ("GET", "HEAD"):
            if not self._authorized(rec):
                h.send_json(401, INVALID_KEY_BODY)
                return
            if self.models_response is not None:
                self.models_response.send(h, rec)
                return
            h.send_json(
                200, {"object": "list", "data": [{"id": m, "object": "model", "owned_by": "stub"} for m in self.models]}
            )
        else:
            h.send_json(
                404,
                {
                    "error": {
                        "message": f"Not found: {rec.method} {path}",
                        "type": "invalid_request_error",
                        "code": "not_found",
                    }
                },
            )

    def _default(self, rec: Recorded) -> Response:
        if isinstance(rec.json, dict) and rec.json.get("stream") is True:
            return StreamReply(DEFAULT_TOKENS)
        return JsonReply(DEFAULT_CONTENT)
