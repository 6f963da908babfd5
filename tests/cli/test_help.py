"""Every command's --help renders and shows at least one example.

The command tree is walked from the root group (LazyGroup.get_command), so a command added later is covered
without touching this file.
"""

from __future__ import annotations

import re

import click
import pytest

from qwen_cli.cli.root import root
from tests.helpers import invoke, run_qwen


def command_paths() -> list[tuple[str, ...]]:
    paths: list[tuple[str, ...]] = [()]

    def walk(group: click.Group, prefix: tuple[str, ...]) -> None:
        ctx = click.Context(group, info_name="qwen")
        for name in group.list_commands(ctx):
            command = group.get_command(ctx, name)
            assert command is not None, f"{' '.join(prefix + (name,))} is listed but cannot be loaded"
            paths.append(prefix + (name,))
            if isinstance(command, click.Group):
                walk(command, prefix + (name,))

    walk(root, ())
    return paths


PATHS = command_paths()
EXAMPLE = re.compile(r"Examples?:\s*\n\s*(\S.*)")


def test_the_walk_found_every_group_and_some_subcommands():
    names = {p[0] for p in PATHS if p}
    assert {"ask", "chat", "auth", "config", "telemetry", "terms", "completion"} <= names
    assert ("auth", "login") in PATHS and ("config", "reference") in PATHS


@pytest.mark.parametrize("path", PATHS, ids=lambda p: " ".join(("qwen",) + p))
def test_help_renders_with_an_example(path, capsys):
    # In-process through the real boundary; rich-click writes help to sys.stdout, which capsys holds.
    result = invoke([*path, "--help"])
    captured = capsys.readouterr()
    text = result.stdout + captured.out
    assert result.exit_code == 0, result.output + captured.err
    assert "Usage:" in text
    match = EXAMPLE.search(text)
    assert match, f"`qwen {' '.join(path)} --help` has no Examples: section"
    first = match.group(1).strip()
    assert re.search(r"(^|[|(]\s*)qwen( |$)", first.split("#")[0]), (
        f"the first example of `qwen {' '.join(path)}` is not a qwen command line: {first!r}"
    )


@pytest.mark.parametrize("path", [(), ("auth", "login"), ("ask",)], ids=["root", "auth-login", "ask"])
def test_help_renders_in_a_real_process(path):
    result = run_qwen([*path, "--help"])
    assert result.exit_code == 0, result.stderr
    assert "Examples:" in result.stdout and "qwen " in result.stdout.split("Examples:")[1]


def _command(path: tuple[str, ...]) -> click.Command:
    command = root
    for name in path:
        command = command.get_command(click.Context(command, info_name=name), name)
    return command


@pytest.mark.parametrize("path", PATHS, ids=lambda p: " ".join(("qwen",) + p))
def test_examples_are_indented_and_fit_in_80_columns(path, capsys, monkeypatch):
    import inspect

    monkeypatch.setenv("COLUMNS", "80")
    help_text = inspect.cleandoc(_command(path).help)
    examples = help_text.split("Examples:\n", 1)[1].split("\n\n")[0].splitlines()
    result = invoke([*path, "--help"])
    lines = [line.rstrip() for line in (result.stdout + capsys.readouterr().out).splitlines()]
    heading = next(line for line in lines if line.strip() == "Examples:")
    for example in examples:  # as written, two spaces in from "Examples:", and never wrapped
        assert heading[: -len("Examples:")] + example.rstrip() in lines, (example, "\n".join(lines))


def test_paragraphs_of_a_help_page_keep_the_blank_line_between_them():
    result = run_qwen(["templates", "--help"], env={"COLUMNS": "100"})
    assert result.exit_code == 0, result.stderr
    lines = [line.strip() for line in result.stdout.splitlines()]
    examples = lines.index("Examples:")
    assert lines[examples - 1] == "" and lines[examples - 2].endswith("yours win on a name clash.")
