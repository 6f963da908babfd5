"""`qwen auth token`: the resolved secret alone on stdout, for scripts; a refreshed OAuth token first."""

from __future__ import annotations

import json

from tests.auth.helpers import CANARY_ACCESS, CANARY_KEY, CANARY_REFRESH, read_creds, seed_oauth
from tests.helpers import invoke, run_qwen


def _login_key(provider: str = "openrouter", key: str = CANARY_KEY) -> None:
    login = run_qwen(["auth", "login", "--method", "api-key", "--provider", provider, "--key-stdin"], input=key)
    assert login.exit_code == 0, login.output


def test_token_prints_the_stored_key_on_stdout_only(isolated):
    _login_key()
    for args in (
        ["auth", "token"],
        ["--debug", "auth", "token"],
        ["auth", "token", "--method", "api-key", "--provider", "openrouter"],
    ):
        result = run_qwen(args)
        assert result.exit_code == 0, result.stderr
        assert result.stdout == CANARY_KEY + "\n"
        assert CANARY_KEY not in result.stderr and CANARY_KEY[-12:] not in result.stderr
    for written in isolated.tmp.rglob("*"):  # --debug writes no log with it either
        if written.is_file() and written.name not in {"credentials.toml"}:
            assert CANARY_KEY not in written.read_text(errors="replace"), written


def test_token_json(isolated):
    _login_key()
    result = run_qwen(["auth", "token", "--json"])
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data == {
        "token": CANARY_KEY,
        "method": "api-key",
        "provider": "openrouter",
        "source": "credentials.toml",
        "expires_at": None,
        "profile": "default",
    }
    assert CANARY_KEY not in result.stderr


def test_token_prefers_the_environment_variable(isolated):
    _login_key()
    result = run_qwen(["auth", "token"], env={"OPENROUTER_API_KEY": "sk-from-env-123456"})
    assert result.exit_code == 0 and result.stdout == "sk-from-env-123456\n"


def test_token_refreshes_an_expiring_oauth_token_first(isolated, oauth_server):
    seed_oauth(oauth_server, isolated.qwen_home, expires_in=10, access=CANARY_ACCESS, refresh=CANARY_REFRESH)
    env = {"QWEN_OAUTH_BASE_URL": oauth_server.base_url}
    result = run_qwen(["--debug", "auth", "token", "--method", "qwen-oauth"], env=env)
    assert result.exit_code == 0, result.stderr
    fresh = read_creds(isolated.qwen_home)["access_token"]
    assert oauth_server.refresh_requests == 1 and fresh != CANARY_ACCESS
    assert result.stdout == fresh + "\n"
    for secret in (fresh, CANARY_ACCESS, CANARY_REFRESH):
        assert secret not in result.stderr


def test_token_with_nothing_configured_exits_3_with_the_login_hint(isolated):
    result = run_qwen(["auth", "token"])
    assert result.exit_code == 3
    assert result.stdout == ""
    assert "Error:" in result.stderr and "qwen auth login" in result.stderr


def test_token_on_a_terminal_prints_it_and_says_so_on_stderr(isolated):
    _login_key()
    result = invoke(["auth", "token"], tty=True)
    assert result.exit_code == 0
    assert result.stdout == CANARY_KEY + "\n"
    assert "Notice:" in result.stderr and CANARY_KEY not in result.stderr
