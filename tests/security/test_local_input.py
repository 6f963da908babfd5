"""§6 Bad local input: endless or huge input stops at input.max_bytes, -f refuses what is not a regular file
without blocking, numbers that would crash later are refused when read, and an unwritable sessions directory
is exit 8 before the request. Every case is the real `qwen` against the loopback stub, with a canary key."""

from __future__ import annotations

import os
import stat

import pytest

from tests.helpers import run_qwen
from tests.security.localenv import (
    CANARY,
    api_env,
    assert_no_canary,
    assert_one_line_error,
    measure,
    run_wrapped,
    without_root_bypass,
)

FAST = 10.0  # seconds: far above the ~0.2 s these take, far below "reads until memory runs out"
BOUNDED_RSS_KB = 150 * 1024  # the cap is 8 MiB; an unbounded read of /dev/zero passes this in well under a second


# -- caps on stdin and -f -----------------------------------------------------------------------------------


@pytest.mark.parametrize("args", [["ask", "hi"], ["ask", "-f", "-", "hi"]], ids=["stdin", "-f -"])
def test_dev_zero_on_stdin_stops_at_the_cap_quickly_with_bounded_memory(openai_server, args):
    run = measure(args, "/dev/zero", env=api_env(openai_server))
    assert_one_line_error(run.result, 2, "stdin", "input.max_bytes", "qwen config set input.max_bytes")
    assert run.seconds < FAST, run.seconds
    assert run.peak_rss_kb < BOUNDED_RSS_KB, run.peak_rss_kb
    assert openai_server.chat_requests == []


def test_dev_zero_as_a_file_is_refused_as_a_device(openai_server):
    run = measure(["ask", "-f", "/dev/zero", "hi"], "/dev/null", env=api_env(openai_server))
    assert_one_line_error(run.result, 2, "-f /dev/zero", "character device", "regular files only")
    assert run.seconds < FAST
    assert openai_server.chat_requests == []


def test_a_fifo_without_a_writer_is_refused_and_never_blocks(openai_server, isolated):
    fifo = isolated.work / "pipe"
    os.mkfifo(fifo)
    result = run_qwen(["ask", "-f", str(fifo), "hi"], env=api_env(openai_server), timeout=FAST)
    assert_one_line_error(result, 2, "named pipe (FIFO)", "-f - for stdin")
    assert openai_server.chat_requests == []


def test_a_directory_is_refused(openai_server, isolated):
    result = run_qwen(["ask", "-f", str(isolated.work), "hi"], env=api_env(openai_server))
    assert_one_line_error(result, 2, "is a directory")


def test_a_huge_regular_file_is_refused_without_reading_it(openai_server, isolated):
    big = isolated.work / "big.log"
    with open(big, "wb") as fh:
        fh.truncate(1 << 30)  # sparse: 1 GiB that costs no disk
    run = measure(["ask", "-f", str(big), "hi"], "/dev/null", env=api_env(openai_server))
    assert_one_line_error(run.result, 2, f"-f {big}", "input.max_bytes (8388608 bytes")
    assert run.seconds < FAST and run.peak_rss_kb < BOUNDED_RSS_KB
    assert openai_server.chat_requests == []


def test_the_cap_is_the_setting_and_counts_stdin_and_files_together(openai_server, isolated):
    env = api_env(openai_server, QWEN_INPUT_MAX_BYTES="1000")
    (isolated.work / "a.txt").write_bytes(b"a" * 600)
    (isolated.work / "exact.txt").write_bytes(b"e" * 1000)
    ok = run_qwen(["ask", "-f", "exact.txt", "q"], env=env)
    assert ok.exit_code == 0 and ok.stdout == "Hello from stub\n", ok.stderr
    assert "e" * 1000 in openai_server.chat_requests[-1].json["messages"][-1]["content"]
    together = run_qwen(["ask", "-f", "a.txt", "q"], input=b"s" * 600, env=env)
    assert_one_line_error(together, 2, "-f a.txt", "input.max_bytes (1000 bytes")
    over = run_qwen(["ask", "q"], input=b"s" * 1001, env=env)
    assert_one_line_error(over, 2, "stdin", "(1000 bytes")
    assert len(openai_server.chat_requests) == 1


