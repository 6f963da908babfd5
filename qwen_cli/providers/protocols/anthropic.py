"""Anthropic's Messages API: POST {base}/v1/messages, with SSE events named message_start, content_block_start,
content_block_delta (text_delta, thinking_delta), message_delta (stop_reason, usage), message_stop, ping, error.

Facts from Anthropic's public docs (platform.claude.com/docs/build-with-claude/streaming, and "HTTP errors"
at docs.anthropic.com): errors are `{"type": "error", "error": {"type": ..., "message": ...}}`, the same shape as
an `error` event inside a 200 stream; 529 is overloaded_error.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from qwen_cli.errors import ServerError, UsageError
from qwen_cli.providers import failures
from qwen_cli.providers.events import ChatRequest, Event, Finish, ReasoningDelta, TextDelta, Usage
from qwen_cli.providers.protocols import count
from qwen_cli.providers.protocols.openai import parse_event

if TYPE_CHECKING:
    from qwen_cli.auth.credentials import Credentials
    from qwen_cli.providers.sse import SSEEvent

VERSION = "2023-06-01"
FALLBACK_MAX_TOKENS = 4096  # required by the API; used when neither -n/--max-tokens nor the catalogue says
END_MARKER = "message_stop or a stop_reason"  # what a complete stream ends with, for the cut-off message
BASE_HINT = "Check the base URL: it should be the Anthropic API's root (e.g. https://api.anthropic.com)."
ERROR_STATUS = {
    "invalid_request_error": 400,
    "authentication_error": 401,
    "billing_error": 402,
    "permission_error": 403,
    "not_found_error": 404,
    "request_too_large": 413,
    "rate_limit_error": 429,
    "api_error": 500,
    "overloaded_error": 529,
}
STOP_REASONS = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    "tool_use": "tool_calls",
    "refusal": "content_filter",
}


def _root(credentials: Credentials) -> str:
    """The base with /v1 once: ANTHROPIC_BASE_URL is the host root, an older login stored it with /v1."""
    base = credentials.base_url.rstrip("/")
    return base if base.endswith("/v1") else base + "/v1"


def chat_url(credentials: Credentials, request: ChatRequest | None = None) -> str:
    return _root(credentials) + "/messages"


def models_url(credentials: Credentials) -> str:
    return _root(credentials) + "/models"


def is_anthropic_host(url: str) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    return host == "anthropic.com" or host.endswith(".anthropic.com")


def protocol_headers(credentials: Credentials) -> dict[str, str]:
    """Anthropic's own host takes the key as x-api-key; a gateway speaking the protocol takes a bearer token."""
    headers = {"anthropic-version": VERSION}
    if credentials.token:
        if is_anthropic_host(credentials.base_url):
            headers["x-api-key"] = credentials.token
        else:
            headers["Authorization"] = f"Bearer {credentials.token}"
    return headers


def request_body(credentials: Credentials, request: ChatRequest, usage_option: bool = True) -> dict[str, Any]:
    if request.seed is not None:
        raise UsageError("the Anthropic Messages API has no seed option", hint="Leave out --seed for this provider.")
    system = [m["content"] for m in request.messages if m.get("role") == "system" and m.get("content")]
    body: dict[str, Any] = {
        "model": request.model or credentials.model,
        "max_tokens": request.max_tokens or credentials.max_tokens or FALLBACK_MAX_TOKENS,
        "messages": [
            {"role": m["role"], "content": m["content"]} for m in request.messages if m.get("role") != "system"
        ],
    }
    if system:
        body["system"] = "\n\n".join(str(s) for s in system)
    if request.temperature is not None:
        body["temperature"] = request.temperature
    if request.top_p is not None:
        body["top_p"] = request.top_p
    if request.stop:
        body["stop_sequences"] = list(request.stop)
    body["stream"] = bool(request.stream)
    return body


