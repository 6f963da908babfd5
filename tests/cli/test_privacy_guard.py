"""`privacy.require_no_training`: a request to a provider whose terms entry says it trains by default (or, with
"strict", does not say) is refused with exit 8 before anything is sent; only the user's config and the real
environment can set it."""

from __future__ import annotations

import json

from qwen_cli import data_use, privacy_guard
from qwen_cli.settings import read_toml
from tests.helpers import run_qwen

CUSTOM = {"OPENAI_API_KEY": "sk-test-key", "OPENAI_MODEL": "test-model"}
CUSTOM_SOURCE = "depends on the server you configured: see its terms"


def _custom(server) -> dict:
    return {**CUSTOM, "OPENAI_BASE_URL": server.url}


def _user_config(isolated, text: str) -> None:
    isolated.qwen_home.mkdir(parents=True, exist_ok=True)
    (isolated.qwen_home / "config.toml").write_text(text)


def _assert_refused(result, server, name: str = "Custom endpoint", before: int = 0) -> None:
    assert result.exit_code == 8, result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, result.stderr
    assert f"refusing to send this request to {name}" in errors[0]
    assert "privacy.require_no_training = strict" in errors[0]
    assert "Traceback" not in result.output
    assert "Hint: " in result.stderr
    assert len(server.requests) == before, "a refused request reached the server"


def test_strict_refuses_a_provider_whose_training_answer_is_unknown(isolated, openai_server):
    _user_config(isolated, '[privacy]\nrequire_no_training = "strict"\n')
    result = run_qwen(["ask", "hi"], env=_custom(openai_server))
    _assert_refused(result, openai_server)
    assert f"source: {CUSTOM_SOURCE}" in result.stderr
    assert "sk-test-key" not in result.output


def test_strict_from_the_environment_refuses_chat_and_a_login_verification(isolated, openai_server):
    env = {**_custom(openai_server), "QWEN_PRIVACY_REQUIRE_NO_TRAINING": "strict"}
    _assert_refused(run_qwen(["chat"], input="hello\n", env=env), openai_server)
    login = run_qwen(
        ["auth", "login", "--method", "api-key", "--base-url", openai_server.url, "--model", "m", "--key-stdin"]
        + ["--verify"],
        input="sk-other-key",
        env={"QWEN_PRIVACY_REQUIRE_NO_TRAINING": "strict"},
    )
    _assert_refused(login, openai_server)
    creds = isolated.qwen_home / "credentials.toml"
    assert not creds.exists() or "sk-other-key" not in creds.read_text()


def test_true_allows_unknown_and_strict_allows_a_provider_that_does_not_train(isolated, openai_server):
    _user_config(isolated, "[privacy]\nrequire_no_training = true\n")
    result = run_qwen(["ask", "hi"], env=_custom(openai_server))
    assert result.exit_code == 0, result.output
    assert result.stdout == "Hello from stub\n"
    # OpenAI's entry says "no": allowed even under strict (its URL overridden to the loopback stub).
    _user_config(
        isolated,
        '[privacy]\nrequire_no_training = "strict"\n[auth]\nmethod = "api-key"\nprovider = "openai"\n'
        f'[providers.openai]\nbase_url = "{openai_server.url}"\n',
    )
    result = run_qwen(["ask", "hi"], env={"OPENAI_API_KEY": "sk-test-key"})
    assert result.exit_code == 0, result.output
    assert len(openai_server.chat_requests) == 2


