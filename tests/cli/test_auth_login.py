"""`qwen auth login` for the three methods, off a terminal, against loopback servers."""

from __future__ import annotations

import os
import stat

from qwen_cli.settings import read_toml
from tests.auth.helpers import CANARY_KEY, CANARY_PLAN_KEY, read_creds
from tests.helpers import invoke, run_qwen


def _config(isolated) -> dict:
    return read_toml(isolated.qwen_home / "config.toml")


def _credentials(isolated) -> dict:
    return read_toml(isolated.qwen_home / "credentials.toml")


# -- api-key -------------------------------------------------------------------------------------------


def test_api_key_login_stores_key_in_credentials_toml_only(isolated):
    result = invoke(
        ["auth", "login", "--method", "api-key", "--provider", "openrouter", "--key-stdin"], input=CANARY_KEY + "\n"
    )
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert CANARY_KEY not in result.output
    lines = result.stderr.splitlines()
    terms = next(i for i, line in enumerate(lines) if "openrouter.ai/terms" in line.lower() or "Terms" in line)
    logged = next(i for i, line in enumerate(lines) if line.startswith("Logged in"))
    assert terms < logged
    creds_file = isolated.qwen_home / "credentials.toml"
    assert stat.S_IMODE(creds_file.stat().st_mode) == 0o600
    assert _credentials(isolated)["api-key"]["openrouter"]["key"] == CANARY_KEY
    config = _config(isolated)
    assert config["auth"] == {"method": "api-key", "provider": "openrouter"}
    assert CANARY_KEY not in (isolated.qwen_home / "config.toml").read_text()


def test_provider_implies_api_key_method(isolated):
    result = invoke(["auth", "login", "--provider", "deepseek", "--key-stdin"], input=CANARY_KEY)
    assert result.exit_code == 0, result.output
    assert _config(isolated)["auth"]["provider"] == "deepseek"


def test_missing_inputs_off_a_terminal_are_usage_errors_and_store_nothing(isolated):
    cases = [
        ["auth", "login"],
        ["auth", "login", "--method", "api-key"],
        ["auth", "login", "--method", "api-key", "--provider", "openai"],
        ["auth", "login", "--method", "api-key", "--provider", "custom", "--key-stdin"],
        ["auth", "login", "--method", "coding-plan", "--key-stdin"],
        ["auth", "login", "--method", "coding-plan", "--region", "global"],
    ]
    for args in cases:
        result = run_qwen(args, input=CANARY_KEY if "--key-stdin" in args else None, timeout=20)
        assert result.exit_code == 2, (args, result.output)
        assert "Traceback" not in result.output
    assert not (isolated.qwen_home / "credentials.toml").exists()
    assert not (isolated.qwen_home / "config.toml").exists()


def test_unknown_provider_suggests_a_close_one(isolated):
    result = invoke(["auth", "login", "--method", "api-key", "--provider", "openrouterr", "--key-stdin"], input="sk-x")
    assert result.exit_code == 2
    assert "did you mean 'openrouter'" in result.stderr


def test_key_from_env_is_used_but_not_copied(isolated):
    result = invoke(
        ["auth", "login", "--method", "api-key", "--provider", "openai"], env={"OPENAI_API_KEY": CANARY_KEY}
    )
    assert result.exit_code == 0, result.output
    assert "key" not in _credentials(isolated)["api-key"]["openai"]
    assert "OPENAI_API_KEY" in result.stderr


def test_local_provider_needs_no_key(isolated):
    result = invoke(["auth", "login", "--method", "api-key", "--provider", "ollama", "--model", "qwen3-coder:30b"])
    assert result.exit_code == 0, result.output
    assert _credentials(isolated)["api-key"]["ollama"] == {"model": "qwen3-coder:30b"}
    status = invoke(["auth", "status", "--json"])
    assert status.exit_code == 0, status.output


def test_custom_provider_with_base_url_then_ask_works(isolated, openai_server):
    result = invoke(
        [
            "auth",
            "login",
            "--method",
            "api-key",
            "--base-url",
            openai_server.url,
            "--model",
            "test-model",
            "--key-stdin",
            "--verify",
        ],
        input="sk-test-key",
    )
    assert result.exit_code == 0, result.output
    assert "Verified GET " + openai_server.url + "/models: OK" in result.stderr
    assert _config(isolated)["auth"] == {"method": "api-key", "provider": "custom"}
    answer = run_qwen(["ask", "hi"])
    assert answer.exit_code == 0, answer.output
    assert answer.stdout.strip() == "Hello from stub"
    assert openai_server.requests[-1].bearer == "sk-test-key"


def test_verify_with_a_rejected_key_exits_3(isolated, openai_server):
    result = invoke(
        [
            "auth",
            "login",
            "--method",
            "api-key",
            "--base-url",
            openai_server.url,
            "--model",
            "m",
            "--key-stdin",
            "--verify",
        ],
        input=CANARY_KEY,
    )
    assert result.exit_code == 3, result.output
    assert "FAILED" in result.stderr and "rejected" in result.stderr
    assert CANARY_KEY not in result.output


