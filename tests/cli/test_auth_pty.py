"""Interactive auth over a real pseudo-terminal: the first-run chooser, hidden key input, OSC-8 links, the picker."""

from __future__ import annotations

import io
import os

import pexpect
import pytest

from qwen_cli.settings import read_toml
from tests.auth.helpers import CANARY_KEY
from tests.helpers import qwen_command


def _spawn(args, env=None, timeout=30):
    command = qwen_command()
    environ = dict(os.environ)
    environ.update(env or {})
    environ["TERM"] = "xterm"
    child = pexpect.spawn(
        command[0], command[1:] + list(args), env=environ, encoding="utf-8", timeout=timeout, dimensions=(40, 200)
    )
    child.logfile_read = io.StringIO()  # everything the terminal showed, from the first byte
    return child


def _finish(child) -> str:
    child.expect(pexpect.EOF)
    child.close()
    return child.before


def test_first_run_chooser_logs_in_then_continues_the_command(isolated, openai_server):
    openai_server.accept_tokens.add(CANARY_KEY)
    child = _spawn(["ask", "hello"])
    transcript = []
    child.expect("How do you want to use qwen\\?")
    transcript.append(child.before + child.after)
    child.expect("Choose 1-3: ")
    transcript.append(child.before)
    assert "Qwen OAuth" in child.before and "Coding Plan" in child.before and "API Key" in child.before
    assert "Terms:" in child.before
    child.sendline("3")
    child.expect("Choose 1-\\d+: ")
    assert "openrouter" in child.before and "ollama" in child.before
    child.sendline("custom")
    child.expect("Base URL")
    child.sendline(openai_server.url)
    child.expect("input hidden")
    transcript.append(child.before)
    child.sendline(CANARY_KEY)
    child.expect_exact("Model (1-2 or an id): ")
    child.sendline("test-model")
    child.expect("Logged in: API Key \\(custom\\)")
    transcript.append(child.before + child.after)
    rest = _finish(child)
    transcript.append(rest)
    assert child.exitstatus == 0, "".join(transcript)
    assert "Hello from stub" in rest
    assert CANARY_KEY not in "".join(transcript)  # hidden input: never echoed
    assert openai_server.requests[-1].bearer == CANARY_KEY
    assert read_toml(isolated.qwen_home / "config.toml")["auth"] == {"method": "api-key", "provider": "custom"}
    assert read_toml(isolated.qwen_home / "credentials.toml")["api-key"]["custom"]["key"] == CANARY_KEY


def test_interactive_qwen_oauth_login_prints_an_osc8_link(isolated, oauth_server):
    child = _spawn(["auth", "login"], env={"QWEN_OAUTH_BASE_URL": oauth_server.base_url})
    child.expect("Choose 1-3: ")
    child.sendline("1")
    child.expect("Code: (\\S+)")
    before = child.before
    code = child.match.group(1)
    url = f"{oauth_server.base_url}/authorize?user_code={code}&client=qwen-code"
    assert f"\x1b]8;;{url}\x1b\\{url}\x1b]8;;\x1b\\" in before
    child.expect("Waiting for approval")
    oauth_server.approve(code)
    child.expect("Logged in: Qwen OAuth")
    _finish(child)
    assert child.exitstatus == 0
    assert (isolated.qwen_home / "oauth_creds.json").exists()


def test_ctrl_c_during_the_device_flow_exits_130_and_writes_nothing(isolated, oauth_server):
    oauth_server.interval = 1
    child = _spawn(["auth", "login", "--method", "qwen-oauth"], env={"QWEN_OAUTH_BASE_URL": oauth_server.base_url})
    child.expect("Waiting for approval")
    child.sendintr()
    _finish(child)
    assert child.exitstatus == 130
    assert not (isolated.qwen_home / "oauth_creds.json").exists()
    assert not (isolated.qwen_home / "oauth_creds.lock").exists()


def test_switch_picker_on_a_terminal(isolated):
    from tests.helpers import invoke

    assert invoke(["auth", "login", "--provider", "ollama"]).exit_code == 0
    assert invoke(["auth", "login", "--provider", "lmstudio"]).exit_code == 0
    child = _spawn(["auth", "switch"])
    child.expect("Switch to:")
    child.expect("Choose 1-2 \\[2\\]: ")
    assert "(active)" in child.before
    child.sendline("1")
    child.expect("Switched to API Key \\(ollama\\)")
    _finish(child)
    assert child.exitstatus == 0
    assert read_toml(isolated.qwen_home / "config.toml")["auth"]["provider"] == "ollama"


@pytest.mark.parametrize("answer", ["", "sk-sp-CANARY-hidden-123456"])
def test_coding_plan_prompts_for_region_and_hidden_key(isolated, answer):
    child = _spawn(["auth", "login", "--method", "coding-plan"])
    child.expect("Which Alibaba Cloud site")
    child.expect("Choose 1-2: ")
    child.sendline("global")
    child.expect("input hidden\\): ")
    if not answer:
        child.sendline("")
        child.expect("The key is empty")
        child.expect("input hidden\\): ")
        answer = "sk-sp-CANARY-second-try-99"
    child.sendline(answer)
    child.expect("Which Coding Plan do you have")  # asked once, for `qwen usage` (issue 18)
    child.expect("Choose 1-3: ")
    child.sendline("2")
    child.expect("Logged in: Alibaba Cloud Coding Plan, global region")
    _finish(child)
    assert child.exitstatus == 0
    assert answer not in child.logfile_read.getvalue()  # not echoed while typed, not shown after
    assert read_toml(isolated.qwen_home / "credentials.toml")["coding-plan"]["key"] == answer
    assert read_toml(isolated.qwen_home / "config.toml")["coding_plan"]["tier"] == "pro"


