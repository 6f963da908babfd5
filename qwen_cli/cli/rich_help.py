"""Help pages, rendered by rich-click. Imported only when a page is shown (`--help`, `qwen` with no command in a
pipe, a group without its subcommand), so a command that runs, `qwen ask` above all, never imports rich-click
or rich.

Commands may be plain click commands (`import click`) or rich-click ones: a plain one is rendered through a
rich-click view of it, which leaves the command itself untouched.
"""

from __future__ import annotations

from typing import Any

import click
import rich_click


class HelpFormatter(rich_click.RichHelpFormatter):
    def rich_text(self, text: Any, style: Any = "") -> Any:
        # rich-click dedents the text after a help's first paragraph a second time (inspect.cleandoc, which
        # leaves the first line out): when that text is only an indented `Examples:` block, the examples lose
        # their indentation. Starting it with a newline makes the second dedent a no-op.
        return super().rich_text("\n" + text if isinstance(text, str) else text, style)


class HelpContext(rich_click.RichContext):
    formatter_class = HelpFormatter


def render(ctx: click.Context) -> str:
    """The help page of `ctx.command`, as click's `Context.get_help()` returns it."""
    command = rich_view(ctx.command)
    # rich-click's own state (help config, console) comes from its constructor. Paragraphs keep the blank line
    # between them (rich-click's default joins them with a single line break).
    view = HelpContext(command, rich_help_config={"text_paragraph_linebreaks": "\n\n"})
    view.__dict__.update({k: v for k, v in vars(ctx).items() if k != "command"})  # click's state: ctx's
    formatter = view.make_formatter()
    command.format_help(view, formatter)
    return formatter.getvalue().rstrip("\n")


def rich_view(command: click.Command) -> click.Command:
    """`command` itself if rich-click made it, else a rich-click copy with the same state."""
    if isinstance(command, rich_click.RichCommand):
        return command
    view = _rich_class(type(command))(name=command.name)
    view.__dict__.update(vars(command))
    return view


_RICH_CLASSES: dict[type[click.Command], type[click.Command]] = {}


def _rich_class(cls: type[click.Command]) -> type[click.Command]:
    if cls not in _RICH_CLASSES:
        base = rich_click.RichGroup if issubclass(cls, click.Group) else rich_click.RichCommand
        _RICH_CLASSES[cls] = type(f"Rich{cls.__name__}", (base, cls), {})
    return _RICH_CLASSES[cls]