def test_store_keyring_without_the_extra_is_a_clear_error(isolated, tmp_path):
    # The test extra installs keyring; shadow it with a package that fails to import, as a missing one does.
    shadow = tmp_path / "no-keyring"
    (shadow / "keyring").mkdir(parents=True)
    (shadow / "keyring" / "__init__.py").write_text("raise ImportError(\"No module named 'keyring'\")\n")
    result = run_qwen(
        ["auth", "login", "--method", "api-key", "--provider", "openai", "--key-stdin", "--store", "keyring"],
        input=CANARY_KEY,
        env={"PYTHONPATH": os.pathsep.join([str(shadow), os.environ["PYTHONPATH"]])},
    )
    assert result.exit_code == 2
    assert "pip install 'qwen-cli[keyring]'" in result.stderr
    assert not (isolated.qwen_home / "credentials.toml").exists()


def test_store_keyring_with_a_backend(isolated, monkeypatch):
    import sys
    import types

    vault = {}
    fake = types.ModuleType("keyring")
    fake.set_password = lambda service, name, secret: vault.__setitem__((service, name), secret)
    fake.get_password = lambda service, name: vault.get((service, name))
    fake.delete_password = lambda service, name: vault.pop((service, name))
    monkeypatch.setitem(sys.modules, "keyring", fake)

    result = invoke(
        ["auth", "login", "--method", "api-key", "--provider", "groq", "--key-stdin", "--store", "keyring"],
        input=CANARY_KEY,
    )
    assert result.exit_code == 0, result.output
    assert vault == {("qwen-cli", "api-key:groq"): CANARY_KEY}
    assert CANARY_KEY not in (isolated.qwen_home / "credentials.toml").read_text()
    status = invoke(["auth", "status", "--json"])
    import json

    row = json.loads(status.stdout)["methods"][0]
    assert row["source"] == "keyring" and row["key"] == "sk-…8d60"
    assert invoke(["auth", "logout"]).exit_code == 0
    assert vault == {}


# -- coding-plan ---------------------------------------------------------------------------------------


def test_coding_plan_region_aliases_set_the_base_url(isolated):
    for alias, base in (
        ("intl", "https://coding-intl.dashscope.aliyuncs.com/v1"),
        ("alibabacloud", "https://coding-intl.dashscope.aliyuncs.com/v1"),
        ("cn", "https://coding.dashscope.aliyuncs.com/v1"),
        ("aliyun", "https://coding.dashscope.aliyuncs.com/v1"),
    ):
        result = invoke(
            ["auth", "login", "--method", "coding-plan", "--region", alias, "--key-stdin"], input=CANARY_PLAN_KEY
        )
        assert result.exit_code == 0, result.output
        import json

        row = json.loads(invoke(["auth", "status", "--json"]).stdout)["methods"][0]
        assert row["base_url"] == base
        assert row["model"] == "qwen3.5-plus"
    assert _config(isolated)["auth"]["region"] == "china"


def test_qwen_auth_method_in_the_environment_is_the_default_method(isolated):
    result = invoke(
        ["auth", "login", "--region", "global", "--key-stdin"],
        input=CANARY_PLAN_KEY,
        env={"QWEN_AUTH_METHOD": "coding-plan"},
    )
    assert result.exit_code == 0, result.output
    assert _config(isolated)["auth"]["method"] == "coding-plan"


def test_unknown_region_is_usage_error(isolated):
    result = invoke(["auth", "login", "--method", "coding-plan", "--region", "mars", "--key-stdin"], input="sk-sp-x")
    assert result.exit_code == 2
    assert "china" in result.stderr and "global" in result.stderr


def test_coding_plan_key_without_sk_sp_prefix_warns_but_stores(isolated):
    result = invoke(["auth", "login", "--method", "coding-plan", "--region", "global", "--key-stdin"], input=CANARY_KEY)
    assert result.exit_code == 0
    assert "Warning:" in result.stderr and "sk-sp-" in result.stderr
    assert _credentials(isolated)["coding-plan"]["key"] == CANARY_KEY


def test_coding_plan_verify_against_a_gateway(isolated, openai_server):
    openai_server.accept_tokens.add(CANARY_PLAN_KEY)
    result = invoke(
        [
            "auth",
            "login",
            "--method",
            "coding-plan",
            "--region",
            "global",
            "--base-url",
            openai_server.url,
            "--key-stdin",
            "--verify",
        ],
        input=CANARY_PLAN_KEY,
    )
    assert result.exit_code == 0, result.output
    assert "works in the global region" in result.stderr
    req = openai_server.requests[-1]
    assert req.headers["x-dashscope-cachecontrol"] == "enable"
    assert "x-dashscope-useragent" in req.headers
    openai_server.accept_tokens.discard(CANARY_PLAN_KEY)
    status = invoke(["auth", "status", "--verify"])
    assert status.exit_code == 3
    assert "rejected" in status.stdout + status.stderr and "region" in status.stdout + status.stderr


