"""`qwen ask` as a real process on the native protocols: tokens reach a pipe as the server sends them (timed
as tests/cli/test_ask_stream.py times the OpenAI stream), stream-json lines too, and a cut stream keeps its
text and exits 6."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from tests.cli.test_ask_stream import read_until
from tests.helpers import qwen_command, run_qwen
from tests.servers.anthropic_stub import KEY as ANT_KEY
from tests.servers.anthropic_stub import message_stream
from tests.servers.gemini_stub import KEY as GEM_KEY
from tests.servers.gemini_stub import gemini_stream

TOKENS = ["one ", "two ", "three ", "four ", "five"]


@pytest.fixture(params=["anthropic", "gemini"])
def protocol(request, isolated, anthropic_server, gemini_server):
    """(script, env) for one protocol: script(tokens, **kw) queues a streamed answer on its loopback server."""
    if request.param == "anthropic":
        env = {
            "ANTHROPIC_API_KEY": ANT_KEY,
            "ANTHROPIC_MODEL": "claude-test",
            "ANTHROPIC_BASE_URL": anthropic_server.url,
        }
        return lambda tokens, **kw: anthropic_server.script(message_stream(tokens, **kw)), {**os.environ, **env}
    isolated.qwen_home.mkdir(parents=True, exist_ok=True)
    (isolated.qwen_home / "config.toml").write_text(f'[providers.gemini]\nbase_url = "{gemini_server.url}"\n')
    env = {"GEMINI_API_KEY": GEM_KEY, "GEMINI_MODEL": "gemini-test"}
    return lambda tokens, **kw: gemini_server.script(gemini_stream(tokens, **kw)), {**os.environ, **env}


def start(args, env):
    return subprocess.Popen(
        qwen_command() + ["ask", *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )


def test_tokens_reach_a_pipe_as_they_are_sent(protocol):
    script, env = protocol
    script(TOKENS, delay=0.3)
    proc = start(["count"], env)
    data, arrivals = read_until(proc, lambda d: False)
    proc.wait(timeout=15)
    assert proc.returncode == 0 and data == b"one two three four five\n", proc.stderr.read()
    first_token_at = next(t for t, chunk in arrivals if b"one" in chunk)
    last_token_at = next(t for t, chunk in arrivals if b"five" in chunk)
    # 4 x 0.3 s between the first token and the last at the server; a buffered client shows them together
    assert last_token_at - first_token_at > 0.9
    assert len(arrivals) >= 4


def test_stream_json_lines_reach_a_pipe_as_they_are_sent(protocol):
    script, env = protocol
    script(["a", "b", "c"], delay=0.4)
    proc = start(["-o", "stream-json", "q"], env)
    data, arrivals = read_until(proc, lambda d: False)
    proc.wait(timeout=15)
    lines = [json.loads(line) for line in data.splitlines()]
    assert [line.get("text") for line in lines[:3]] == ["a", "b", "c"]
    assert arrivals[-1][0] - arrivals[0][0] > 0.6


def test_cut_stream_keeps_text_and_exits_6(protocol):
    script, env = protocol
    script(["kept", " lost"], truncate_after=1)
    result = run_qwen(["ask", "q"], env=env)
    assert result.exit_code == 6 and result.stdout == "kept\n"
    assert "cut off" in result.stderr and "Traceback" not in result.stderr
