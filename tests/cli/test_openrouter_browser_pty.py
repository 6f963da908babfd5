"""The OpenRouter browser login on a real pseudo-terminal: the person pastes the address at the prompt, the
model question after it still gets its own answer, and Ctrl-C (the terminal's, not a signal from outside)
stores nothing."""

from __future__ import annotations

import io
import os
import re

import pexpect

from tests.cli.test_openrouter_browser import _approve_without_following, _stored, _trusted_config, openrouter
from tests.helpers import qwen_command

__all__ = ["openrouter"]  # the fixture, shared with the subprocess tests
URL = r"http://127\.0\.0\.1:\d+/auth\?\S+"


def _spawn(args):
    command = qwen_command()
    environ = {**os.environ, "TERM": "xterm"}
    child = pexpect.spawn(
        command[0], command[1:] + args, env=environ, encoding="utf-8", timeout=30, dimensions=(40, 400)
    )
    child.logfile_read = io.StringIO()
    return child


def test_on_a_terminal_the_pasted_address_logs_in_and_the_model_is_still_asked(isolated, openrouter):
    _trusted_config(isolated, openrouter)
    child = _spawn(["auth", "login", "--provider", "openrouter", "--browser"])
    child.expect(URL)
    url = child.after
    child.expect("Waiting up to 5 min")
    child.sendline(_approve_without_following(url))
    child.expect(re.escape("Model (1-2 or an id, Enter for qwen/qwen3-coder): "))
    child.sendline("other-model")
    child.expect(r"Logged in: API Key \(openrouter\); model other-model")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0, child.logfile_read.getvalue()
    [key] = openrouter.keys
    assert key in _stored(isolated)
    assert key not in child.logfile_read.getvalue()


def test_ctrl_c_typed_on_the_terminal_while_waiting_stores_nothing(isolated, openrouter):
    _trusted_config(isolated, openrouter)
    child = _spawn(["auth", "login", "--provider", "openrouter", "--browser", "--model", "m"])
    child.expect("Waiting up to 5 min")
    child.send("http://127.0.0.1/callb")  # half a paste
    child.sendcontrol("c")
    child.expect("Interrupted.")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 130, child.logfile_read.getvalue()
    assert "Traceback" not in child.logfile_read.getvalue()
    assert _stored(isolated) == ""
    assert openrouter.exchanges == []