def test_coding_plan_model_is_kept_across_switches(isolated):
    invoke(
        ["auth", "login", "--method", "coding-plan", "--region", "china", "--model", "glm-5", "--key-stdin"],
        input=CANARY_PLAN_KEY,
    )
    invoke(["auth", "login", "--method", "api-key", "--provider", "ollama"])
    assert invoke(["auth", "switch", "coding-plan"]).exit_code == 0
    import json

    status = json.loads(invoke(["auth", "status", "--json"]).stdout)
    assert status["active"] == "coding-plan"
    row = next(m for m in status["methods"] if m["active"])
    assert row["model"] == "glm-5" and row["region"] == "china"


# -- qwen-oauth ----------------------------------------------------------------------------------------


def test_qwen_oauth_login_prints_url_and_code_on_their_own_lines(isolated, oauth_server, instant_polls):
    oauth_server.auto_approve_after = 1
    result = invoke(["auth", "login", "--method", "qwen-oauth"], env={"QWEN_OAUTH_BASE_URL": oauth_server.base_url})
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    device = oauth_server.latest
    lines = result.stderr.splitlines()
    complete = f"{oauth_server.base_url}/authorize?user_code={device.user_code}&client=qwen-code"
    assert complete in lines  # the whole URL alone on a line, no escape codes off a terminal
    assert f"Code: {device.user_code}" in lines
    assert "\x1b" not in result.stderr
    assert "Opened your browser" not in result.stderr
    assert lines.index(complete) > next(i for i, line in enumerate(lines) if "Qwen" in line and "Terms" in line)
    assert _config(isolated)["auth"] == {"method": "qwen-oauth"}
    creds = read_creds(isolated.qwen_home)
    assert creds["access_token"] == oauth_server.access_tokens[-1]
    assert creds["access_token"] not in result.output and creds["refresh_token"] not in result.output


def test_qwen_oauth_login_denied_and_expired_exit_3_without_files(isolated, oauth_server, instant_polls):
    env = {"QWEN_OAUTH_BASE_URL": oauth_server.base_url}
    oauth_server.script_poll("access_denied")
    result = invoke(["auth", "login", "--method", "qwen-oauth"], env=env)
    assert result.exit_code == 3 and "denied" in result.stderr
    oauth_server.script_poll("expired_token")
    result = invoke(["auth", "login", "--method", "qwen-oauth"], env=env)
    assert result.exit_code == 3 and "expired" in result.stderr
    assert not (isolated.qwen_home / "oauth_creds.json").exists()
    assert not (isolated.qwen_home / "config.toml").exists()


def test_qwen_oauth_rejects_key_flags(isolated):
    result = invoke(["auth", "login", "--method", "qwen-oauth", "--key-stdin"], input="x")
    assert result.exit_code == 2


def test_qwen_oauth_unreachable_server_names_proxy_and_ca_settings(isolated):
    import socket

    with socket.socket() as s:  # bound but never listening: refused, and no parallel test can take the port
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        result = invoke(
            ["auth", "login", "--method", "qwen-oauth"], env={"QWEN_OAUTH_BASE_URL": f"http://127.0.0.1:{port}"}
        )
    assert result.exit_code == 6
    assert "HTTPS_PROXY" in result.stderr and "REQUESTS_CA_BUNDLE" in result.stderr


def test_browser_is_opened_only_where_usable(isolated, oauth_server, instant_polls, tmp_path):
    from qwen_cli.cli.auth_flow import browser_usable

    assert not browser_usable({})
    assert browser_usable({"DISPLAY": ":0"})
    assert browser_usable({"WAYLAND_DISPLAY": "wayland-0"})
    assert not browser_usable({"DISPLAY": ":0", "SSH_CONNECTION": "1.2.3.4 5 6.7.8.9 22"})
    assert not browser_usable({"DISPLAY": ":0", "SSH_TTY": "/dev/pts/1"})
    assert not browser_usable({"DISPLAY": ":0", "CI": "true"})
    assert not browser_usable({"DISPLAY": ":0"}, no_browser=True)

    opened = tmp_path / "opened.txt"
    script = tmp_path / "browser.sh"
    script.write_text(f'#!/bin/sh\necho "$1" > {opened}\n')
    script.chmod(0o755)
    oauth_server.auto_approve_after = 1
    env = {"QWEN_OAUTH_BASE_URL": oauth_server.base_url, "DISPLAY": ":0", "BROWSER": str(script)}
    result = invoke(["auth", "login", "--method", "qwen-oauth"], env=env)
    assert result.exit_code == 0, result.output
    assert "Opened your browser." in result.stderr
    import time

    for _ in range(100):
        if opened.exists():
            break
        time.sleep(0.02)
    assert oauth_server.latest.user_code in opened.read_text()
    opened.unlink()
    result = invoke(["auth", "login", "--method", "qwen-oauth", "--no-browser"], env=env)
    assert result.exit_code == 0 and "Opened your browser" not in result.stderr
    time.sleep(0.2)
    assert not opened.exists()