def error_status(data: Any) -> int | None:
    err = data.get("error") if isinstance(data, dict) else None
    return ERROR_STATUS.get(str(err.get("type"))) if isinstance(err, dict) else None


def model_ids(data: Any) -> list[str] | None:
    items = data.get("data") if isinstance(data, dict) else None
    if not isinstance(items, list):
        return None
    return [item["id"] for item in items if isinstance(item, dict) and isinstance(item.get("id"), str)]


def _error(payload: Any, credentials: Credentials) -> Exception:
    return failures.stream_error(payload, credentials, status=error_status(payload))


def _reason(raw: Any) -> str | None:
    return STOP_REASONS.get(raw, raw) if isinstance(raw, str) and raw else None


def _usage(prompt: int | None, completion: int | None) -> Usage | None:
    if prompt is None and completion is None:
        return None
    total = prompt + completion if prompt is not None and completion is not None else None
    return Usage(prompt, completion, total)


def _block_events(block: Any, text_key: str = "text") -> list[Event]:
    if not isinstance(block, dict):
        return []
    kind = block.get("type")
    if kind in ("text", "text_delta") and isinstance(block.get("text"), str) and block["text"]:
        return [TextDelta(block["text"])]
    if kind in ("thinking", "thinking_delta") and isinstance(block.get("thinking"), str) and block["thinking"]:
        return [ReasoningDelta(block["thinking"])]
    return []  # tool input, signatures, redacted thinking: not shown


def json_events(data: Any, credentials: Credentials, model: str | None) -> Iterator[Event]:
    if isinstance(data, dict) and (data.get("type") == "error" or "error" in data):
        raise _error(data, credentials)
    content = data.get("content") if isinstance(data, dict) else None
    if not isinstance(content, list):
        raise ServerError(f"{failures.host_of(credentials.base_url)} sent a message without content", hint=BASE_HINT)
    for block in content:
        yield from _block_events(block)
    raw = data.get("usage")
    usage = _usage(count(raw, "input_tokens"), count(raw, "output_tokens"))
    if usage is not None:
        yield usage
    yield Finish(_reason(data.get("stop_reason")), data.get("model") or model)


class Decoder:
    """Keeps the input tokens of message_start for the usage that message_delta completes."""

    def __init__(self, credentials: Credentials, host: str) -> None:
        self.credentials = credentials
        self.host = host
        self.prompt: int | None = None
        self.completion: int | None = None
        self.model: str | None = None

    def feed(self, event: SSEEvent) -> list[Event] | None:
        data = event.data.strip()
        if not data:
            return []
        payload = parse_event(data, self.host)
        if not isinstance(payload, dict):
            return []
        kind = payload.get("type") or event.event
        if kind == "error" or event.event == "error":
            raise _error(payload, self.credentials)
        if kind == "message_stop":
            return None
        if kind == "message_start":
            message = payload.get("message") or {}
            raw = message.get("usage") if isinstance(message, dict) else None
            self.prompt = count(raw, "input_tokens")
            self.completion = count(raw, "output_tokens")
            self.model = message.get("model") if isinstance(message, dict) else None
            return [Finish(None, self.model)] if isinstance(self.model, str) and self.model else []
        if kind == "content_block_start":
            return _block_events(payload.get("content_block"))
        if kind == "content_block_delta":
            return _block_events(payload.get("delta"))
        if kind == "message_delta":
            raw = payload.get("usage")
            self.prompt = count(raw, "input_tokens") if count(raw, "input_tokens") is not None else self.prompt
            self.completion = (
                count(raw, "output_tokens") if count(raw, "output_tokens") is not None else self.completion
            )
            out: list[Event] = []
            usage = _usage(self.prompt, self.completion)
            if usage is not None:
                out.append(usage)
            delta = payload.get("delta") or {}
            reason = _reason(delta.get("stop_reason")) if isinstance(delta, dict) else None
            if reason:
                out.append(Finish(reason, self.model))
            return out
        return []  # ping, content_block_stop, and event types added later
