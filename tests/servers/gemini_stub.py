"""A real loopback server speaking the Gemini API (Google AI Studio), written from Google's public reference
(generateContent / streamGenerateContent with alt=sse, usageMetadata, finishReason, promptFeedback, error
statuses), stdlib only.

    stub = GeminiStub().start()
    stub.script(gemini_stream(["a", "b"], delay=0.05), gemini_error(429, "RESOURCE_EXHAUSTED", "quota"))
    ... point the client at stub.url ("http://127.0.0.1:PORT/v1beta") with key "gm-test-key" ...

POST /v1beta/models/{model}:streamGenerateContent?alt=sse (and :generateContent) answer scripted responses in
order, else a default one. The key travels in x-goog-api-key; a wrong one gets Google's answer to it, a 400
INVALID_ARGUMENT naming API_KEY_INVALID. GET /v1beta/models lists `stub.models` as "models/<id>".
"""

from __future__ import annotations

import json

from tests.servers.openai_stub import ErrorReply, OpenAIStub, Recorded, Response, StubHandler

KEY = "gm-test-key"
DEFAULT_TOKENS = ["Hello", " from", " gemini"]
DEFAULT_MODEL = "gemini-test"
BAD_KEY = {
    "error": {
        "code": 400,
        "message": "API key not valid. Please pass a valid API key.",
        "status": "INVALID_ARGUMENT",
        "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID"}],
    }
}


def _model_of(req: Recorded) -> str:
    path = req.path.split("?")[0]
    return path.rsplit("/", 1)[-1].split(":", 1)[0]


def _chunk(parts: list[dict], finish: str | None = None, usage: dict | None = None, model: str = "") -> dict:
    candidate: dict = {"content": {"role": "model", "parts": parts}, "index": 0}
    if finish:
        candidate["finishReason"] = finish
    out: dict = {"candidates": [candidate], "modelVersion": model}
    if usage:
        out["usageMetadata"] = usage
    return out


def _usage(prompt: int, answer: int, thoughts: int = 0) -> dict:
    usage = {"promptTokenCount": prompt, "candidatesTokenCount": answer, "totalTokenCount": prompt + answer + thoughts}
    if thoughts:
        usage["thoughtsTokenCount"] = thoughts
    return usage


class GeminiStream(Response):
    """One SSE event per token (thoughts first, as parts with thought=true); the last carries finishReason and
    usageMetadata. block_reason: a single chunk with promptFeedback.blockReason and no candidates.
    error_after=N: an error object instead of token N; truncate_after=N: the connection closes before it."""

    def __init__(
        self,
        tokens,
        delay=0.0,
        thoughts=(),
        prompt_tokens=7,
        finish="STOP",
        block_reason=None,
        error_after=None,
        error=None,
        truncate_after=None,
        times=1,
    ):
        self.tokens = list(tokens)
        self.delay = delay
        self.thoughts = list(thoughts)
        self.prompt_tokens = prompt_tokens
        self.finish = finish
        self.block_reason = block_reason
        self.error_after = error_after
        self.error = error or {"error": {"code": 503, "message": "The model is overloaded.", "status": "UNAVAILABLE"}}
        self.truncate_after = truncate_after
        self.times = times

    def send(self, h: StubHandler, req: Recorded) -> None:
        model = _model_of(req)
        out = h.begin_body(200, {"Content-Type": "text/event-stream"})

        def send(payload: dict) -> None:
            out.write(f"data: {json.dumps(payload)}\r\n\r\n".encode())

        if self.block_reason:
            send({"promptFeedback": {"blockReason": self.block_reason}, "usageMetadata": _usage(self.prompt_tokens, 0)})
            out.finish()
            return
        for piece in self.thoughts:
            send(_chunk([{"text": piece, "thought": True}], model=model))
        last = len(self.tokens) - 1
        for i, token in enumerate(self.tokens):
            if i and self.delay and h.sleep(self.delay):
                out.abort()
                return
            if self.truncate_after is not None and i >= self.truncate_after:
                out.abort()
                return
            if self.error_after is not None and i >= self.error_after:
                send(self.error)
                out.finish()
                return
            done = i == last and self.finish
            usage = _usage(self.prompt_tokens, len(self.tokens), len(self.thoughts)) if done else None
            send(_chunk([{"text": token}], self.finish if done else None, usage, model))
        if not self.tokens and self.finish:
            send(_chunk([], self.finish, _usage(self.prompt_tokens, 0), model))
        out.finish()


class GenerateReply(Response):
    def __init__(self, text, finish="STOP", times=1):
        self.text = text
        self.finish = finish
        self.times = times

    def send(self, h: StubHandler, req: Recorded) -> None:
        h.send_json(200, _chunk([{"text": self.text}], self.finish, _usage(7, 3), _model_of(req)))


def gemini_stream(tokens, **kwargs) -> GeminiStream:
    return GeminiStream(tokens, **kwargs)


def generate_reply(text, **kwargs) -> GenerateReply:
    return GenerateReply(text, **kwargs)


def gemini_error(code: int, status: str, message: str, headers=None, times=1) -> ErrorReply:
    return ErrorReply(code, {"error": {"code": code, "message": message, "status": status}}, headers, times)


class GeminiStub(OpenAIStub):
    """The Gemini API on 127.0.0.1 (scripting as OpenAIStub's)."""

    def __init__(self, accept_tokens=None, models=None):
        super().__init__(
            accept_tokens if accept_tokens is not None else {KEY}, models or [DEFAULT_MODEL, "gemini-other"]
        )

    @property
    def url(self) -> str:
        return self.base + "/v1beta"

    @property
    def chat_requests(self) -> list[Recorded]:
        with self._lock:
            return [r for r in self.requests if r.method == "POST" and ":" in r.path.split("?")[0]]

    def dispatch(self, h, rec):
        path = rec.path.split("?")[0].rstrip("/")
        if self.require_auth and rec.headers.get("x-goog-api-key") not in self.accept_tokens:
            h.send_json(400, BAD_KEY)
            return
        if path == "/v1beta/models" and rec.method == "GET":
            h.send_json(200, {"models": [{"name": f"models/{m}", "displayName": m} for m in self.models]})
            return
        if rec.method == "POST" and path.startswith("/v1beta/models/") and ":" in path:
            model, verb = _model_of(rec), path.rsplit(":", 1)[1]
            if model not in self.models:
                h.send_json(
                    404, {"error": {"code": 404, "message": f"models/{model} is not found", "status": "NOT_FOUND"}}
                )
                return
            if verb == "streamGenerateContent" and "alt=sse" not in rec.path:
                h.send_json(
                    400, {"error": {"code": 400, "message": "stub: alt=sse expected", "status": "INVALID_ARGUMENT"}}
                )
                return
            response = self._next_scripted()
            if response is None:
                stream = verb == "streamGenerateContent"
                response = GeminiStream(DEFAULT_TOKENS) if stream else GenerateReply("".join(DEFAULT_TOKENS))
            response.send(h, rec)
            return
        h.send_json(404, {"error": {"code": 404, "message": f"Not found: {rec.method} {path}", "status": "NOT_FOUND"}})


__all__ = ["GeminiStub", "gemini_error", "gemini_stream", "generate_reply"]
