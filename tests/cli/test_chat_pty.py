"""`qwen chat` on a real pseudo-terminal (pexpect): streaming, Ctrl-C, multi-line input, /model, /auth, resume."""

import io
import json
import os
import stat
import time

import pexpect
import pytest

from tests.helpers import login_second_api_key, qwen_command, run_qwen
from tests.servers.openai_stub import error, stream_reply

TIMEOUT = 10


@pytest.fixture
def env(openai_server):
    return dict(
        os.environ,
        OPENAI_API_KEY="sk-test-key",
        OPENAI_BASE_URL=openai_server.url,
        OPENAI_MODEL="test-model",
        TERM="xterm",
    )


def spawn(env, *args):
    command = qwen_command()
    child = pexpect.spawn(
        command[0], [*command[1:], "chat", *args], env=env, encoding="utf-8", timeout=TIMEOUT, dimensions=(40, 120)
    )
    return child


def prompt(child):
    child.expect_exact("> ")


def leave(child, how="eof"):
    if how == "eof":
        child.sendeof()
    else:
        child.sendline("/exit")
    child.expect(pexpect.EOF)
    child.close()
    return child.exitstatus


def contents(request):
    return [m["content"] for m in request.json["messages"]]


def test_banner_streaming_answer_and_ctrl_d(openai_server, env, isolated):
    openai_server.script(stream_reply(["# Title\n\n", "Some ", "**bold**", " text"], delay=0.05))
    child = spawn(env)
    child.expect_exact("qwen chat · api-key (custom), model test-model")
    child.expect_exact("Terms: ")
    child.expect_exact("/help")
    prompt(child)
    child.sendline("hello")
    child.expect_exact("Title")
    child.expect(r"Some (\x1b\[[0-9;]*m)*bold(\x1b\[[0-9;]*m)* text")  # rendered as markdown: no ** left
    prompt(child)
    assert leave(child) == 0
    assert contents(openai_server.chat_requests[0]) == ["hello"]
    history = isolated.qwen_home / "chat_history"
    assert stat.S_IMODE(history.stat().st_mode) == 0o600
    assert "hello" in history.read_text()


def test_ctrl_c_cuts_the_answer_keeps_it_and_the_session(openai_server, env, isolated):
    openai_server.script(stream_reply(["alpha", " beta", " gamma", " delta", " omega"], delay=0.4))
    child = spawn(env)
    prompt(child)
    child.sendline("tell me a long story")
    child.expect_exact("alpha")
    child.sendintr()
    child.expect_exact("answer cut")
    prompt(child)
    child.sendline("go on")
    child.expect_exact("Hello from stub")
    prompt(child)
    assert leave(child, "exit") == 0
    second = openai_server.chat_requests[1]
    sent = contents(second)
    assert sent[0] == "tell me a long story" and sent[2] == "go on"
    assert sent[1].startswith("alpha") and "omega" not in sent[1]
    [path] = (isolated.qwen_home / "sessions").glob("*.jsonl")
    records = [json.loads(line) for line in path.read_text().splitlines()]
    cut = [r for r in records if r.get("cut")]
    assert len(cut) == 1 and cut[0]["content"] == sent[1]


def test_ctrl_c_at_the_prompt_clears_the_line(openai_server, env):
    child = spawn(env)
    prompt(child)
    child.send("discard this")
    child.expect_exact("discard this")
    # CPython's readline loop misses a SIGINT that lands while it is handling a keystroke (it then waits
    # for the next key), so let the echo settle first, as a person's pause would.
    time.sleep(0.2)
    child.sendintr()
    prompt(child)
    child.sendline("kept")
    child.expect_exact("Hello from stub")
    prompt(child)
    assert leave(child) == 0
    assert [contents(r) for r in openai_server.chat_requests] == [["kept"]]


def test_multi_line_blocks_and_trailing_backslash(openai_server, env):
    child = spawn(env)
    prompt(child)
    child.sendline('"""')
    child.sendline("def f():")
    child.sendline("    return 1")
    child.sendline('"""')
    child.expect_exact("Hello from stub")
    prompt(child)
    child.sendline("first part \\")
    child.sendline("second part")
    child.expect_exact("Hello from stub")
    prompt(child)
    assert leave(child) == 0
    first, second = openai_server.chat_requests
    assert contents(first)[-1] == "def f():\n    return 1"
    assert contents(second)[-1] == "first part \nsecond part"


def test_model_lists_from_the_provider_and_picks_one(openai_server, env):
    child = spawn(env)
    prompt(child)
    child.sendline("/model")
    child.expect_exact("1. other-model")
    child.expect_exact("2. test-model  (current)")
    child.expect_exact("Pick a number or a name")
    child.sendline("1")
    child.expect_exact("Model: other-model")
    prompt(child)
    child.sendline("which model?")
    child.expect_exact("Hello from stub")
    prompt(child)
    child.sendline("/model test-model")
    child.expect_exact("Model: test-model")
    prompt(child)
    assert leave(child) == 0
    assert [r.path for r in openai_server.requests if r.method == "GET"] == ["/v1/models"]
    assert openai_server.chat_requests[0].json["model"] == "other-model"