def test_dash_f_dash_attaches_stdin_once(openai_server):
    result = run_qwen(["ask", "-f", "-", "review"], input="print(1)\n", env=api_env(openai_server))
    assert result.exit_code == 0, result.stderr
    assert (
        openai_server.chat_requests[-1].json["messages"][-1]["content"] == "review\n\nFile: stdin\n```\nprint(1)\n```"
    )
    twice = run_qwen(["ask", "-f", "-", "-f", "-", "x"], input="y", env=api_env(openai_server))
    assert_one_line_error(twice, 2, "only once")


def test_chat_pipe_mode_stops_an_endless_line(openai_server):
    run = measure(["chat"], "/dev/zero", env=api_env(openai_server))
    assert_one_line_error(run.result, 2, "a line on stdin is longer than input.max_bytes")
    assert run.seconds < FAST and run.peak_rss_kb < BOUNDED_RSS_KB
    assert openai_server.chat_requests == []


# -- numbers that used to pass validation and crash later ----------------------------------------------------

BAD_TIMEOUTS = {
    "0": "more than 0",
    "nan": "finite",
    "inf": "finite",
    "-inf": "finite",
    "1e308": "at most 86400",
    "-5": "must not be negative",
}


@pytest.mark.parametrize("value", list(BAD_TIMEOUTS))
def test_bad_timeout_in_the_environment_is_exit_8_naming_key_and_origin(openai_server, value):
    env = api_env(openai_server, QWEN_NETWORK_READ_TIMEOUT=value)
    result = run_qwen(["ask", "hi"], env=env, timeout=30)
    assert_one_line_error(
        result,
        8,
        "network.read_timeout",
        BAD_TIMEOUTS[value],
        "(env:QWEN_NETWORK_READ_TIMEOUT)",
        "qwen config set network.read_timeout 120.0",
    )
    assert openai_server.chat_requests == []


@pytest.mark.parametrize(
    "toml",
    [
        "connect_timeout = nan",
        "headers_timeout = inf",
        "read_timeout = 0",
        "read_timeout = 99999999999999999999",
        "max_retries = -1",
        "idle_timeout = -1.5",
        "max_response_bytes = -3",
    ],
)
def test_bad_number_in_config_toml_is_exit_8_naming_the_file(openai_server, isolated, toml):
    isolated.qwen_home.mkdir(parents=True)
    cfg = isolated.qwen_home / "config.toml"
    cfg.write_text(f"[network]\n{toml}\n")
    result = run_qwen(["ask", "hi"], env=api_env(openai_server), timeout=30)
    assert_one_line_error(result, 8, "network." + toml.split()[0], f"(user:{cfg})")
    assert openai_server.chat_requests == []


@pytest.mark.parametrize(
    "key,value",
    [
        ("network.read_timeout", "inf"),
        ("network.connect_timeout", "0"),
        ("network.idle_timeout", "nan"),
        ("network.max_retries", "-1"),
        ("input.max_bytes", "0"),
        ("network.max_retries", "many"),
    ],
)
def test_config_set_with_a_bad_value_is_a_usage_error_and_keeps_the_file(isolated, key, value):
    assert run_qwen(["config", "set", "network.read_timeout", "30"]).exit_code == 0
    cfg = isolated.qwen_home / "config.toml"
    before = cfg.read_bytes()
    result = run_qwen(["config", "set", "--", key, value])  # `--`: "-1" is a value, not an option
    assert_one_line_error(result, 2, key, "(argument)", f"qwen config set {key}")
    assert cfg.read_bytes() == before


