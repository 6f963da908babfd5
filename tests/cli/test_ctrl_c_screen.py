"""Ctrl-C during a streamed markdown answer, as the user's screen shows it: the partial answer once.

The bytes are replayed through pyte, a terminal emulator, so cursor moves and line erasing count as a real
terminal would count them (a raw transcript always holds several redraws of the same line)."""

from __future__ import annotations

import io
import os
import time

import pexpect
import pyte
import pytest

from tests.helpers import qwen_command
from tests.servers.openai_stub import stream_reply

COLUMNS, ROWS = 80, 30
FIRST = "First line of the answer"


def _screen(raw: bytes) -> list[str]:
    screen = pyte.Screen(COLUMNS, ROWS)
    stream = pyte.ByteStream(screen)
    stream.feed(raw)
    return [line.rstrip() for line in screen.display]


def _interrupt(args, openai_server, send_first=None) -> list[str]:
    tokens = [FIRST + "\n\n", "Second para ", "more words"] + [" and more"] * 30
    openai_server.script(stream_reply(tokens, delay=0.3))
    env = dict(
        os.environ, OPENAI_API_KEY="sk-test-key", OPENAI_BASE_URL=openai_server.url, OPENAI_MODEL="m", TERM="xterm"
    )
    env.pop("COLUMNS", None)  # the width comes from the terminal itself, as in a real shell
    command = qwen_command()
    child = pexpect.spawn(command[0], [*command[1:], *args], env=env, dimensions=(ROWS, COLUMNS), timeout=15)
    child.logfile_read = io.BytesIO()  # every byte the terminal received
    if send_first is not None:
        child.expect_exact(b"> ")
        child.sendline(send_first)
    child.expect_exact(b"more words")
    time.sleep(0.4)  # let the live display redraw with the cursor in the last column
    child.sendintr()
    if send_first is not None:
        child.expect_exact(b"> ")
        child.sendeof()
    child.expect(pexpect.EOF)
    child.close()
    return _screen(child.logfile_read.getvalue())


@pytest.mark.parametrize("args, first", [(["ask", "hi"], None), (["chat"], "hi")], ids=["ask", "chat"])
def test_ctrl_c_shows_the_partial_answer_once(openai_server, isolated, args, first):
    lines = _interrupt(args, openai_server, first)
    assert sum(FIRST in line for line in lines) == 1, "\n".join(lines)
    assert any(line.startswith("Second para more words") for line in lines), "\n".join(lines)
