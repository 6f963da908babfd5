"""SIGTERM and SIGHUP while an answer renders: the terminal gets its cursor back, the exit code is 143 or
129, a chat keeps the partial answer, and the OAuth lock still goes away."""

from __future__ import annotations

import json
import signal
import time

import pytest

from tests.auth.helpers import seed_oauth
from tests.helpers import qwen_command
from tests.security.terminal import env_for, finish, spawn, transcript
from tests.servers.openai_stub import stream_reply

SIGNALS = [(signal.SIGTERM, 143, "Terminated."), (signal.SIGHUP, 129, "Hung up.")]
IDS = ["SIGTERM", "SIGHUP"]


def _slow(openai_server) -> None:
    openai_server.script(stream_reply([f"word{i} " for i in range(300)], delay=0.05))


def _assert_restored(out: str) -> None:
    hidden = out.rfind("\x1b[?25l")
    assert hidden >= 0, "the live display never hid the cursor: nothing was tested"
    assert out.rfind("\x1b[?25h") > hidden, repr(out[-300:])
    assert "Traceback" not in out


@pytest.mark.parametrize(("sig", "code", "line"), SIGNALS, ids=IDS)
def test_signal_while_ask_renders_restores_the_cursor(openai_server, sig, code, line):
    _slow(openai_server)
    child = spawn(["ask", "hi"], env_for(openai_server))
    child.expect_exact(b"word5")
    child.kill(sig)
    out = finish(child)
    assert child.exitstatus == code, out[-300:]
    _assert_restored(out)
    assert line in out
    assert "word299" not in out


@pytest.mark.parametrize(("sig", "code", "line"), SIGNALS, ids=IDS)
def test_signal_while_chat_renders_restores_the_cursor_and_keeps_the_answer(openai_server, isolated, sig, code, line):
    _slow(openai_server)
    child = spawn(["chat"], env_for(openai_server))
    child.expect_exact(b"> ")
    child.sendline(b"tell me")
    child.expect_exact(b"word5")
    child.kill(sig)
    out = finish(child)
    assert child.exitstatus == code, out[-300:]
    _assert_restored(out)
    [path] = (isolated.qwen_home / "sessions").glob("*.jsonl")
    records = [json.loads(x) for x in path.read_text().splitlines()]
    answer = records[-1]
    assert answer["role"] == "assistant" and answer["cut"] is True
    assert answer["content"].startswith("word0 word1 word2 word3 word4 word5")


def test_sighup_during_a_token_refresh_still_removes_the_lock(isolated, oauth_server):
    seeded = seed_oauth(oauth_server, isolated.qwen_home, expires_in=-60)
    oauth_server.token_delay = 20
    child = spawn(["ask", "hi"], env_for(QWEN_AUTH_METHOD="qwen-oauth", QWEN_OAUTH_BASE_URL=oauth_server.base_url))
    deadline = time.monotonic() + 20
    while oauth_server.refresh_requests == 0 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert (isolated.qwen_home / "oauth_creds.lock").exists(), transcript(child)
    child.kill(signal.SIGHUP)
    out = finish(child)
    assert child.exitstatus == 129, out
    assert "Traceback" not in out
    assert not (isolated.qwen_home / "oauth_creds.lock").exists()
    assert json.loads((isolated.qwen_home / "oauth_creds.json").read_text()) == seeded


def test_an_ignored_sighup_stays_ignored(openai_server):
    """`nohup qwen ...`: the answer survives the terminal closing."""
    openai_server.script(stream_reply([f"w{i} " for i in range(20)], delay=0.05))
    command = ["bash", "-c", 'trap "" HUP; exec "$@"', "bash", *qwen_command(), "ask", "--raw", "hi"]
    child = spawn([], env_for(openai_server), command=command)
    child.expect_exact(b"w3")
    child.kill(signal.SIGHUP)
    out = finish(child)
    assert child.exitstatus == 0, out
    assert "w19" in out
