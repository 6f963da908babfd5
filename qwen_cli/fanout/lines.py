"""The output line of one input, the same for `--each` and `qwen batch results`:
`{"index", "id", "ok": true, "content", "usage"}` or `{"index", "id", "ok": false, "error": {type, message,
exit_code}, "usage"}`."""

from __future__ import annotations

from typing import Any

from qwen_cli.errors import QwenError


def answered(index: int, item_id: Any, content: str, usage: dict[str, Any] | None) -> dict[str, Any]:
    return {"index": index, "id": item_id, "ok": True, "content": content, "usage": usage}


def failed(index: int, item_id: Any, error: QwenError, usage: dict[str, Any] | None = None) -> dict[str, Any]:
    detail = {"type": error.kind, "message": error.message, "exit_code": int(error.exit_code)}
    return {"index": index, "id": item_id, "ok": False, "error": detail, "usage": usage}


def is_answered(line: Any) -> bool:
    return isinstance(line, dict) and line.get("ok") is True and "id" in line
