"""Two ways to run `qwen` in tests: in-process through the real error boundary, or as a subprocess."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from qwen_cli.cli.main import run
from qwen_cli.context import AppContext
from tests import forkserver


@dataclass
class Result:
    exit_code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


class _Stream(io.StringIO):
    def __init__(self, initial: str = "", tty: bool = False):
        super().__init__(initial)
        self._tty = tty

    def isatty(self) -> bool:
        return self._tty


def invoke(args: list[str], input: str | None = None, env: dict | None = None, tty: bool = False) -> Result:
    """Run `qwen ARGS` in-process with captured streams. `tty=True` pretends all three are terminals."""
    environ = dict(os.environ)
    environ.update(env or {})
    stdout, stderr = _Stream(tty=tty), _Stream(tty=tty)
    app = AppContext(
        stdin=_Stream(input or "", tty=tty and input is None),
        stdout=stdout,
        stderr=stderr,
        env=environ,
        cwd=Path.cwd(),
    )
    code = run(app, list(args))
    return Result(code, stdout.getvalue(), stderr.getvalue())


def qwen_command() -> list[str]:
    """The installed console script when present, else `python -m qwen_cli`."""
    script = Path(sys.executable).with_name("qwen")
    if script.exists():
        return [str(script)]
    found = shutil.which("qwen")
    return [found] if found else [sys.executable, "-m", "qwen_cli"]


def run_qwen(
    args: list[str],
    input: str | bytes | None = None,
    env: dict | None = None,
    timeout: float = 60,
    cwd: str | Path | None = None,
) -> Result:
    """Run `qwen ARGS` as its own process, with pipes for stdio and its exit code: forked from a warm server
    (tests/forkserver.py) where that is the same as a fresh exec, else a real subprocess."""
    environ = dict(os.environ)
    environ.update(env or {})
    data = input.encode() if isinstance(input, str) else input
    command = qwen_command()
    forked = forkserver.run(command[0], list(args), data or b"", environ, cwd, timeout) if len(command) == 1 else None
    if forked is None:
        proc = subprocess.run(
            command + list(args),
            input=data if data is not None else b"",
            capture_output=True,
            env=environ,
            timeout=timeout,
            cwd=cwd,
        )
        forked = proc.returncode, proc.stdout, proc.stderr
    code, stdout, stderr = forked
    return Result(code, stdout.decode("utf-8", "replace"), stderr.decode("utf-8", "replace"))


def login_second_api_key(openai_server, env: dict) -> None:
    """Configure a second method (a stored openrouter key served by the same stub) and make it active."""
    openai_server.accept_tokens = {"sk-test-key", "sk-second-key"}
    stored = run_qwen(
        [
            "auth",
            "login",
            "--method",
            "api-key",
            "--provider",
            "openrouter",
            "--base-url",
            openai_server.url,
            "--model",
            "other-model",
            "--key-stdin",
        ],
        input="sk-second-key\n",
        env={k: v for k, v in env.items() if not k.startswith("OPENAI_")},
    )
    assert stored.exit_code == 0, stored.stderr


def ended_after_signal(proc: subprocess.Popen, timeout: float = 10) -> int:
    """The child's exit code once a signal sent to it has ended it. If it is still running after `timeout`,
    the failure carries the kernel's view of its signals (pending, blocked, ignored, caught) before it is
    killed, which tells a lost signal from a slow exit."""
    try:
        return proc.wait(timeout)
    except subprocess.TimeoutExpired:
        try:
            status = Path(f"/proc/{proc.pid}/status").read_text()
            signals = " ".join(line for line in status.splitlines() if line.startswith(("SigPnd", "ShdPnd", "Sig")))
        except OSError:
            signals = "(no /proc here)"
        proc.kill()
        raise AssertionError(f"the child was still running {timeout} s after the signal: {signals}") from None
