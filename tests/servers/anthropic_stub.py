"""A real loopback server speaking Anthropic's Messages API, written from Anthropic's public docs (streaming
messages; HTTP errors), stdlib only.

    stub = AnthropicStub().start()
    stub.script(message_stream(["a", "b"], delay=0.05), anthropic_error(429, "rate_limit_error", "slow down"))
    ... point the client at stub.url ("http://127.0.0.1:PORT", the API root) with key "sk-ant-test" ...

POST /v1/messages answers scripted responses in order, else a default one (streamed when asked). The key is
taken from x-api-key (Anthropic's own header) or a bearer token (gateways). anthropic-version and max_tokens
are required, as the real API requires them. GET /v1/models lists `stub.models`.
"""

from __future__ import annotations

import json

from tests.servers.openai_stub import CallReply, ErrorReply, OpenAIStub, Recorded, Response, StubHandler

KEY = "sk-ant-test"
DEFAULT_TOKENS = ["Hello", " from", " claude"]
DEFAULT_MODEL = "claude-test"


def _event(name: str, payload: dict) -> bytes:
    return f"event: {name}\ndata: {json.dumps(payload)}\n\n".encode()


def error_body(kind: str, message: str) -> dict:
    return {"type": "error", "error": {"type": kind, "message": message}}


