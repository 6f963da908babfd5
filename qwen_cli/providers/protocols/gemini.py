"""Google's Gemini API (AI Studio): POST {base}/models/{model}:streamGenerateContent?alt=sse with x-goog-api-key.

Facts from Google's public Gemini API reference and troubleshooting pages (ai.google.dev): every SSE event is a
whole GenerateContentResponse (candidates[].content.parts[].text, finishReason, usageMetadata, modelVersion);
there is no [DONE], the last chunk carries the finishReason; a prompt refused by the safety filters comes back
as promptFeedback.blockReason; errors are `{"error": {"code": 404, "message": ..., "status": "NOT_FOUND"}}`,
and a bad key is a 400 INVALID_ARGUMENT whose details name API_KEY_INVALID.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from qwen_cli.errors import RequestError
from qwen_cli.providers import failures
from qwen_cli.providers.events import ChatRequest, Event, Finish, ReasoningDelta, TextDelta, Usage
from qwen_cli.providers.protocols import count
from qwen_cli.providers.protocols.openai import parse_event

if TYPE_CHECKING:
    from qwen_cli.auth.credentials import Credentials
    from qwen_cli.providers.sse import SSEEvent

END_MARKER = "a finishReason"  # what a complete stream ends with, for the cut-off message
BASE_HINT = (
    "Check the base URL: it should be the Gemini API's root (e.g. https://generativelanguage.googleapis.com/v1beta)."
)
ERROR_STATUS = {
    "INVALID_ARGUMENT": 400,
    "FAILED_PRECONDITION": 400,
    "UNAUTHENTICATED": 401,
    "PERMISSION_DENIED": 403,
    "NOT_FOUND": 404,
    "RESOURCE_EXHAUSTED": 429,
    "INTERNAL": 500,
    "UNAVAILABLE": 503,
    "DEADLINE_EXCEEDED": 504,
}
FILTERED = frozenset({"SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII", "IMAGE_SAFETY"})
ROLES = {"assistant": "model", "user": "user"}


def _model(credentials: Credentials, request: ChatRequest | None) -> str:
    name = (request.model if request is not None else None) or credentials.model
    return name.removeprefix("models/")


def chat_url(credentials: Credentials, request: ChatRequest | None = None) -> str:
    verb = "streamGenerateContent?alt=sse" if request is None or request.stream else "generateContent"
    return f"{credentials.base_url.rstrip('/')}/models/{quote(_model(credentials, request), safe='-._~')}:{verb}"


def models_url(credentials: Credentials) -> str:
    return credentials.base_url.rstrip("/") + "/models?pageSize=1000"


def protocol_headers(credentials: Credentials) -> dict[str, str]:
    return {"x-goog-api-key": credentials.token} if credentials.token else {}


def request_body(credentials: Credentials, request: ChatRequest, usage_option: bool = True) -> dict[str, Any]:
    system = [str(m["content"]) for m in request.messages if m.get("role") == "system" and m.get("content")]
    body: dict[str, Any] = {
        "contents": [
            {"role": ROLES.get(m["role"], "user"), "parts": [{"text": str(m["content"])}]}
            for m in request.messages
            if m.get("role") != "system"
        ]
    }
    if system:
        body["systemInstruction"] = {"parts": [{"text": "\n\n".join(system)}]}
    config: dict[str, Any] = {}
    for ours, theirs in (
        ("temperature", "temperature"),
        ("top_p", "topP"),
        ("max_tokens", "maxOutputTokens"),
        ("seed", "seed"),
    ):
        value = getattr(request, ours)
        if value is not None:
            config[theirs] = value
    if request.stop:
        config["stopSequences"] = list(request.stop)
    if request.json_answer:  # JSON mode: ai.google.dev structured output, generationConfig.responseMimeType
        config["responseMimeType"] = "application/json"
    if config:
        body["generationConfig"] = config
    return body


def error_status(data: Any) -> int | None:
    err = data.get("error") if isinstance(data, dict) else None
    if not isinstance(err, dict):
        return None
    if "API_KEY_INVALID" in json.dumps(err.get("details") or []):
        return 401  # Google answers a wrong key with 400 INVALID_ARGUMENT; it is a credentials problem
    status = ERROR_STATUS.get(str(err.get("status") or ""))
    return status if status is not None else failures._status_in(data)


def model_ids(data: Any) -> list[str] | None:
    items = data.get("models") if isinstance(data, dict) else None
    if not isinstance(items, list):
        return None
    names = (item.get("name") if isinstance(item, dict) else None for item in items)
    return [n.removeprefix("models/") for n in names if isinstance(n, str)]


def _reason(raw: Any) -> str | None:
    if not isinstance(raw, str) or not raw or raw == "FINISH_REASON_UNSPECIFIED":
        return None
    if raw in FILTERED:
        return "content_filter"
    return {"STOP": "stop", "MAX_TOKENS": "length"}.get(raw, raw.lower())


def _chunk_events(payload: Any, credentials: Credentials) -> list[Event]:
    """One GenerateContentResponse (a stream chunk or the whole answer) as events."""
    if not isinstance(payload, dict):
        return []
    if payload.get("error"):
        raise failures.stream_error(payload, credentials, status=error_status(payload))
    feedback = payload.get("promptFeedback")
    blocked = feedback.get("blockReason") if isinstance(feedback, dict) else None
    if blocked:
        raise RequestError(
            f"Gemini refused the prompt: blocked for {blocked} (promptFeedback.blockReason)",
            hint="Rephrase the prompt; the provider's safety filters decide what is blocked.",
        )
    out: list[Event] = []
    candidates = payload.get("candidates") or []
    first = candidates[0] if isinstance(candidates, list) and candidates else None
    reason = None
    if isinstance(first, dict):
        content = first.get("content") or {}
        for part in content.get("parts") or () if isinstance(content, dict) else ():
            text = part.get("text") if isinstance(part, dict) else None
            if isinstance(text, str) and text:
                out.append(ReasoningDelta(text) if part.get("thought") is True else TextDelta(text))
        reason = _reason(first.get("finishReason"))
    raw = payload.get("usageMetadata")
    prompt, total = count(raw, "promptTokenCount"), count(raw, "totalTokenCount")
    answer, thoughts = count(raw, "candidatesTokenCount"), count(raw, "thoughtsTokenCount")
    completion = answer + (thoughts or 0) if answer is not None else thoughts
    if prompt is not None or completion is not None or total is not None:
        out.append(Usage(prompt, completion, total))
    model = payload.get("modelVersion") if isinstance(payload.get("modelVersion"), str) else None
    if reason or model:
        out.append(Finish(reason, model))
    return out


def json_events(data: Any, credentials: Credentials, model: str | None) -> Iterator[Event]:
    events = _chunk_events(data, credentials)
    finish = next((e for e in events if isinstance(e, Finish)), None)
    yield from (e for e in events if not isinstance(e, Finish))
    yield Finish(finish.reason if finish else None, (finish.model if finish else None) or model)


class Decoder:
    def __init__(self, credentials: Credentials, host: str) -> None:
        self.credentials = credentials
        self.host = host

    def feed(self, event: SSEEvent) -> list[Event] | None:
        data = event.data.strip()
        return _chunk_events(parse_event(data, self.host), self.credentials) if data else []
