"""JSON on stdout: one document (pretty) or one NDJSON line, with DEL and C1 escaped as well as C0."""

from __future__ import annotations

import json
from typing import IO, Any


def write_json(stream: IO[str], payload: Any, pretty: bool = True) -> None:
    from qwen_cli.termsafe import json_text

    text = json.dumps(payload, indent=2 if pretty else None, ensure_ascii=False, default=str)
    stream.write(json_text(text) + "\n")
    stream.flush()


def write_json_lines(stream: IO[str], payloads: list[Any]) -> None:
    """One NDJSON line per payload, as write_json(pretty=False) writes it, all in one write."""
    from qwen_cli.termsafe import json_text

    lines = [json.dumps(payload, ensure_ascii=False, default=str) + "\n" for payload in payloads]
    stream.write(json_text("".join(lines)))
    stream.flush()
