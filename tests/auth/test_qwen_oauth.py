"""Qwen OAuth against the loopback device-flow server: PKCE, polling, refresh, rotation, invalid_grant."""

from __future__ import annotations

import base64
import hashlib
import stat
import time

import pytest

from qwen_cli.auth import qwen_oauth, token_store
from qwen_cli.errors import AuthError, Interrupted
from tests.auth.helpers import read_creds, seed_oauth, settings_for


def _no_sleep(_seconds):
    pass


def test_pkce_pair_is_s256_of_a_32_byte_verifier():
    verifier, challenge = qwen_oauth.pkce_pair()
    assert len(base64.urlsafe_b64decode(verifier + "=")) == 32
    expected = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    assert challenge == expected and "=" not in challenge
    assert qwen_oauth.pkce_pair()[0] != verifier


@pytest.mark.parametrize(
    "resource, expected",
    [
        ("portal.qwen.ai", "https://portal.qwen.ai/v1"),
        ("portal.qwen.ai/", "https://portal.qwen.ai/v1"),
        ("https://portal.qwen.ai", "https://portal.qwen.ai/v1"),
        ("https://portal.qwen.ai/v1", "https://portal.qwen.ai/v1"),
        ("portal.qwen.ai/v1", "https://portal.qwen.ai/v1"),
        ("http://127.0.0.1:8080/v1", "http://127.0.0.1:8080/v1"),
        (None, "https://dashscope.aliyuncs.com/compatible-mode/v1"),
        ("", "https://dashscope.aliyuncs.com/compatible-mode/v1"),
    ],
)
def test_api_base_from_resource_url(resource, expected):
    assert qwen_oauth.api_base(resource, "https://dashscope.aliyuncs.com/compatible-mode/v1") == expected


def _login(oauth_server, sleep=_no_sleep, on_device=None):
    devices = []

    def seen(device):
        devices.append(device)
        if on_device:
            on_device(device)

    token = qwen_oauth.login(settings_for(oauth_server), seen, sleep=sleep)
    return token, devices


def test_device_flow_approve_writes_qwen_code_format(oauth_server, isolated):
    oauth_server.auto_approve_after = 2
    token, devices = _login(oauth_server)
    assert devices[0].user_code in devices[0].verification_uri_complete
    assert oauth_server.device_requests == 1 and oauth_server.poll_requests == 3
    data = read_creds(isolated.qwen_home)
    assert set(data) == {"access_token", "refresh_token", "token_type", "resource_url", "expiry_date"}
    assert data["access_token"] == token.access_token == oauth_server.access_tokens[-1]
    assert data["resource_url"] == oauth_server.openai.url
    assert abs(data["expiry_date"] / 1000 - (time.time() + 3600)) < 30
    path = isolated.qwen_home / "oauth_creds.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(isolated.qwen_home.stat().st_mode) == 0o700
    assert not (isolated.qwen_home / "oauth_creds.lock").exists()


def test_device_request_sends_pkce_and_form_with_accept_json(oauth_server, isolated):
    oauth_server.auto_approve_after = 0
    _login(oauth_server)
    device_req = next(r for r in oauth_server.requests if r.path.endswith("/device/code"))
    form = device_req.form
    assert form["code_challenge_method"] == "S256" and form["client_id"] == oauth_server.client_id
    assert form["scope"] == "openid profile email model.completion"
    assert device_req.headers["accept"] == "application/json"
    poll = next(r for r in oauth_server.requests if r.path.endswith("/token"))
    assert poll.form["grant_type"] == "urn:ietf:params:oauth:grant-type:device_code"
    assert poll.form["code_verifier"] and poll.form["device_code"]


def test_denied_login_is_auth_error_and_writes_nothing(oauth_server, isolated):
    with pytest.raises(AuthError) as info:
        _login(oauth_server, on_device=lambda d: oauth_server.deny(d.user_code))
    assert "denied" in info.value.message
    assert info.value.exit_code == 3
    assert not (isolated.qwen_home / "oauth_creds.json").exists()


def test_expired_device_code_is_auth_error(oauth_server, isolated):
    with pytest.raises(AuthError) as info:
        _login(oauth_server, on_device=lambda d: oauth_server.expire(d.user_code))
    assert "expired" in info.value.message
    assert not (isolated.qwen_home / "oauth_creds.json").exists()


def test_polling_gives_up_when_the_device_code_expires_locally(oauth_server, isolated):
    oauth_server.device_expires_in = 2
    oauth_server.interval = 1
    now = [0.0]

    def sleep(seconds):
        now[0] += seconds

    settings = settings_for(oauth_server)
    endpoints = qwen_oauth.Endpoints.from_settings(settings)
    client = qwen_oauth._client(settings)
    device = qwen_oauth.request_device_code(endpoints, client)
    with pytest.raises(AuthError, match="expired"):
        qwen_oauth.poll_for_token(endpoints, client, device, sleep=sleep, clock=lambda: now[0])