def test_failed_turn_prints_the_error_and_the_session_goes_on(openai_server, env, isolated):
    openai_server.script(error(401, {"error": {"message": "Invalid API key"}}))
    child = spawn(env)
    prompt(child)
    child.sendline("first")
    child.expect_exact("Error:")
    prompt(child)
    child.sendline("/nope")
    child.expect_exact("unknown command /nope")
    prompt(child)
    child.sendline("second")
    child.expect_exact("Hello from stub")
    prompt(child)
    assert leave(child) == 0
    assert contents(openai_server.chat_requests[-1]) == ["second"]
    [path] = (isolated.qwen_home / "sessions").glob("*.jsonl")  # the failed first question left no file
    records = [json.loads(line) for line in path.read_text().splitlines()]
    assert [(r["type"], r.get("content")) for r in records[1:]] == [
        ("message", "second"),
        ("message", "Hello from stub"),
    ]


def test_auth_switches_method_mid_session_and_each_request_has_the_right_key(openai_server, env, isolated):
    login_second_api_key(openai_server, env)
    (isolated.qwen_home / "config.toml").unlink()  # the env key stays the active method at first
    child = spawn(env)
    child.expect_exact("model test-model")
    prompt(child)
    child.sendline("one")
    child.expect_exact("Hello from stub")
    prompt(child)
    child.sendline("/auth")
    child.expect_exact("Switch to:")
    child.expect_exact("Choose")
    child.sendline("api-key:openrouter")
    child.expect_exact("Now using api-key (openrouter), model other-model")
    prompt(child)
    child.sendline("two")
    child.expect_exact("Hello from stub")
    prompt(child)
    child.sendline("/auth api-key custom")
    child.expect_exact("Now using api-key (custom)")
    prompt(child)
    child.sendline("three")
    child.expect_exact("Hello from stub")
    prompt(child)
    assert leave(child) == 0
    requests = openai_server.chat_requests
    assert [r.bearer for r in requests] == ["sk-test-key", "sk-second-key", "sk-test-key"]
    assert [r.json["model"] for r in requests] == ["test-model", "other-model", "test-model"]
    assert contents(requests[2]) == ["one", "Hello from stub", "two", "Hello from stub", "three"]


def test_resume_in_a_terminal_carries_the_history(openai_server, env, isolated):
    assert run_qwen(["chat"], input="from a pipe\n", env=env).exit_code == 0
    child = spawn(env, "--continue")
    child.expect_exact("Resumed session")
    child.expect_exact("(1 turn)")
    prompt(child)
    child.sendline("/stats")
    child.expect_exact("Turns: 1")
    prompt(child)
    child.sendline("and now?")
    child.expect_exact("Hello from stub")
    prompt(child)
    assert leave(child) == 0
    assert contents(openai_server.chat_requests[-1]) == ["from a pipe", "Hello from stub", "and now?"]
    assert len(list((isolated.qwen_home / "sessions").glob("*.jsonl"))) == 1


def test_history_is_capped(openai_server, env, isolated):
    env = dict(env, QWEN_CHAT_HISTORY_SIZE="3")
    child = spawn(env)
    for i in range(5):
        prompt(child)
        child.sendline(f"/system prompt {i}")
    prompt(child)
    assert leave(child) == 0
    lines = [line for line in (isolated.qwen_home / "chat_history").read_text().splitlines() if "prompt" in line]
    assert lines == ["/system prompt 2", "/system prompt 3", "/system prompt 4"]


CANCELLED = "/auth cancelled; still using api-key (custom), model test-model."


def cancel(child, key):
    time.sleep(0.2)  # let the prompt settle, as a person's pause would (see test_ctrl_c_at_the_prompt...)
    if key == "eof":
        child.sendeof()
    else:
        child.sendintr()
    child.expect_exact(CANCELLED)
    prompt(child)


@pytest.mark.parametrize("key", ["eof", "intr"])
def test_ctrl_d_or_ctrl_c_at_an_auth_prompt_cancels_only_that_step(openai_server, env, isolated, key):
    child = spawn(env)
    prompt(child)
    child.sendline("before")
    child.expect_exact("Hello from stub")
    prompt(child)
    child.sendline("/auth")  # the menu
    child.expect_exact("Choose 1-2")
    cancel(child, key)
    child.sendline("/auth login")  # the method chooser
    child.expect_exact("Choose 1-3")
    cancel(child, key)
    child.sendline("/auth api-key groq")  # not configured: a login, down to the hidden key prompt
    child.expect_exact("input hidden")
    cancel(child, key)
    child.sendline("/auth login api-key")
    child.expect_exact("Which provider?")
    child.sendline("custom")
    child.expect_exact("Base URL")
    cancel(child, key)
    child.sendline("after")
    child.expect_exact("Hello from stub")
    prompt(child)
    assert leave(child) == 0
    requests = openai_server.chat_requests
    assert [r.bearer for r in requests] == ["sk-test-key", "sk-test-key"]
    assert contents(requests[1]) == ["before", "Hello from stub", "after"]
    assert not (isolated.qwen_home / "config.toml").exists()  # nothing switched or stored
    assert not (isolated.qwen_home / "credentials.toml").exists()


