"""Shared by the local-input, concurrent-writer and file tests: a planted canary key, the real `qwen` as a
subprocess, and the one-line-error check."""

from __future__ import annotations

import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from tests.helpers import Result, qwen_command, run_qwen
from tests.security.peak_rss import Launched
from tests.survival.util import without_root_bypass  # noqa: F401 - re-exported for the security tests

CANARY = "sk-CANARY-localfiles-7d41c9e2b8"


def api_env(openai_server, **extra) -> dict:
    """The api-key method pointed at the loopback stub, with the canary as the key."""
    openai_server.accept_tokens.add(CANARY)
    return {
        "QWEN_AUTH_METHOD": "api-key",
        "OPENAI_API_KEY": CANARY,
        "OPENAI_BASE_URL": openai_server.url,
        "OPENAI_MODEL": "test-model",
        "QWEN_NETWORK_MAX_RETRIES": "0",
        **extra,
    }


def assert_no_canary(result: Result) -> None:
    assert CANARY not in result.output and CANARY[-10:] not in result.output, result.output[-2000:]


def assert_one_line_error(result: Result, code: int, *fragments: str) -> str:
    """The exit code, one `Error:` line (with at most one `Hint:` line right after), no traceback, no canary;
    returns the Error and Hint lines joined, which must contain every fragment."""
    assert result.exit_code == code, (result.exit_code, result.stdout[-500:], result.stderr[-2000:])
    assert "Traceback" not in result.output, result.stderr
    lines = result.stderr.splitlines()
    errors = [i for i, line in enumerate(lines) if line.startswith("Error: ")]
    assert len(errors) == 1, result.stderr
    hints = [i for i, line in enumerate(lines) if line.startswith("Hint: ")]
    assert len(hints) <= 1 and all(i == errors[0] + 1 for i in hints), result.stderr
    shown = "\n".join(lines[errors[0] : errors[0] + 2])
    for fragment in fragments:
        assert fragment in shown, (fragment, shown)
    assert_no_canary(result)
    return shown


@dataclass
class Measured:
    result: Result
    seconds: float
    peak_rss_kb: int


def measure(args: list[str], stdin_path: str, env: dict | None = None, timeout: float = 60) -> Measured:
    """Run `qwen ARGS` with stdin from a file (e.g. /dev/zero); its own wall time and peak RSS (peak_rss.py)."""
    environ = dict(os.environ)
    environ.update(env or {})
    out_dir = Path(environ.get("TMPDIR", "/tmp"))
    with open(stdin_path, "rb") as stdin, _scratch(out_dir, "out") as out, _scratch(out_dir, "err") as err:
        start = time.monotonic()
        launched = Launched(
            qwen_command() + list(args), stdin=stdin, stdout=out, stderr=err, env=environ, preexec_fn=_limit_memory
        )
        deadline = start + timeout
        while not launched.poll():
            if time.monotonic() > deadline:
                launched.kill()
                raise AssertionError(f"qwen {' '.join(args)} still running after {timeout} s")
            time.sleep(0.01)
        seconds = time.monotonic() - start
        exit_code, peak_kb = launched.result()
        out.seek(0)
        err.seek(0)
        result = Result(exit_code, out.read().decode("utf-8", "replace"), err.read().decode("utf-8", "replace"))
    return Measured(result, seconds, peak_kb)


ADDRESS_SPACE_LIMIT = 2 << 30  # a broken cap then fails with MemoryError instead of eating the machine


def _limit_memory() -> None:
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE_LIMIT, ADDRESS_SPACE_LIMIT))


def _scratch(directory: Path, name: str):
    import tempfile

    return tempfile.TemporaryFile(prefix=f"qwen-{name}-", dir=directory)


def run_wrapped(
    wrap: list[str], args: list[str], input: str | bytes | None = None, env: dict | None = None, timeout: float = 60
) -> Result:
    if not wrap:
        return run_qwen(args, input=input, env=env, timeout=timeout)
    environ = dict(os.environ)
    environ.update(env or {})
    data = input.encode() if isinstance(input, str) else input
    proc = subprocess.run(
        wrap + qwen_command() + list(args),
        input=data if data is not None else b"",
        capture_output=True,
        env=environ,
        timeout=timeout,
    )
    return Result(proc.returncode, proc.stdout.decode("utf-8", "replace"), proc.stderr.decode("utf-8", "replace"))