def test_ctrl_c_while_polling_writes_nothing(oauth_server, isolated):
    def interrupt(_seconds):
        raise KeyboardInterrupt

    with pytest.raises((KeyboardInterrupt, Interrupted)):
        _login(oauth_server, sleep=interrupt)
    assert not (isolated.qwen_home / "oauth_creds.json").exists()
    assert not (isolated.qwen_home / "oauth_creds.lock").exists()


def test_valid_token_is_used_without_refresh(oauth_server, isolated):
    seeded = seed_oauth(oauth_server, isolated.qwen_home)
    creds = qwen_oauth.credentials(settings_for(oauth_server))
    assert creds.token == seeded["access_token"]
    assert creds.base_url == oauth_server.openai.url
    assert creds.model == "coder-model"
    assert creds.headers["X-DashScope-AuthType"] == "qwen-oauth"
    assert creds.headers["X-DashScope-CacheControl"] == "enable"
    assert "X-DashScope-UserAgent" in creds.headers
    assert oauth_server.refresh_requests == 0


def test_token_close_to_expiry_is_refreshed_and_rotated(oauth_server, isolated):
    seeded = seed_oauth(oauth_server, isolated.qwen_home, expires_in=20)
    creds = qwen_oauth.credentials(settings_for(oauth_server))
    assert oauth_server.refresh_requests == 1
    data = read_creds(isolated.qwen_home)
    assert creds.token == data["access_token"] != seeded["access_token"]
    assert data["refresh_token"] != seeded["refresh_token"]  # rotated
    assert data["resource_url"] == seeded["resource_url"]  # kept although the reply had none... or the same
    refresh_req = [r for r in oauth_server.requests if r.form.get("grant_type") == "refresh_token"][0]
    assert refresh_req.form["refresh_token"] == seeded["refresh_token"]
    assert refresh_req.form["client_id"] == oauth_server.client_id


def test_refresh_without_new_refresh_token_keeps_the_old_one(oauth_server, isolated):
    oauth_server.rotate_refresh = False
    oauth_server.resource_url = None
    seeded = seed_oauth(oauth_server, isolated.qwen_home, expires_in=-60, resource_url="portal.example")
    qwen_oauth.credentials(settings_for(oauth_server))
    data = read_creds(isolated.qwen_home)
    assert data["refresh_token"] == seeded["refresh_token"]
    assert data["resource_url"] == "portal.example"
    assert data["access_token"] != seeded["access_token"]


def test_invalid_grant_is_exit_3_with_login_hint(oauth_server, isolated):
    seed_oauth(oauth_server, isolated.qwen_home, expires_in=-60)
    oauth_server.revoke_refresh_tokens()
    with pytest.raises(AuthError) as info:
        qwen_oauth.credentials(settings_for(oauth_server))
    assert info.value.exit_code == 3
    assert "qwen auth login --method qwen-oauth" in info.value.hint
    assert not (isolated.qwen_home / "oauth_creds.lock").exists()


def test_forced_refresh_after_401_uses_a_token_another_process_already_refreshed(oauth_server, isolated):
    seed_oauth(oauth_server, isolated.qwen_home)
    settings = settings_for(oauth_server)
    creds = qwen_oauth.credentials(settings)
    # another process refreshes in the meantime
    other = qwen_oauth.credentials(settings).refresh()
    assert oauth_server.refresh_requests == 1
    fresh = creds.refresh()
    assert fresh.token == other.token
    assert oauth_server.refresh_requests == 1
    again = fresh.refresh()
    assert again.token != fresh.token and oauth_server.refresh_requests == 2


def test_missing_or_invalid_file(oauth_server, isolated):
    settings = settings_for(oauth_server)
    with pytest.raises(AuthError, match="not logged in"):
        qwen_oauth.credentials(settings)
    isolated.qwen_home.mkdir(parents=True, exist_ok=True)
    (isolated.qwen_home / "oauth_creds.json").write_text('{"access_token": "x", "expiry_date": "soon"}')
    with pytest.raises(token_store.InvalidCredentialsFile):
        qwen_oauth.credentials(settings)


def test_logout_removes_the_file_under_the_lock(oauth_server, isolated):
    seed_oauth(oauth_server, isolated.qwen_home)
    assert qwen_oauth.logout(isolated.qwen_home) is True
    assert not (isolated.qwen_home / "oauth_creds.json").exists()
    assert not (isolated.qwen_home / "oauth_creds.lock").exists()
    assert qwen_oauth.logout(isolated.qwen_home) is False
