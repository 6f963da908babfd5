"""Running `qwen` on a real pseudo-terminal and checking what reached it, byte for byte."""

from __future__ import annotations

import io
import os
import re

import pexpect

from tests.helpers import qwen_command
from tests.security.hostile_api import FORBIDDEN

# The sequences qwen itself writes: colours and bold (SGR), the live display's cursor moves, line erases
# and cursor hide/show, readline's modes in chat, and the OSC 8 link around the device-login URL.
OWN = re.compile(
    r"\x1b\[[0-9;]*m"
    r"|\x1b\[[0-9]*[ABCDGK]"
    r"|\x1b\[\?(?:25|1034|2004|1)[hl]"
    r"|\x1b[=>]"
    r"|\x1b\]8;;[^\x1b\x07]*\x1b\\"
)
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def env_for(openai_server=None, **extra) -> dict:
    env = dict(os.environ, TERM="xterm", **extra)
    env.pop("NO_COLOR", None)  # let qwen style its own output: the checks must tell it from the server's
    if openai_server is not None:
        env.update(OPENAI_API_KEY="sk-test-key", OPENAI_BASE_URL=openai_server.url, OPENAI_MODEL="test-model")
    return env


def spawn(args, env, timeout=20, command=None):
    """`qwen ARGS` (or `command`, a list) on a 40x120 pty, recording every byte it writes."""
    argv = command or [*qwen_command(), *args]
    child = pexpect.spawn(argv[0], argv[1:], env=env, timeout=timeout, dimensions=(40, 120))
    child.logfile_read = io.BytesIO()
    return child


def transcript(child) -> str:
    return child.logfile_read.getvalue().decode("utf-8")


def finish(child) -> str:
    """Wait for the exit; the whole transcript."""
    child.expect(pexpect.EOF)
    child.close()
    return transcript(child)


def violations(text: str) -> list[str]:
    """What reached the terminal that qwen did not write for its own styling: empty when safe."""
    found = [f"{name}: {seq!r}" for name, seq in FORBIDDEN.items() if seq in text]
    rest = OWN.sub("", text)
    if "\x1b" in rest:
        at = rest.index("\x1b")
        found.append(f"an escape sequence qwen does not write: {rest[at : at + 20]!r}")
    stray = _CONTROL.search(rest)
    if stray:
        found.append(f"control character {stray.group()!r} near {rest[max(0, stray.start() - 20) : stray.end() + 5]!r}")
    return found
