"""qwen's own colours: ANSI SGR codes, added only after text has been cleaned (see `qwen_cli.termsafe`)."""

from __future__ import annotations

_ANSI = {"red": "31", "green": "32", "yellow": "33", "blue": "34", "magenta": "35", "cyan": "36", "dim": "2"}


def style(text: str, colour: str, enabled: bool) -> str:
    """`text` in `colour` when colour is enabled for its stream; empty text stays empty."""
    if not enabled or not text:
        return text
    return f"\x1b[{_ANSI[colour]}m{text}\x1b[0m"