class MessageStream(Response):
    """message_start, a thinking block (if any), a text block of `tokens`, message_delta, message_stop.

    error_after=N: an `error` event (`error_type`) instead of token N; truncate_after=N: the connection
    closes before token N; stop=False: no message_delta/message_stop at all."""

    def __init__(
        self,
        tokens,
        delay=0.0,
        thinking=(),
        usage=(12, None),
        stop_reason="end_turn",
        model=None,
        error_after=None,
        error_type="overloaded_error",
        error_message="Overloaded",
        truncate_after=None,
        stop=True,
        times=1,
    ):
        self.tokens = list(tokens)
        self.delay = delay
        self.thinking = list(thinking)
        self.usage = usage
        self.stop_reason = stop_reason
        self.model = model
        self.error_after = error_after
        self.error_type = error_type
        self.error_message = error_message
        self.truncate_after = truncate_after
        self.stop = stop
        self.times = times

    def send(self, h: StubHandler, req: Recorded) -> None:
        model = self.model or (req.json or {}).get("model") or DEFAULT_MODEL
        prompt, completion = self.usage
        completion = len(self.tokens) if completion is None else completion
        out = h.begin_body(200, {"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})
        message = {
            "id": "msg_stub",
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": [],
            "stop_reason": None,
            "usage": {"input_tokens": prompt, "output_tokens": 1},
        }
        out.write(_event("message_start", {"type": "message_start", "message": message}))
        out.write(_event("ping", {"type": "ping"}))
        index = 0
        if self.thinking:
            out.write(_event("content_block_start", _start(index, {"type": "thinking", "thinking": ""})))
            for piece in self.thinking:
                out.write(_event("content_block_delta", _delta(index, {"type": "thinking_delta", "thinking": piece})))
            out.write(_event("content_block_delta", _delta(index, {"type": "signature_delta", "signature": "c2ln"})))
            out.write(_event("content_block_stop", {"type": "content_block_stop", "index": index}))
            index += 1
        out.write(_event("content_block_start", _start(index, {"type": "text", "text": ""})))
        for i, token in enumerate(self.tokens):
            if i and self.delay and h.sleep(self.delay):
                out.abort()
                return
            if self.truncate_after is not None and i >= self.truncate_after:
                out.abort()
                return
            if self.error_after is not None and i >= self.error_after:
                out.write(_event("error", error_body(self.error_type, self.error_message)))
                out.finish()
                return
            out.write(_event("content_block_delta", _delta(index, {"type": "text_delta", "text": token})))
        out.write(_event("content_block_stop", {"type": "content_block_stop", "index": index}))
        if self.stop:
            delta = {"type": "message_delta", "delta": {"stop_reason": self.stop_reason, "stop_sequence": None}}
            out.write(_event("message_delta", {**delta, "usage": {"output_tokens": completion}}))
            out.write(_event("message_stop", {"type": "message_stop"}))
        out.finish()


def _start(index: int, block: dict) -> dict:
    return {"type": "content_block_start", "index": index, "content_block": block}


def _delta(index: int, delta: dict) -> dict:
    return {"type": "content_block_delta", "index": index, "delta": delta}


class MessageReply(Response):
    """A whole (non-streamed) message."""

    def __init__(self, text, thinking=None, usage=(12, 3), stop_reason="end_turn", times=1):
        self.text = text
        self.thinking = thinking
        self.usage = usage
        self.stop_reason = stop_reason
        self.times = times

    def send(self, h: StubHandler, req: Recorded) -> None:
        content = ([{"type": "thinking", "thinking": self.thinking, "signature": "c2ln"}] if self.thinking else []) + [
            {"type": "text", "text": self.text}
        ]
        h.send_json(
            200,
            {
                "id": "msg_stub",
                "type": "message",
                "role": "assistant",
                "model": (req.json or {}).get("model") or DEFAULT_MODEL,
                "content": content,
                "stop_reason": self.stop_reason,
                "stop_sequence": None,
                "usage": {"input_tokens": self.usage[0], "output_tokens": self.usage[1]},
            },
        )


def message_stream(tokens, **kwargs) -> MessageStream:
    return MessageStream(tokens, **kwargs)


def message_reply(text, **kwargs) -> MessageReply:
    return MessageReply(text, **kwargs)


def anthropic_error(status: int, kind: str, message: str, headers=None, times=1) -> ErrorReply:
    return ErrorReply(status, error_body(kind, message), headers, times)


class AnthropicStub(OpenAIStub):
    """The Messages API on 127.0.0.1 (scripting as OpenAIStub's)."""

    def __init__(self, accept_tokens=None, models=None):
        super().__init__(
            accept_tokens if accept_tokens is not None else {KEY}, models or [DEFAULT_MODEL, "claude-other"]
        )

    @property
    def url(self) -> str:
        return self.base

    @property
    def chat_requests(self) -> list[Recorded]:
        with self._lock:
            return [r for r in self.requests if r.method == "POST" and r.path.split("?")[0] == "/v1/messages"]

    def _key(self, rec: Recorded) -> str | None:
        return rec.headers.get("x-api-key") or rec.bearer

    def dispatch(self, h, rec):
        path = rec.path.split("?")[0].rstrip("/")
        if path not in ("/v1/messages", "/v1/models"):
            h.send_json(404, error_body("not_found_error", f"Not found: {rec.method} {path}"))
            return
        if self.require_auth and self._key(rec) not in self.accept_tokens:
            h.send_json(401, error_body("authentication_error", "invalid x-api-key"))
            return
        if not rec.headers.get("anthropic-version"):
            h.send_json(400, error_body("invalid_request_error", "anthropic-version: header is required"))
            return
        if path == "/v1/models":
            data = [
                {"type": "model", "id": m, "display_name": m, "created_at": "2026-01-01T00:00:00Z"} for m in self.models
            ]
            h.send_json(200, {"data": data, "has_more": False, "first_id": self.models[0], "last_id": self.models[-1]})
            return
        body = rec.json if isinstance(rec.json, dict) else {}
        if not isinstance(body.get("max_tokens"), int):
            h.send_json(400, error_body("invalid_request_error", "max_tokens: Field required"))
            return
        response = self._next_scripted()
        if response is None:
            response = MessageStream(DEFAULT_TOKENS) if body.get("stream") else MessageReply("".join(DEFAULT_TOKENS))
        response.send(h, rec)


__all__ = ["AnthropicStub", "CallReply", "anthropic_error", "message_reply", "message_stream"]
