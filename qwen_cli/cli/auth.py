"""`qwen auth`: not built yet."""

from __future__ import annotations

import rich_click as click

from qwen_cli.errors import UsageError


@click.command(name="auth", context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
def auth() -> None:
    """Not built yet: this command is planned.

    \b
    Examples:
      qwen auth --help
    """
    raise UsageError("`qwen auth` is not built yet", hint="See the README for the commands that exist today.")
