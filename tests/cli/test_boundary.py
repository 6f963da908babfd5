"""The single error boundary: one line, a hint, a stable exit code, never a traceback."""

from __future__ import annotations

import sys
import types

import pytest
import rich_click as click

from qwen_cli.cli import root as root_module
from qwen_cli.errors import EXIT_CODE_MEANINGS, ExitCode, NetworkError
from tests.helpers import invoke

CANARY = "sk-CANARY-boundary-1234567890"


def _register(monkeypatch, exc: BaseException):
    module = types.ModuleType("qwen_test_boom")

    @click.command()
    def boom():
        """Raise for the test."""
        raise exc

    module.boom = boom
    monkeypatch.setitem(sys.modules, "qwen_test_boom", module)
    monkeypatch.setitem(root_module.COMMANDS, "boom", "qwen_test_boom:boom")


def test_expected_error_prints_one_line_and_hint(monkeypatch):
    _register(monkeypatch, NetworkError("connection refused by 127.0.0.1:9", hint="Is the server running?"))
    result = invoke(["boom"])
    assert result.exit_code == ExitCode.NETWORK == 6
    assert result.stderr.splitlines() == ["Error: connection refused by 127.0.0.1:9", "Hint: Is the server running?"]
    assert result.stdout == ""


def test_unexpected_exception_is_internal_error_without_traceback(monkeypatch):
    _register(monkeypatch, ValueError(f"secret {CANARY}"))
    result = invoke(["boom"])
    assert result.exit_code == 1
    assert "internal error (ValueError), rerun with --debug" in result.stderr
    assert "Traceback" not in result.output
    assert CANARY not in result.output


def test_debug_shows_traceback_with_secrets_masked(monkeypatch):
    _register(monkeypatch, ValueError(f"secret {CANARY}"))
    result = invoke(["--debug", "boom"])
    assert result.exit_code == 1
    assert "Traceback" in result.stderr
    assert CANARY not in result.output
    assert "sk-…7890" in result.stderr


def test_ctrl_c_exits_130(monkeypatch):
    _register(monkeypatch, KeyboardInterrupt())
    result = invoke(["boom"])
    assert result.exit_code == 130
    assert "Interrupted" in result.stderr


def test_broken_pipe_is_quiet(monkeypatch):
    _register(monkeypatch, BrokenPipeError())
    result = invoke(["boom"])
    assert result.exit_code == 0
    assert result.stderr == ""


@pytest.mark.parametrize(
    "env, coloured",
    [({}, False), ({"FORCE_COLOR": "1"}, True), ({"FORCE_COLOR": "1", "NO_COLOR": "1"}, False)],
)
def test_colour_follows_no_color_and_force_color(monkeypatch, env, coloured):
    monkeypatch.delenv("NO_COLOR", raising=False)
    _register(monkeypatch, NetworkError("down"))
    result = invoke(["boom"], env=env)
    assert ("\x1b[31m" in result.stderr) is coloured


def test_no_color_flag_beats_force_color(monkeypatch):
    _register(monkeypatch, NetworkError("down"))
    result = invoke(["--no-color", "boom"], env={"FORCE_COLOR": "1"})
    assert "\x1b[" not in result.stderr


def test_every_exit_code_is_documented_in_the_readme():
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    for code, meaning in EXIT_CODE_MEANINGS.items():
        assert f"| {int(code)} | {meaning} |" in readme


def test_broken_pipe_in_any_command_exits_quietly_as_a_process():
    """A reader that closes at once (`| head -c0`) must not turn into Click's exit 1 or a traceback."""
    import subprocess

    from tests.helpers import qwen_command

    proc = subprocess.Popen([*qwen_command(), "config", "reference"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()
    err = proc.stderr.read()
    proc.stderr.close()
    assert proc.wait(timeout=30) == 0
    assert err == b""


@pytest.mark.parametrize(
    "args, error, usage",
    [
        (
            ["ask", "--modle", "x", "hi"],
            "No such option '--modle'. (Did you mean one of: '--file', '--model', '--profile'?)",
            "qwen ask [OPTIONS] [PROMPT]...",
        ),
        (["aks"], "No such command 'aks'. Did you mean 'ask'?", "qwen [OPTIONS] [COMMAND] [ARGS]..."),
        (["config", "set"], "Missing argument 'KEY'.", "qwen config set [OPTIONS] KEY VALUE"),
        (
            ["auth", "login", "--method", "nope"],
            "Invalid value for '--method' / '-m': 'nope' is not one of 'qwen-oauth', 'coding-plan', 'api-key'.",
            "qwen auth login [OPTIONS]",
        ),
        (["chat", "--resume"], "Option '--resume' requires an argument.", "qwen chat [OPTIONS]"),
        (
            ["ask", "--temperature", "5", "hi"],
            "Invalid value for '--temperature': 5.0 is not in the range 0<=x<=2.",
            "qwen ask [OPTIONS] [PROMPT]...",
        ),
        (["--bogus"], "No such option '--bogus'.", "qwen [OPTIONS] [COMMAND] [ARGS]..."),
    ],
    ids=[
        "no-such-option",
        "no-such-command",
        "missing-argument",
        "bad-choice",
        "needs-a-value",
        "out-of-range",
        "root-option",
    ],
)
def test_usage_errors_are_one_error_line_and_one_hint_exit_2(args, error, usage):
    from tests.helpers import run_qwen

    result = run_qwen(args)
    assert result.exit_code == 2
    assert result.stdout == ""
    command = usage.split(" [")[0]
    assert result.stderr.splitlines() == [f"Error: {error}", f"Hint: Usage: {usage} (more with `{command} --help`)."]
