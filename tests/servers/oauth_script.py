"""A loopback OAuth authorization server whose every answer is scripted, for RFC edge cases and hostile servers.

    server = OAuthScript().start()
    server.device(interval=OMIT, expires_in="600")          # the next device reply (fields changed/removed)
    server.polls(pending(), slow_down(429), text(429, "Too many requests"), tokens())
    server.refreshes(html(200, "Hotel Wi-Fi login"))
    server.metadata = {...}                                  # RFC 8414, else GET /.well-known/... is a 404
    ... point qwen at server.base (QWEN_OAUTH_BASE_URL) ...
    server.poll_requests, server.refresh_requests, server.poll_gaps()
    server.stop()

Unscripted answers: a normal device reply, `authorization_pending` to every poll, a fresh token pair to every
refresh. Each scripted answer is an openai_stub Response (see the builders below), used once unless `times=N`.
"""

from __future__ import annotations

import json
import secrets
from collections import deque

from tests.servers.openai_stub import CallReply, ErrorReply, HangReply, Recorded, Response, StubServer

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
QWEN_DEVICE_PATH = "/api/v1/oauth2/device/code"
QWEN_TOKEN_PATH = "/api/v1/oauth2/token"
METADATA_PATH = "/.well-known/oauth-authorization-server"
OMIT = object()  # a field value that removes the field from a reply


def _fields(base: dict, overrides: dict) -> dict:
    body = dict(base)
    for key, value in overrides.items():
        if value is OMIT:
            body.pop(key, None)
        else:
            body[key] = value
    return body


# -- answers ---------------------------------------------------------------------------------------------


def json_answer(status: int, body, headers: dict | None = None, times: int = 1) -> Response:
    """A JSON body (a dict/list, or a str sent as it is with a JSON content type)."""
    data = body if isinstance(body, str) else json.dumps(body)
    return ErrorReply(status, data, {"Content-Type": "application/json", **(headers or {})}, times)


def oauth_error(error: str, status: int = 400, description: str | None = None, times: int = 1) -> Response:
    body = {"error": error}
    if description is not None:
        body["error_description"] = description
    return json_answer(status, body, times=times)


def pending(times: int = 1) -> Response:
    return oauth_error("authorization_pending", times=times)


def slow_down(status: int = 400, times: int = 1) -> Response:
    return oauth_error("slow_down", status, times=times)


def text(status: int, body: str, times: int = 1) -> Response:
    return ErrorReply(status, body, {"Content-Type": "text/plain; charset=utf-8"}, times)


def html(status: int, title: str, times: int = 1) -> Response:
    page = f"<!doctype html><html><head><title>{title}</title></head><body><h1>{title}</h1></body></html>"
    return ErrorReply(status, page, {"Content-Type": "text/html; charset=utf-8"}, times)


def empty(status: int = 200, times: int = 1) -> Response:
    return ErrorReply(status, b"", {"Content-Type": "application/json"}, times)


def redirect(location: str, status: int = 307, times: int = 1) -> Response:
    return ErrorReply(status, b"", {"Location": location, "Content-Type": "text/plain"}, times)


def hang(seconds: float, times: int = 1) -> Response:
    """Read the request, then say nothing (not even headers) for `seconds`, then close."""
    return HangReply(seconds, headers_first=False, times=times)


def drop(times: int = 1) -> Response:
    """Close the connection without answering."""
    return CallReply(lambda h, _req: h.abort_socket(), times)


def echo(status: int, body: dict, times: int = 1) -> Response:
    """A JSON answer with {field} placeholders filled from the request's form (e.g. {refresh_token})."""

    def send(h, req: Recorded):
        form = req.form
        filled = {k: v.format_map(_Missing(form)) if isinstance(v, str) else v for k, v in body.items()}
        h.send_json(status, filled)

    return CallReply(send, times)


class _Missing(dict):
    def __missing__(self, key):
        return ""


class _Tokens(Response):
    def __init__(self, fields: dict, times: int):
        self.fields = fields
        self.times = times

    def send(self, h, req):
        server: OAuthScript = h.stub
        body = _fields(
            {
                "access_token": "qat-" + secrets.token_urlsafe(18),
                "refresh_token": "qrt-" + secrets.token_urlsafe(18),
                "token_type": "Bearer",
                "expires_in": 3600,
            },
            self.fields,
        )
        if server.resource_url and "resource_url" not in self.fields:
            body["resource_url"] = server.resource_url
        if isinstance(body.get("access_token"), str):
            server.issued.append(body["access_token"])
            if server.on_token is not None:
                server.on_token(body["access_token"])
        h.send_json(200, body)


