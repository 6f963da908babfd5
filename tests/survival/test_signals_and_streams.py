"""The rest of the matrix, which needs a live process: Ctrl-C during login polling, a stream and a refresh;
SIGPIPE; non-UTF-8 and 20 MB stdin."""

from __future__ import annotations

import json
import signal
import time

from tests.auth.helpers import seed_oauth
from tests.helpers import Result
from tests.servers.openai_stub import stream_reply
from tests.survival.registry import CANARY_ACCESS, CANARY_KEY, CANARY_REFRESH, REGISTRY
from tests.survival.util import assert_no_canary, finish, popen, run, wait_for_text


def _plan(isolated, openai_server, **extra) -> dict:
    openai_server.accept_tokens.add(CANARY_KEY)
    isolated.qwen_home.mkdir(parents=True, exist_ok=True)
    (isolated.qwen_home / "credentials.toml").write_text(f'[coding-plan]\nbase_url = "{openai_server.url}"\n')
    (isolated.qwen_home / "credentials.toml").chmod(0o600)  # as qwen writes it: no "made private" warning
    return {"QWEN_AUTH_METHOD": "coding-plan", "BAILIAN_CODING_PLAN_API_KEY": CANARY_KEY, **extra}


def _row(name: str, code: int, result: Result, shown: str) -> None:
    REGISTRY.add("matrix_cases")
    REGISTRY.figures.setdefault("matrix_rows", []).append({"case": name, "exit": code, "error": shown, "hint": ""})


def _assert_interrupted(result: Result) -> str:
    assert result.exit_code == 130, result.output
    assert "Traceback" not in result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines and lines[-1] == "Interrupted.", result.stderr
    assert not any(line.startswith("Error: ") for line in lines), result.stderr
    assert_no_canary(result)
    return lines[-1]


def test_ctrl_c_during_a_stream(isolated, openai_server):
    openai_server.script(stream_reply([f"tok{i} " for i in range(100)], delay=0.1))
    proc = popen(["ask", "hi"], env=_plan(isolated, openai_server))
    first = wait_for_text(proc, proc.stdout, b"tok1")
    proc.send_signal(signal.SIGINT)
    result = finish(proc, "ctrl-c during a stream")
    result.stdout = first.decode() + result.stdout
    _row("Ctrl-C during a stream", 130, result, _assert_interrupted(result))
    assert result.stdout.startswith("tok0 tok1")  # the partial answer stays on stdout


def test_ctrl_c_during_login_polling(isolated, oauth_server):
    oauth_server.interval = 1
    proc = popen(["auth", "login", "--method", "qwen-oauth"], env={"QWEN_OAUTH_BASE_URL": oauth_server.base_url})
    device = oauth_server.wait_for_device(timeout=20)
    seen = wait_for_text(proc, proc.stderr, device.user_code.encode())
    assert oauth_server.wait_for_requests(2, timeout=10)
    proc.send_signal(signal.SIGINT)
    result = finish(proc, "ctrl-c during login polling")
    result.stderr = seen.decode() + result.stderr
    _row("Ctrl-C during login polling", 130, result, _assert_interrupted(result))
    assert not (isolated.qwen_home / "oauth_creds.json").exists()
    assert not (isolated.qwen_home / "oauth_creds.lock").exists()


def test_ctrl_c_during_a_refresh(isolated, oauth_server):
    seeded = seed_oauth(oauth_server, isolated.qwen_home, expires_in=-60, access=CANARY_ACCESS, refresh=CANARY_REFRESH)
    oauth_server.token_delay = 20
    proc = popen(["ask", "hi"], env={"QWEN_AUTH_METHOD": "qwen-oauth", "QWEN_OAUTH_BASE_URL": oauth_server.base_url})
    deadline = time.monotonic() + 20
    while oauth_server.refresh_requests == 0 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert oauth_server.refresh_requests == 1
    assert (isolated.qwen_home / "oauth_creds.lock").exists()
    proc.send_signal(signal.SIGINT)
    result = finish(proc, "ctrl-c during a refresh")
    _row("Ctrl-C during a token refresh", 130, result, _assert_interrupted(result))
    assert not (isolated.qwen_home / "oauth_creds.lock").exists()  # the lock went with it
    assert json.loads((isolated.qwen_home / "oauth_creds.json").read_text()) == seeded  # the login is intact
    for token in oauth_server.access_tokens:
        REGISTRY.secret(token)


def test_sigpipe_when_the_reader_goes_away(isolated, openai_server):
    """`qwen ask ... | head -c1`: the reader closes its end; qwen stops quietly with exit 0."""
    openai_server.script(stream_reply([f"tok{i} " for i in range(200)], delay=0.02))
    proc = popen(["ask", "hi"], env=_plan(isolated, openai_server))
    wait_for_text(proc, proc.stdout, b"t")
    proc.stdout.close()
    proc.wait(30)
    err = proc.stderr.read().decode()
    proc.stderr.close()
    result = Result(proc.returncode, "", err)
    from tests.survival.util import record

    record(result, "sigpipe")
    assert result.exit_code == 0, err
    assert "Traceback" not in err and "Error" not in err, err
    assert_no_canary(result)
    _row("SIGPIPE (reader closed, like `| head -c1`)", 0, result, "(nothing: quiet exit)")


def test_non_utf8_stdin_is_replaced_with_one_warning(isolated, openai_server):
    result = run(["ask", "what is this?"], env=_plan(isolated, openai_server), input=b"caf\xe9 \xff\xfe bytes\n")
    assert result.exit_code == 0, result.output
    warnings = [line for line in result.stderr.splitlines() if line.startswith("Warning: ")]
    assert len(warnings) == 1 and "UTF-8" in warnings[0], result.stderr
    assert "Traceback" not in result.output
    sent = openai_server.chat_requests[-1].json["messages"][-1]["content"]
    assert "caf\ufffd" in sent
    assert_no_canary(result)
    _row("non-UTF-8 stdin", 0, result, warnings[0])


def test_20_mb_of_stdin_is_sent_and_answered(isolated, openai_server):
    start = time.monotonic()
    env = _plan(isolated, openai_server, QWEN_INPUT_MAX_BYTES=str(32 * 1024 * 1024))  # above the 8 MiB default cap
    result = run(["ask", "count the x"], env=env, input=b"x" * (20 * 1024 * 1024), timeout=120)
    elapsed = time.monotonic() - start
    assert result.exit_code == 0, result.output[-2000:]
    assert result.stdout.strip() == "Hello from stub"
    assert len(openai_server.chat_requests[-1].body) > 20 * 1024 * 1024
    assert "Traceback" not in result.output
    REGISTRY.set("stdin_20mb_seconds", round(elapsed, 2))
    _row("20 MB of stdin (server accepts it)", 0, result, "(the answer)")