def test_a_project_file_or_a_dotenv_cannot_set_or_unset_it(isolated, openai_server):
    project = isolated.work / ".qwen"
    project.mkdir()
    (project / "config.toml").write_text('[privacy]\nrequire_no_training = "strict"\n')
    (isolated.work / ".env").write_text("QWEN_PRIVACY_REQUIRE_NO_TRAINING=strict\n")
    result = run_qwen(["ask", "hi"], env=_custom(openai_server))
    assert result.exit_code == 0, result.output
    assert "ignoring privacy.require_no_training from" in result.stderr
    assert "ignoring QWEN_PRIVACY_REQUIRE_NO_TRAINING from" in result.stderr
    # and the user's strict stands against a project's false
    _user_config(isolated, '[privacy]\nrequire_no_training = "strict"\n')
    (project / "config.toml").write_text("[privacy]\nrequire_no_training = false\n")
    _assert_refused(run_qwen(["ask", "hi"], env=_custom(openai_server)), openai_server, before=1)


def test_status_and_terms_show_say_the_guard_is_on_and_what_it_allows(isolated, openai_server):
    env = {**_custom(openai_server), "QWEN_PRIVACY_REQUIRE_NO_TRAINING": "strict"}
    status = run_qwen(["auth", "status"], env=env)
    line = (
        "Privacy guard: privacy.require_no_training = strict (env:QWEN_PRIVACY_REQUIRE_NO_TRAINING): requests go "
        "only to providers whose training answer is no, opt-in and local servers."
    )
    assert line in status.stdout
    shown = run_qwen(["terms", "show", "--provider", "openai"], env=env)
    assert shown.stdout.startswith(line + "\n")
    payload = json.loads(run_qwen(["auth", "status", "--json"], env=env).stdout)
    assert payload["privacy_guard"]["mode"] == "strict"
    off = run_qwen(["auth", "status"], env=_custom(openai_server))
    assert "Privacy guard" not in off.output
    bad = run_qwen(["auth", "status"], env={**env, "QWEN_PRIVACY_REQUIRE_NO_TRAINING": "always"})
    assert bad.exit_code == 8 and "must be one of false, true, strict" in bad.stderr


def test_the_decision_refuses_training_by_default_and_only_strict_refuses_unknown():
    """No catalogue entry says `yes` or `opt-out` today, so the `true` refusal is checked on the decision itself."""
    (openai,) = [e for e in data_use.entries() if e.id == "openai"]
    trains = {k: data_use.Fact(v, "https://example.test/policy", "2026-12-01") for k, v in openai.facts.items()}
    for value in ("yes", "opt-out"):
        trains["trains"] = data_use.Fact(value, "https://example.test/policy", "2026-12-01")
        entry = data_use.Entry("x", "api-key", "x", "X", None, None, False, "x", dict(trains))
        assert privacy_guard.refuses(entry, "true") and privacy_guard.refuses(entry, "strict")
    unknown = [e for e in data_use.entries() if e.id == "deepseek"][0]
    assert not privacy_guard.refuses(unknown, "true") and privacy_guard.refuses(unknown, "strict")
    local = [e for e in data_use.entries() if e.id == "ollama"][0]
    assert not privacy_guard.refuses(local, "strict")
    assert not privacy_guard.refuses(openai, "strict") and not privacy_guard.refuses(openai, None)


def test_user_config_keeps_the_value_it_was_given(isolated):
    result = run_qwen(["config", "set", "privacy.require_no_training", "strict"])
    assert result.exit_code == 0, result.output
    assert read_toml(isolated.qwen_home / "config.toml")["privacy"]["require_no_training"] == "strict"


def test_the_chat_banner_says_the_guard_is_on(isolated, openai_server):
    import os

    import pexpect

    from tests.helpers import qwen_command

    env = dict(os.environ, TERM="xterm", QWEN_PRIVACY_REQUIRE_NO_TRAINING="true", **_custom(openai_server))
    command = qwen_command()
    child = pexpect.spawn(
        command[0], [*command[1:], "chat"], env=env, encoding="utf-8", timeout=20, dimensions=(40, 200)
    )
    child.expect_exact("Privacy guard: privacy.require_no_training = true (env:QWEN_PRIVACY_REQUIRE_NO_TRAINING)")
    child.expect_exact("no, opt-in and local servers, and unknown.")
    child.expect_exact("> ")
    child.sendeof()
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
