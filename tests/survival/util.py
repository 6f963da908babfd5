"""Running `qwen` in the survival suite: every capture is registered for the final secret scan."""

from __future__ import annotations

import os
import signal
import subprocess
import time

from tests.helpers import Result, qwen_command, run_qwen
from tests.survival.registry import CANARIES, REGISTRY


def run(args: list[str], label: str = "", wrap: list[str] | None = None, **kwargs) -> Result:
    """run_qwen, registered for the secret scan. `wrap` prefixes the command (e.g. setpriv to drop root's
    permission bypass)."""
    if wrap:
        result = _run_wrapped(wrap, args, **kwargs)
    else:
        result = run_qwen(args, **kwargs)
    record(result, label or " ".join(args)[:80])
    return result


def _run_wrapped(wrap, args, input=None, env=None, timeout=60, cwd=None) -> Result:
    environ = dict(os.environ)
    environ.update(env or {})
    data = input.encode() if isinstance(input, str) else input
    proc = subprocess.run(
        wrap + qwen_command() + list(args),
        input=data if data is not None else b"",
        capture_output=True,
        env=environ,
        timeout=timeout,
        cwd=cwd,
    )
    return Result(proc.returncode, proc.stdout.decode("utf-8", "replace"), proc.stderr.decode("utf-8", "replace"))


def without_root_bypass() -> list[str] | None:
    """A prefix that runs a command as root *without* CAP_DAC_OVERRIDE/CAP_DAC_READ_SEARCH, so file modes apply
    (root ignores chmod otherwise). [] when not root; None when root and setpriv is missing."""
    import shutil

    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        return None
    return [setpriv, "--bounding-set=-dac_override,-dac_read_search", "--"]


def record(result: Result, label: str) -> None:
    REGISTRY.capture(f"stdout of {label}", result.stdout)
    REGISTRY.capture(f"stderr of {label}", result.stderr)
    REGISTRY.add("runs_captured")


def popen(args: list[str], env: dict | None = None, **kwargs) -> subprocess.Popen:
    environ = dict(os.environ)
    environ.update(env or {})
    kwargs.setdefault("stdin", subprocess.DEVNULL)
    kwargs.setdefault("stdout", subprocess.PIPE)
    kwargs.setdefault("stderr", subprocess.PIPE)
    return subprocess.Popen(qwen_command() + list(args), env=environ, **kwargs)


def finish(proc: subprocess.Popen, label: str, timeout: float = 60) -> Result:
    out, err = proc.communicate(timeout=timeout)
    result = Result(proc.returncode, out.decode("utf-8", "replace"), err.decode("utf-8", "replace"))
    record(result, label)
    return result


def wait_for_text(proc: subprocess.Popen, stream, needle: bytes, timeout: float = 20) -> bytes:
    """Read `stream` (a pipe of proc) until `needle` appears; returns what was read."""
    import selectors

    seen = b""
    sel = selectors.DefaultSelector()
    sel.register(stream, selectors.EVENT_READ)
    deadline = time.monotonic() + timeout
    try:
        while needle not in seen:
            left = deadline - time.monotonic()
            if left <= 0 or proc.poll() is not None and not sel.select(0):
                raise AssertionError(f"never saw {needle!r}; got {seen!r}")
            if sel.select(min(left, 0.2)):
                chunk = os.read(stream.fileno(), 65536)
                if not chunk:
                    raise AssertionError(f"stream closed before {needle!r}; got {seen!r}")
                seen += chunk
    finally:
        sel.close()
    return seen


def interrupt(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGINT)


def assert_one_line_error(result: Result, code: int) -> None:
    """The exit code, one `Error:` line (plus at most one `Hint:` line right after it), no traceback, no canary."""
    assert result.exit_code == code, (result.exit_code, result.stdout[-500:], result.stderr[-2000:])
    if not is_debug(result):  # --debug prints the (redacted) traceback on purpose
        assert "Traceback" not in result.output, result.stderr
    lines = result.stderr.splitlines()
    errors = [i for i, line in enumerate(lines) if line.startswith("Error: ")]
    assert len(errors) == 1, result.stderr
    hints = [i for i, line in enumerate(lines) if line.startswith("Hint: ")]
    assert len(hints) <= 1 and all(i == errors[0] + 1 for i in hints), result.stderr
    assert len(lines[errors[0]]) > len("Error: ") + 5, result.stderr
    assert_no_canary(result)


def is_debug(result: Result) -> bool:
    return any(line.startswith("debug: ") for line in result.stderr.splitlines())


def assert_no_canary(result: Result) -> None:
    for canary in CANARIES:
        assert canary not in result.output and canary[-12:] not in result.output, canary


def error_line(result: Result) -> str:
    return next(line for line in result.stderr.splitlines() if line.startswith("Error: "))


def hint_line(result: Result) -> str:
    return next((line for line in result.stderr.splitlines() if line.startswith("Hint: ")), "")