@pytest.mark.parametrize(
    "key,value",
    [
        ("network.max_retries", "0"),
        ("network.read_timeout", "0.5"),
        ("network.connect_timeout", "86400"),
        ("chat.history_size", "0"),
        ("network.idle_timeout", "0"),
        ("network.headers_timeout", "0"),
        ("network.max_event_bytes", "0"),
        ("network.max_response_bytes", "0"),
    ],
)
def test_edge_values_that_work_are_accepted(isolated, key, value):
    """Including 0 for the server caps, where it means off."""
    result = run_qwen(["config", "set", key, value])
    assert result.exit_code == 0, result.stderr


# -- an unwritable sessions directory -----------------------------------------------------------------------


@pytest.fixture
def no_root_bypass():
    wrap = without_root_bypass()
    if wrap is None:
        pytest.skip("running as root without setpriv: directory modes cannot be enforced")
    return wrap


def _read_only_sessions(isolated, with_session: bool = False):
    sessions = isolated.qwen_home / "sessions"
    sessions.mkdir(parents=True)
    if with_session:
        (sessions / "20250101-000000-abcdef.jsonl").write_text(
            '{"type": "meta", "id": "20250101-000000-abcdef", "created": 1.0}\n'
            '{"type": "message", "role": "user", "content": "earlier"}\n'
        )
    sessions.chmod(0o500)
    return sessions


@pytest.mark.parametrize("with_session", [False, True], ids=["no session yet", "newest session"])
def test_ask_continue_with_unwritable_sessions_is_exit_8_before_the_request(
    openai_server, isolated, no_root_bypass, with_session
):
    sessions = _read_only_sessions(isolated, with_session)
    before = sorted(p.name for p in sessions.iterdir())
    try:
        if with_session:
            (sessions / before[0]).chmod(0o400)
        result = run_wrapped(no_root_bypass, ["ask", "-c", "hi"], env=api_env(openai_server))
    finally:
        sessions.chmod(0o700)
    assert_one_line_error(result, 8, "cannot save the chat session", "writable")
    assert openai_server.chat_requests == []
    assert sorted(p.name for p in sessions.iterdir()) == before  # no 0-byte file, no probe left behind


def test_chat_with_unwritable_sessions_is_exit_8_before_the_request(openai_server, isolated, no_root_bypass):
    sessions = _read_only_sessions(isolated)
    try:
        result = run_wrapped(no_root_bypass, ["chat"], input="hello\n", env=api_env(openai_server))
    finally:
        sessions.chmod(0o700)
    assert_one_line_error(result, 8, f"{sessions}", "writable")
    assert openai_server.chat_requests == []
    assert list(sessions.iterdir()) == []


def test_sessions_still_work_when_writable(openai_server, isolated):
    first = run_qwen(["ask", "-c", "one"], env=api_env(openai_server))
    second = run_qwen(["ask", "-c", "two"], env=api_env(openai_server))
    assert first.exit_code == 0 and second.exit_code == 0, second.stderr
    [path] = (isolated.qwen_home / "sessions").glob("*.jsonl")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]
    assert CANARY not in path.read_text()
    assert_no_canary(second)


def test_a_key_on_stdin_is_read_under_the_input_cap(isolated):
    import subprocess
    import time

    from tests.helpers import qwen_command

    started = time.monotonic()
    with open("/dev/zero", "rb") as zero:
        proc = subprocess.run(
            qwen_command() + ["auth", "login", "--method", "api-key", "--provider", "openai", "--key-stdin"],
            stdin=zero,
            capture_output=True,
            timeout=30,
            env={**os.environ, "QWEN_INPUT_MAX_BYTES": "4096"},
        )
    assert proc.returncode == 2, proc.stderr
    assert b"--key-stdin: the input is larger than input.max_bytes" in proc.stderr
    assert time.monotonic() - started < 20
    assert not (isolated.qwen_home / "credentials.toml").exists()
