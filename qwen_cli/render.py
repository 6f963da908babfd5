"""Output decisions: colour, error lines, JSON. Streaming answer renderers live in `qwen_cli.renderers`."""

from __future__ import annotations

import json
from typing import IO, Any

_ANSI = {"red": "31", "green": "32", "yellow": "33", "blue": "34", "magenta": "35", "cyan": "36", "dim": "2"}


def style(text: str, colour: str, enabled: bool) -> str:
    if not enabled or not text:
        return text
    return f"\x1b[{_ANSI[colour]}m{text}\x1b[0m"


def write_json(stream: IO[str], payload: Any, pretty: bool = True) -> None:
    from qwen_cli.termsafe import json_text

    text = json.dumps(payload, indent=2 if pretty else None, ensure_ascii=False, default=str)
    stream.write(json_text(text) + "\n")
    stream.flush()


def print_error(app, error) -> None:
    """One line `Error: <what>` plus an optional hint line on stderr; JSON formats also get an object on stdout.

    The lines on stderr always go through termsafe: messages and hints quote what servers sent."""
    from qwen_cli.secrets import redact

    message = redact(error.message, app.secrets)
    hint = redact(error.hint, app.secrets) if error.hint else None
    if app.output_format in ("json", "stream-json"):
        payload = error.to_dict()
        payload["message"], payload["hint"] = message, hint
        try:
            write_json(app.stdout, {"error": payload}, pretty=False)
        except (BrokenPipeError, ValueError):
            pass
    colour = app.color_for(app.stderr)
    app.stderr.write(style("Error: ", "red", colour) + _one_line(message) + "\n")
    if hint:
        app.stderr.write(style("Hint: ", "dim", colour) + _one_line(hint) + "\n")
    app.stderr.flush()


def _one_line(text: str) -> str:
    from qwen_cli.termsafe import clean

    return clean(" ".join(text.split()))
