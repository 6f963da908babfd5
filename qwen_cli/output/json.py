"""JSON on stdout: one document (pretty) or one NDJSON line, with DEL and C1 escaped as well as C0."""

from __future__ import annotations

import json
from typing import IO, Any


def write_json(stream: IO[str], payload: Any, pretty: bool = True) -> None:
    from qwen_cli.termsafe import json_text

    text = json.dumps(payload, indent=2 if pretty else None, ensure_ascii=False, default=str)
    stream.write(json_text(text) + "\n")
    stream.flush()
