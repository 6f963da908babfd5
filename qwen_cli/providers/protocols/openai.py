"""OpenAI chat completions: POST {base}/chat/completions, SSE chunks of `choices[].delta`, then `[DONE]`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from qwen_cli.errors import ServerError
from qwen_cli.providers import failures, limits
from qwen_cli.providers.events import ChatRequest, Event, Finish, ReasoningDelta, TextDelta, Usage
from qwen_cli.providers.protocols import count

if TYPE_CHECKING:
    from qwen_cli.auth.credentials import Credentials
    from qwen_cli.providers.sse import SSEEvent

END_MARKER = "[DONE] or a finish reason"  # what a complete stream ends with, for the cut-off message
BASE_HINT = "Check the base URL: it should be the provider's OpenAI-compatible API (usually ending in /v1)."


def chat_url(credentials: Credentials, request: ChatRequest | None = None) -> str:
    return credentials.base_url.rstrip("/") + "/chat/completions"


def protocol_headers(credentials: Credentials) -> dict[str, str]:
    return {"Authorization": f"Bearer {credentials.token}"} if credentials.token else {}


def request_body(credentials: Credentials, request: ChatRequest, usage_option: bool = True) -> dict[str, Any]:
    body: dict[str, Any] = {**request.extra_body}  # e.g. --schema's response_format; the fields below win
    body.update(model=request.model or credentials.model, messages=request.messages)
    for name in ("temperature", "top_p", "max_tokens", "seed"):
        value = getattr(request, name)
        if value is not None:
            body[name] = value
    if request.stop:
        body["stop"] = list(request.stop)
    body["stream"] = bool(request.stream)
    if request.stream and usage_option:
        body["stream_options"] = {"include_usage": True}
    return body


def error_status(data: Any) -> int | None:
    return None  # the HTTP status, or the code inside the error object, says it all


def models_url(credentials: Credentials) -> str:
    return credentials.base_url.rstrip("/") + "/models"


def model_ids(data: Any) -> list[str] | None:
    items = data.get("data") if isinstance(data, dict) else data
    if not isinstance(items, list):
        return None
    return [i for i in (item.get("id") if isinstance(item, dict) else item for item in items) if isinstance(i, str)]


def json_events(data: Any, credentials: Credentials, model: str | None) -> Iterator[Event]:
    if isinstance(data, dict) and "error" in data and not data.get("choices"):
        raise failures.stream_error(data, credentials)
    choices = data.get("choices") if isinstance(data, dict) else None
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        raise ServerError(
            f"{failures.host_of(credentials.base_url)} sent an answer without choices",
            hint="Check that the base URL points at an OpenAI-compatible API (it usually ends in /v1).",
        )
    choice = choices[0]
    message = choice.get("message") or {}
    reasoning = message.get("reasoning_content") or message.get("reasoning")
    if isinstance(reasoning, str) and reasoning:
        yield ReasoningDelta(reasoning)
    content = message.get("content")
    if isinstance(content, str) and content:
        yield TextDelta(content)
    usage = usage_of(data.get("usage"))
    if usage is not None:
        yield usage
    yield Finish(choice.get("finish_reason"), data.get("model") or model)


def parse_event(data: str, host: str) -> Any:
    """One SSE event's JSON, within the depth limit; a malformed one is a one-line ServerError."""
    limits.check_json_depth(data, host)
    try:
        return json.loads(data)
    except ValueError:
        raise ServerError(
            f"{host} sent a malformed stream event: {failures._clip(data)[:120]}",
            hint="The answer is incomplete; try again, or use --no-stream.",
        ) from None


class Decoder:
    def __init__(self, credentials: Credentials, host: str) -> None:
        self.credentials = credentials
        self.host = host

    def feed(self, event: SSEEvent) -> list[Event] | None:
        """One SSE event as a list of adapter events, or None for [DONE]."""
        data = event.data.strip()
        if data == "[DONE]":
            return None
        if not data:
            return []
        payload = parse_event(data, self.host)
        if event.event == "error" or (
            isinstance(payload, dict) and payload.get("error") and not payload.get("choices")
        ):
            raise failures.stream_error(payload, self.credentials)
        if not isinstance(payload, dict):
            return []
        out: list[Event] = []
        finished = False
        for choice in payload.get("choices") or ():
            if not isinstance(choice, dict) or choice.get("index", 0) != 0:
                continue
            delta = choice.get("delta") or choice.get("message") or {}
            if isinstance(delta, dict):
                reasoning = delta.get("reasoning_content") or delta.get("reasoning")
                if isinstance(reasoning, str) and reasoning:
                    out.append(ReasoningDelta(reasoning))
                content = delta.get("content")
                if isinstance(content, str) and content:
                    out.append(TextDelta(content))
            if choice.get("finish_reason"):
                out.append(Finish(choice["finish_reason"], payload.get("model")))
                finished = True
        usage = usage_of(payload.get("usage"))
        if usage is not None:
            out.append(usage)
        if payload.get("model") and not finished:
            out.append(Finish(None, payload["model"]))
        return out


def usage_of(raw: Any) -> Usage | None:
    if not isinstance(raw, dict):  # most stream chunks carry none
        return None
    prompt, completion, total = count(raw, "prompt_tokens"), count(raw, "completion_tokens"), count(raw, "total_tokens")
    if prompt is None and completion is None and total is None:
        return None
    if total is None and prompt is not None and completion is not None:
        total = prompt + completion
    return Usage(prompt, completion, total)
