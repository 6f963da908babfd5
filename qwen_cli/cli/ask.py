"""`qwen ask`: not built yet."""

from __future__ import annotations

import rich_click as click

from qwen_cli.errors import UsageError


@click.command(name="ask", context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
def ask() -> None:
    """Not built yet: this command is planned.

    \b
    Examples:
      qwen ask --help
    """
    raise UsageError("`qwen ask` is not built yet", hint="See the README for the commands that exist today.")
