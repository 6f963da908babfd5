"""`qwen ask` as a real process: tokens flow through pipes as they arrive, EPIPE, Ctrl-C, raw stdin bytes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time

import pytest

from tests.helpers import qwen_command, run_qwen
from tests.servers.openai_stub import stream_reply


@pytest.fixture
def env(openai_server):
    return {
        **os.environ,
        "OPENAI_API_KEY": "sk-test-key",
        "OPENAI_BASE_URL": openai_server.url,
        "OPENAI_MODEL": "test-model",
    }


def start(args, env, **kw):
    return subprocess.Popen(
        qwen_command() + ["ask", *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        **kw,
    )


def read_until(proc, predicate, timeout=15.0) -> tuple[bytes, list[tuple[float, bytes]]]:
    """Read stdout chunk by chunk, noting when each chunk arrived, until predicate(data) or EOF."""
    data = b""
    arrivals = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        chunk = os.read(proc.stdout.fileno(), 65536)
        if not chunk:
            break
        arrivals.append((time.monotonic(), chunk))
        data += chunk
        if predicate(data):
            break
    return data, arrivals


def test_tokens_reach_a_pipe_as_they_are_sent(openai_server, env):
    tokens = ["one ", "two ", "three ", "four ", "five"]
    openai_server.script(stream_reply(tokens, delay=0.3))
    proc = start(["count"], env)
    data, arrivals = read_until(proc, lambda d: False)
    proc.wait(timeout=15)
    assert proc.returncode == 0 and data == b"one two three four five\n"
    first_token_at = next(t for t, chunk in arrivals if b"one" in chunk)
    last_token_at = next(t for t, chunk in arrivals if b"five" in chunk)
    # the server needs 4 x 0.3 s between the first and the last token; a buffered client shows them together
    assert last_token_at - first_token_at > 0.9
    assert len(arrivals) >= 4


def test_stream_json_lines_reach_a_pipe_as_they_are_sent(openai_server, env):
    openai_server.script(stream_reply(["a", "b", "c"], delay=0.4))
    proc = start(["-o", "stream-json", "q"], env)
    data, arrivals = read_until(proc, lambda d: False)
    proc.wait(timeout=15)
    lines = [json.loads(line) for line in data.splitlines()]
    assert [line.get("text") for line in lines[:3]] == ["a", "b", "c"]
    assert arrivals[-1][0] - arrivals[0][0] > 0.6


def test_broken_pipe_exits_quietly(openai_server, env):
    openai_server.script(stream_reply([f"line {i}\n" for i in range(50)], delay=0.02))
    cmd = " ".join(qwen_command()) + ' ask q | head -1; echo "status=${PIPESTATUS[0]}" >&2'
    proc = subprocess.run(["bash", "-c", cmd], capture_output=True, env=env, timeout=30)
    assert proc.stdout == b"line 0\n"
    assert b"status=0" in proc.stderr
    assert b"Traceback" not in proc.stderr and b"Error" not in proc.stderr and b"BrokenPipe" not in proc.stderr


def test_ctrl_c_keeps_printed_text_and_exits_130(openai_server, env):
    openai_server.script(stream_reply(["first ", "second ", "third"], delay=1.0))
    proc = start(["q"], env)
    data, _ = read_until(proc, lambda d: b"first" in d)
    proc.send_signal(signal.SIGINT)
    rest, _ = read_until(proc, lambda d: False)
    proc.wait(timeout=10)
    stderr = proc.stderr.read().decode()
    assert proc.returncode == 130
    assert (data + rest).decode().startswith("first ")
    assert b"third" not in data + rest
    assert "Interrupted" in stderr and "Traceback" not in stderr


def test_ctrl_c_in_json_mode_prints_an_error_object(openai_server, env):
    openai_server.script(stream_reply(["first ", "second"], delay=1.0))
    proc = start(["-o", "stream-json", "q"], env)
    data, _ = read_until(proc, lambda d: b"first" in d)
    proc.send_signal(signal.SIGINT)
    rest, _ = read_until(proc, lambda d: False)
    proc.wait(timeout=10)
    lines = [json.loads(line) for line in (data + rest).splitlines()]
    assert proc.returncode == 130
    assert lines[0] == {"type": "delta", "text": "first "}
    assert lines[-1]["error"]["exit_code"] == 130


def test_cut_stream_in_a_pipe_keeps_text_and_exits_6(openai_server, env):
    openai_server.script(stream_reply(["kept", " lost"], truncate_after=1))
    result = run_qwen(["ask", "q"], env=env)
    assert result.exit_code == 6 and result.stdout == "kept\n"
    assert "cut off" in result.stderr and "Traceback" not in result.stderr


def test_non_utf8_stdin_is_replaced_with_a_warning(openai_server, env):
    result = run_qwen(["ask", "explain"], input=b"caf\xe9 cr\xe8me\n", env=env)
    assert result.exit_code == 0 and result.stdout == "Hello from stub\n"
    assert "stdin is not valid UTF-8" in result.stderr
    assert openai_server.chat_requests[-1].json["messages"][-1]["content"] == "explain\n\ncaf\ufffd cr\ufffdme"


def test_one_shot_does_not_import_rich_into_a_pipe(openai_server, env):
    code = (
        "import sys\n"
        "from qwen_cli.cli.main import main\n"
        "try:\n"
        "    main(['ask', 'hi'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "sys.stderr.write('\\nMODULES:' + ','.join(sorted(sys.modules)))\n"
    )
    import sys

    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL, timeout=30
    )
    assert proc.stdout == "Hello from stub\n"
    modules = set(proc.stderr.rsplit("MODULES:", 1)[1].split(","))
    assert "requests" in modules
    assert not {m for m in modules if m == "rich" or m.startswith("rich.")}