def tokens(times: int = 1, **fields) -> Response:
    """A token reply; fields override the defaults (OMIT removes one, e.g. expires_in=OMIT)."""
    return _Tokens(fields, times)


# -- the server ------------------------------------------------------------------------------------------


class OAuthScript(StubServer):
    def __init__(self):
        super().__init__()
        self.device_path = QWEN_DEVICE_PATH
        self.token_path = QWEN_TOKEN_PATH
        self.metadata: dict | Response | None = None
        self.resource_url: str | None = None
        self.on_token = None  # callable(access_token), e.g. an OpenAIStub's accept_tokens.add
        self.issued: list[str] = []
        self._queues: dict[str, deque] = {"device": deque(), "poll": deque(), "refresh": deque()}

    # -- scripting
    def _queue(self, name: str, answers) -> None:
        with self._lock:
            for answer in answers:
                self._queues[name].append([answer, max(1, int(getattr(answer, "times", 1)))])

    def _next(self, name: str) -> Response | None:
        with self._lock:
            queue = self._queues[name]
            if not queue:
                return None
            entry = queue[0]
            entry[1] -= 1
            if entry[1] <= 0:
                queue.popleft()
            return entry[0]

    def device_body(self, **overrides) -> dict:
        return _fields(
            {
                "device_code": "dc-" + secrets.token_urlsafe(18),
                "user_code": "WDJB-MJHT",
                "verification_uri": self.base + "/device",
                "verification_uri_complete": self.base + "/device?user_code=WDJB-MJHT",
                "expires_in": 600,
                "interval": 5,
            },
            overrides,
        )

    def device(self, *answers: Response, **overrides) -> None:
        """Script the next device reply: given answers, or the normal body with fields changed (OMIT removes)."""
        self._queue("device", answers or [json_answer(200, self.device_body(**overrides))])

    def polls(self, *answers: Response) -> None:
        self._queue("poll", answers)

    def refreshes(self, *answers: Response) -> None:
        self._queue("refresh", answers)

    # -- what was seen
    def _seen(self, kind: str) -> list[Recorded]:
        with self._lock:
            return [r for r in self.requests if _kind(self, r) == kind]

    @property
    def device_requests(self) -> list[Recorded]:
        return self._seen("device")

    @property
    def poll_requests(self) -> list[Recorded]:
        return self._seen("poll")

    @property
    def refresh_requests(self) -> list[Recorded]:
        return self._seen("refresh")

    @property
    def metadata_requests(self) -> list[Recorded]:
        return self._seen("metadata")

    def poll_gaps(self) -> list[float]:
        """Seconds between the device reply and the first poll, then between polls."""
        times = [r.time for r in self.device_requests[:1] + self.poll_requests]
        return [round(b - a, 2) for a, b in zip(times, times[1:], strict=False)]

    # -- serving
    def dispatch(self, h, rec: Recorded) -> None:
        kind = _kind(self, rec)
        if kind == "metadata":
            answer = self.metadata
            if answer is None:
                h.send_json(404, {"error": "not_found"})
            elif isinstance(answer, Response):
                answer.send(h, rec)
            else:
                h.send_json(200, answer)
            return
        if kind is None:
            html(404, "Not Found").send(h, rec)
            return
        if kind == "other":
            oauth_error("unsupported_grant_type").send(h, rec)
            return
        answer = self._next(kind)
        if answer is None:
            answer = {"device": lambda: json_answer(200, self.device_body()), "poll": pending, "refresh": tokens}[
                kind
            ]()
        answer.send(h, rec)


def _kind(server: OAuthScript, rec: Recorded) -> str | None:
    path = rec.path.split("?")[0]
    if rec.method == "GET" and path.startswith(METADATA_PATH):
        return "metadata"
    if rec.method != "POST":
        return None
    if path == server.device_path:
        return "device"
    if path == server.token_path:
        grant = rec.form.get("grant_type")
        return "poll" if grant == DEVICE_GRANT else "refresh" if grant == "refresh_token" else "other"
    return None


__all__ = [
    "OMIT",
    "OAuthScript",
    "drop",
    "echo",
    "empty",
    "hang",
    "html",
    "json_answer",
    "oauth_error",
    "pending",
    "redirect",
    "slow_down",
    "text",
    "tokens",
]
