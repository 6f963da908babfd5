"""oauth_creds.json validated as Qwen Code 0.24.4 validates it (non-empty strings, a positive expiry_date),
never rewritten or deleted when it is unusable, and an invalid_grant shown by `auth status` as an expired login."""

from __future__ import annotations

import json
import time

import pytest

from tests.auth.helpers import seed_oauth
from tests.helpers import run_qwen

LOGIN = "qwen auth login --method qwen-oauth"
GOOD = {
    "access_token": "at-1",
    "refresh_token": "rt-1",
    "token_type": "Bearer",
    "expiry_date": int((time.time() + 3600) * 1000),
}

INVALID = {
    "empty access_token": {**GOOD, "access_token": ""},
    "expiry_date 0": {**GOOD, "expiry_date": 0},
    "negative expiry_date": {**GOOD, "expiry_date": -5},
    "expiry_date as a string": {**GOOD, "expiry_date": "1700000000000"},
    "expiry_date past year 9999": {**GOOD, "expiry_date": 253402300800000.0},
    "empty token_type": {**GOOD, "token_type": ""},
    "missing token_type": {k: v for k, v in GOOD.items() if k != "token_type"},
    "empty refresh_token": {**GOOD, "refresh_token": ""},
    "refresh_token not a string": {**GOOD, "refresh_token": 7},
}


def _env(oauth_server=None):
    env = {"QWEN_AUTH_METHOD": "qwen-oauth"}
    if oauth_server is not None:
        env["QWEN_OAUTH_BASE_URL"] = oauth_server.base_url
    return env


@pytest.mark.parametrize("doc", INVALID.values(), ids=list(INVALID))
def test_an_invalid_file_is_a_one_line_auth_error_and_stays_as_it_was(doc, isolated):
    creds = isolated.qwen_home / "oauth_creds.json"
    isolated.qwen_home.mkdir(mode=0o700)
    creds.write_text(json.dumps(doc))
    before = creds.read_bytes()
    for args in (["auth", "status"], ["ask", "hi"]):
        result = run_qwen(args, env=_env())
        assert result.exit_code == 3, (args, result.output)
        errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
        assert len(errors) == 1 and str(creds) in errors[0], result.stderr
        assert "Traceback" not in result.output
        assert creds.read_bytes() == before


def test_a_file_without_a_refresh_token_is_valid(isolated):
    isolated.qwen_home.mkdir(mode=0o700)
    (isolated.qwen_home / "oauth_creds.json").write_text(
        json.dumps({k: v for k, v in GOOD.items() if k != "refresh_token"})
    )
    result = run_qwen(["auth", "status"], env=_env())
    assert result.exit_code == 0, result.output


def test_after_invalid_grant_the_file_stays_and_status_shows_the_login_expired(isolated, oauth_server):
    seed_oauth(oauth_server, isolated.qwen_home, expires_in=-100)
    creds = isolated.qwen_home / "oauth_creds.json"
    before = creds.read_bytes()
    oauth_server.revoke_refresh_tokens()
    assert run_qwen(["ask", "hi"], env=_env(oauth_server)).exit_code == 3
    assert creds.read_bytes() == before  # Qwen Code may still want it

    status = run_qwen(["auth", "status"], env=_env(oauth_server))
    assert status.exit_code == 3, status.output
    assert "expired" in status.output and LOGIN in status.stderr
    shown = json.loads(run_qwen(["auth", "status", "--json"], env=_env(oauth_server)).stdout)
    (row,) = [m for m in shown["methods"] if m["method"] == "qwen-oauth"]
    assert "invalid_grant" in row["problem"]
    assert creds.read_bytes() == before

    seed_oauth(oauth_server, isolated.qwen_home)  # a new login (here or in Qwen Code) replaces the token
    assert run_qwen(["auth", "status"], env=_env(oauth_server)).exit_code == 0
