"""A finished batch's output and error files, back as `--each` lines: one per input, in input order.

Each file line is `{"custom_id", "response": {"status_code", "body"} | null, "error": {...} | null}`, in any
order. A 2xx body is read by the protocol module as `qwen ask --no-stream` reads an answer; anything else
becomes the error a live request with that status would have been (auth, rate limit, rejected, server).
An input with no line in either file (the batch expired or was cancelled first) is a failed line too.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from qwen_cli.errors import AuthError, QwenError, RequestError, ServerError
from qwen_cli.fanout import lines

if TYPE_CHECKING:
    from qwen_cli.auth.credentials import Credentials
    from qwen_cli.batch.records import Record


def by_custom_id(*files: bytes) -> dict[str, dict[str, Any]]:
    """The lines of the output and error files, keyed by custom_id (the first line for an id wins)."""
    found: dict[str, dict[str, Any]] = {}
    for content in files:
        for raw in content.decode("utf-8", "replace").splitlines():
            try:
                entry = json.loads(raw)
            except ValueError:
                continue
            if isinstance(entry, dict) and isinstance(entry.get("custom_id"), str):
                found.setdefault(entry["custom_id"], entry)
    return found


def in_input_order(record: Record, found: dict[str, dict[str, Any]], status: str, creds: Credentials) -> list[dict]:
    from qwen_cli.batch.build import custom_id

    out = []
    for index, item_id in enumerate(record.ids):
        entry = found.get(custom_id(index))
        if entry is None:
            missing = ServerError(
                f"no answer: the batch ended {status} before this request ran",
                hint="Submit the inputs without an answer again.",
            )
            out.append(lines.failed(index, item_id, missing))
        else:
            out.append(_line(index, item_id, entry, creds, record.model))
    return out


def _line(index: int, item_id: Any, entry: dict[str, Any], creds: Credentials, model: str) -> dict[str, Any]:
    found = entry.get("response")
    response: dict[str, Any] = found if isinstance(found, dict) else {}
    status = response.get("status_code")
    body = response.get("body")
    error = entry.get("error")
    if error or not isinstance(status, int) or not 200 <= status < 300:
        return lines.failed(index, item_id, _error(status, error or body, creds))
    try:
        content, usage = _answer(body, creds, model)
    except QwenError as exc:
        return lines.failed(index, item_id, exc)
    return lines.answered(index, item_id, content, usage)


def _answer(body: Any, creds: Credentials, model: str) -> tuple[str, dict[str, Any] | None]:
    from qwen_cli.providers import openai_compat
    from qwen_cli.providers.events import TextDelta, Usage

    parts: list[str] = []
    usage = None
    for event in openai_compat.protocol_of(creds).json_events(body, creds, model):
        if isinstance(event, TextDelta):
            parts.append(event.text)
        elif isinstance(event, Usage):
            usage = event.as_dict()
    return "".join(parts), usage


def _error(status: Any, payload: Any, creds: Credentials) -> QwenError:
    """The error of one request in the batch, by its HTTP status as `qwen ask` would have met it."""
    from qwen_cli.providers import failures

    message = failures.message_from_json(payload) or "no reason given"
    code = failures.error_code(payload)
    shown = f"HTTP {status}" if isinstance(status, int) else code or "an error"
    if status in (401, 403):
        return AuthError(f"the provider rejected this request with {shown}: {message}", hint="Run `qwen auth status`.")
    if status == 429 or failures.is_quota(message, code):
        return failures.quota_or_rate_error(message, code, creds)
    if isinstance(status, int) and 400 <= status < 500:
        return RequestError(
            f"the provider rejected this request with {shown}: {message}",
            hint="Its reason is above; fix that input and submit it again.",
        )
    return ServerError(f"the provider failed this request ({shown}): {message}", hint="Submit it again.")
