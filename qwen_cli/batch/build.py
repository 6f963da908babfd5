"""The request file of a batch: one OpenAI Batch line per `--each` input,
`{"custom_id", "method": "POST", "url": "/v1/chat/completions", "body": {...}}`.

The inputs are read and filled by qwen_cli/fanout/inputs.py (the same lines and template as `ask --each`),
and each body is the one `qwen ask --no-stream` would send (the protocol module's request_body).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from qwen_cli.auth.credentials import Credentials
    from qwen_cli.fanout.inputs import Item

ENDPOINT = "/v1/chat/completions"


def custom_id(index: int) -> str:
    """The id that ties an output line to its input: its position, as the Batch API wants a string."""
    return str(index)


def request_lines(items: list[Item], creds: Credentials, model: str | None, options: dict[str, Any]) -> bytes:
    from qwen_cli.cli.ask import ask_messages
    from qwen_cli.providers import openai_compat
    from qwen_cli.providers.events import ChatRequest

    out = []
    for item in items:
        request = ChatRequest(messages=ask_messages(item.prompt, item.system), model=model, stream=False, **options)
        body = openai_compat.request_body(creds, request)
        line = {"custom_id": custom_id(item.index), "method": "POST", "url": ENDPOINT, "body": body}
        out.append(json.dumps(line, ensure_ascii=False))
    return ("\n".join(out) + "\n").encode("utf-8")
