"""The error lines: `Error: <what>` and an optional `Hint: <what to do>` on stderr, the only place an error
is printed. JSON output formats also get `{"error": {...}}` on stdout, so a script reading stdout sees it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from qwen_cli.output.json import write_json
from qwen_cli.output.style import style

if TYPE_CHECKING:
    from qwen_cli.context import AppContext
    from qwen_cli.errors import QwenError


def print_error(app: AppContext, error: QwenError) -> None:
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