@pytest.mark.parametrize("columns", [80, 120])
def test_the_chooser_wraps_at_word_boundaries_to_the_terminal(isolated, columns):
    from qwen_cli.auth.methods import METHODS
    from qwen_cli.terms import summary_line

    command = qwen_command()
    environ = {k: v for k, v in os.environ.items() if k != "COLUMNS"}  # the terminal's own size decides
    child = pexpect.spawn(
        command[0],
        [*command[1:], "auth", "login"],
        env=dict(environ, TERM="xterm"),
        encoding="utf-8",
        timeout=30,
        dimensions=(40, columns),
    )
    child.expect("Choose 1-3: ")
    lines = child.before.replace("\r\n", "\n").splitlines()
    child.sendeof()
    _finish(child)
    assert max(len(line) for line in lines) < columns, "\n".join(lines)  # the terminal never has to cut one
    words = set(" ".join(lines).split())
    for method in METHODS.values():
        for text in (f"{method.title}: {method.blurb}", summary_line(method.id)):
            assert text in " ".join(" ".join(lines).split())  # every word whole, in order
            assert set(text.split()) <= words
    assert not [line for line in lines if line.strip() and not any(c.isalnum() for c in line)]  # no lone "."
    assert any("(https://qwen.ai/termsservice)" in line for line in lines)  # a URL is never split
    assert any("`qwen terms show --method coding-plan`" in line for line in lines)


def test_first_run_asks_again_for_what_is_missing_and_offers_the_servers_models(isolated, openai_server):
    openai_server.accept_tokens.add(CANARY_KEY)
    child = _spawn(["ask", "hello"])
    child.expect("Choose 1-3: ")
    child.sendline("3")
    child.expect("Choose 1-\\d+: ")
    child.sendline("custom")
    child.expect_exact("Base URL")
    child.sendline("")
    child.expect_exact("A base URL is needed")
    child.sendline("127.0.0.1:8000/v1")
    child.expect_exact("'127.0.0.1:8000/v1' is not an http(s) URL")
    child.sendline(openai_server.url)
    child.expect("input hidden")
    child.sendline(CANARY_KEY)
    child.expect_exact(f"Models at {openai_server.url}:")
    child.expect_exact("1. other-model")
    child.expect_exact("2. test-model")
    child.expect_exact("Model (1-2 or an id): ")
    child.sendline("")
    child.expect_exact("A model is needed for this provider: type a number from the list, or a model id.")
    child.sendline("test-modle")
    child.expect_exact("model 'test-modle' was not found at 127.0.0.1:")
    child.expect_exact("; did you mean 'test-model'?")
    child.sendline("2")
    child.expect_exact("Logged in: API Key (custom); model test-model")
    rest = _finish(child)
    assert child.exitstatus == 0 and "Hello from stub" in rest
    listing = [r for r in openai_server.requests if r.path == "/v1/models"]
    assert [r.bearer for r in listing] == [CANARY_KEY]  # listed with the key just typed
    assert openai_server.chat_requests[-1].json["model"] == "test-model"
    assert read_toml(isolated.qwen_home / "credentials.toml")["api-key"]["custom"]["model"] == "test-model"


def test_without_a_model_list_the_model_id_is_asked_again(isolated, openai_server):
    from tests.servers.openai_stub import error

    openai_server.models_response = error(404, {"error": {"message": "no such route"}})
    child = _spawn(["auth", "login", "--provider", "custom", "--base-url", openai_server.url])
    child.expect("input hidden")
    child.sendline("")  # a loopback server: no key needed
    child.expect_exact("Could not list the models at")
    child.expect_exact("Model id: ")
    child.sendline("")
    child.expect_exact("A model is needed for this provider: type the id the server serves.")
    child.expect_exact("Model id: ")
    child.sendline("my-model")
    child.expect_exact("Logged in: API Key (custom); model my-model")
    _finish(child)
    assert child.exitstatus == 0


def test_a_first_run_login_that_goes_on_into_chat_shows_the_terms_line_once(isolated, openai_server):
    from qwen_cli.terms import summary_line

    child = _spawn(["chat"])
    child.logfile_read = screen = io.StringIO()
    child.expect("Choose 1-3: ")
    child.sendline("3")
    child.expect("Choose 1-\\d+: ")
    child.sendline("custom")
    child.expect_exact("Base URL")
    child.sendline(openai_server.url)
    child.expect("input hidden")
    child.sendline("sk-test-key")
    child.expect_exact("Model (1-2 or an id): ")
    child.sendline("test-model")
    child.expect_exact("qwen chat · api-key (custom), model test-model")
    child.expect_exact("> ")
    child.sendeof()
    _finish(child)
    line = summary_line("api-key", "custom")
    assert line == "Terms: API Key with a custom provider: its own terms apply, not Qwen's."
    assert screen.getvalue().count(line) == 1, screen.getvalue()