def test_ctrl_c_while_the_device_flow_waits_cancels_the_login(oauth_server, env, isolated):
    oauth_server.interval = 1  # never approved: the flow keeps polling until Ctrl-C
    env = dict(env, QWEN_OAUTH_BASE_URL=oauth_server.base_url)
    child = spawn(env)
    prompt(child)
    child.sendline("/auth qwen-oauth")
    child.expect_exact("Waiting for approval")
    cancel(child, "intr")
    child.sendline("still here")
    child.expect_exact("Hello from stub")
    prompt(child)
    assert leave(child) == 0
    assert [r.bearer for r in oauth_server.openai.chat_requests] == ["sk-test-key"]
    assert not (isolated.qwen_home / "oauth_creds.json").exists()


def test_stdout_redirected_answers_go_plain_to_the_file_and_line_editing_still_works(openai_server, env, isolated):
    openai_server.script(stream_reply(["# Title\n\n", "Some ", "**bold**", " text"], delay=0.05))
    out = isolated.work / "answers.md"
    command = " ".join(f"'{part}'" for part in [*qwen_command(), "chat"])
    child = pexpect.spawn(
        "/bin/sh", ["-c", f"exec {command} > '{out}'"], env=env, encoding="utf-8", timeout=TIMEOUT, dimensions=(40, 120)
    )
    child.logfile_read = screen = io.StringIO()
    child.expect_exact("qwen chat · api-key (custom), model test-model")  # the banner is on the terminal
    child.expect_exact("Answers go to stdout")
    prompt(child)
    child.sendline("first question")
    prompt(child)
    child.send("\x1b[A")  # Up: readline recalls the previous line
    child.expect_exact("first question")
    child.send("\x01")  # Ctrl-A, then type at the start of the line
    child.sendline("again: ")
    prompt(child)
    child.send("discard this")
    child.expect_exact("discard this")
    time.sleep(0.2)
    child.sendintr()  # Ctrl-C at the prompt still clears the line
    prompt(child)
    assert leave(child) == 0
    assert [contents(r)[-1] for r in openai_server.chat_requests] == ["first question", "again: first question"]
    assert out.read_text() == "# Title\n\nSome **bold** text\nHello from stub\n"  # plain: no ANSI, no prompts
    assert "Hello from stub" not in screen.getvalue() and "Title" not in screen.getvalue()
    history = (isolated.qwen_home / "chat_history").read_text()
    assert "first question" in history and "again: first question" in history


@pytest.mark.parametrize("how", ["eof", "exit"])
def test_leaving_says_where_the_session_is_and_how_to_resume_it(openai_server, env, isolated, how):
    child = spawn(env)
    prompt(child)
    child.sendline("hello")
    child.expect_exact("Hello from stub")
    prompt(child)
    if how == "eof":
        child.sendeof()
    else:
        child.sendline("/exit")
    [path] = (isolated.qwen_home / "sessions").glob("*.jsonl")
    child.expect_exact(f"Session {path.stem} saved; resume it with: qwen chat --resume {path.stem}")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert run_qwen(["chat", "--resume", path.stem], input="/stats\n", env=env).exit_code == 0


def test_an_empty_chat_leaves_without_a_session_line(openai_server, env, isolated):
    child = spawn(env)
    prompt(child)
    child.sendeof()
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0 and "saved" not in child.before
    assert not (isolated.qwen_home / "sessions").exists() or not list((isolated.qwen_home / "sessions").iterdir())


def test_bare_exit_quit_or_clear_asks_did_you_mean_first(openai_server, env, isolated):
    child = spawn(env)
    prompt(child)
    child.sendline("quit")
    child.expect_exact("Did you mean /quit? [Y/n] ")
    child.sendline("n")  # no: it is a message
    child.expect_exact("Hello from stub")
    prompt(child)
    child.sendline("clear")
    child.expect_exact("Did you mean /clear? [Y/n] ")
    child.sendline("")  # Enter: yes
    child.expect_exact("Fresh conversation.")
    prompt(child)
    child.sendline("exit")
    child.expect_exact("Did you mean /exit? [Y/n] ")
    child.sendline("y")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert [contents(r) for r in openai_server.chat_requests] == [["quit"]]
