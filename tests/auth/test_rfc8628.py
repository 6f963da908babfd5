"""The device flow and the token endpoint to the letter of RFC 8628 and RFC 6749, against a scripted loopback
authorization server (tests/servers/oauth_script.py). Poll timing runs on a virtual clock: the gaps asserted
are the ones the client waited, between the device reply and each poll."""

from __future__ import annotations

import json
import math
import time

import pytest

from qwen_cli.auth import oauth_replies, qwen_oauth, token_store
from qwen_cli.auth.http import FormClient
from qwen_cli.auth.oauth_endpoints import Endpoints, url_problem
from qwen_cli.auth.polling import PollSchedule
from qwen_cli.errors import AuthError, ConfigError, RateLimitError, ServerError
from qwen_cli.providers.events import NetworkOptions
from tests.auth.helpers import CANARY_ACCESS, CANARY_REFRESH, VirtualClock, read_creds, settings_for
from tests.helpers import invoke
from tests.servers.oauth_script import (
    OMIT,
    OAuthScript,
    drop,
    empty,
    hang,
    html,
    json_answer,
    oauth_error,
    pending,
    redirect,
    slow_down,
    text,
    tokens,
)


class TimedClient(FormClient):
    """The real client, noting the virtual time of every POST (the device request first, then each poll)."""

    def __init__(self, clock: VirtualClock, network=None):
        super().__init__(network)
        self.clock = clock
        self.times: list[float] = []

    def post_form(self, url, body):
        self.times.append(self.clock())
        return super().post_form(url, body)

    @property
    def gaps(self) -> list[float]:
        return [round(b - a, 3) for a, b in zip(self.times, self.times[1:], strict=False)]


def _settings(server: OAuthScript, **env):
    return settings_for(None, QWEN_OAUTH_BASE_URL=server.base, **env)


def _login(server: OAuthScript, **env):
    """Device request + polling on a virtual clock. Returns (token or the raised error, client, clock)."""
    settings = _settings(server, **env)
    clock = VirtualClock()
    client = TimedClient(clock, NetworkOptions.from_settings(settings))
    endpoints = Endpoints.from_settings(settings)
    try:
        device = qwen_oauth.request_device_code(endpoints, client)
        result = qwen_oauth.poll_for_token(endpoints, client, device, sleep=clock.sleep, clock=clock)
    except (AuthError, ConfigError, ServerError, RateLimitError) as exc:
        result = exc
    return result, client, clock


# -- RFC 8628 §3.2 and §3.5: when to poll -------------------------------------------------------------


def test_without_interval_the_client_uses_five_seconds(script):
    script.device(interval=OMIT)
    script.polls(pending(times=2), tokens())
    token, client, _ = _login(script)
    assert isinstance(token, token_store.OAuthToken)
    assert client.gaps == [5, 5, 5]


def test_numeric_strings_are_numbers(script):
    script.device(interval="7", expires_in="600")
    script.polls(pending(), tokens())
    token, client, _ = _login(script)
    assert isinstance(token, token_store.OAuthToken), token
    assert client.gaps == [7, 7]


@pytest.mark.parametrize("interval", [0, 0.01, 1, "2"])
def test_an_interval_below_the_floor_is_raised_to_five_seconds(script, interval):
    script.device(interval=interval)
    script.polls(pending(times=3), tokens())
    _, client, _ = _login(script)
    assert client.gaps == [5, 5, 5, 5]


def test_slow_down_adds_five_seconds_for_this_and_every_later_request(script):
    script.device(interval=5)
    script.polls(slow_down(400), pending(), slow_down(429), pending(), tokens())
    token, client, _ = _login(script)
    assert isinstance(token, token_store.OAuthToken)
    assert client.gaps == [5, 10, 10, 15, 15]


def test_qwens_429_is_slow_down_whatever_its_body(script):
    """A 429 with a plain-text body was read by oauthlib as missing_token and ended the login with exit 3."""
    script.device(interval=5)
    script.polls(text(429, "Too Many Requests"), json_answer(429, {"error": {"message": "rate"}}), tokens())
    token, client, _ = _login(script)
    assert isinstance(token, token_store.OAuthToken), token
    assert client.gaps == [5, 10, 15]


def test_never_faster_than_the_server_asked(script):
    """interval 12 and a slow_down: the next poll came after 10 s, below the server's own value."""
    script.device(interval=12)
    script.polls(slow_down(429), pending(), tokens())
    _, client, _ = _login(script)
    assert client.gaps == [12, 17, 17]


def test_waits_are_capped_only_by_the_codes_remaining_lifetime(script):
    script.device(interval=12, expires_in=30)
    token, client, clock = _login(script)
    assert isinstance(token, AuthError) and "expired" in token.message
    assert client.gaps == [12, 12]  # two polls fit; then it waited out the last 6 s and stopped
    assert clock.waits == [12, 12, 6]


def test_connection_failures_back_off_exponentially_and_an_answer_resets(script):
    script.device(interval=5)
    script.polls(drop(times=3), pending(times=2), drop(), tokens())
    token, client, _ = _login(script)
    assert isinstance(token, token_store.OAuthToken), token
    assert client.gaps == [5, 10, 20, 40, 5, 5, 10]


def test_a_read_timeout_backs_off_too(script):
    script.device(interval=5)
    script.polls(hang(3), tokens())
    token, client, _ = _login(script, QWEN_NETWORK_READ_TIMEOUT="0.3")
    assert isinstance(token, token_store.OAuthToken), token
    assert client.gaps == [5, 10]


def test_backoff_stops_growing_at_a_minute(script):
    script.device(interval=5, expires_in=3600)
    script.polls(drop(times=6), tokens())
    _, client, _ = _login(script)
    assert client.gaps == [5, 10, 20, 40, 60, 60, 60]


def test_server_errors_are_retried_less_often(script):
    script.device(interval=5)
    script.polls(html(502, "Bad Gateway"), oauth_error("server_error", 503), pending(), tokens())
    token, client, _ = _login(script)
    assert isinstance(token, token_store.OAuthToken), token
    assert client.gaps == [5, 10, 20, 5]


def test_schedule_arithmetic():
    schedule = PollSchedule(None)
    assert schedule.wait(1000) == 5
    schedule.slow_down()
    schedule.slow_down()
    assert schedule.wait(1000) == 15 and schedule.wait(4) == 4
    for _ in range(100):
        schedule.failed()
    assert schedule.wait(math.inf) == 60
    assert PollSchedule(90).wait(1000) == 90
    assert PollSchedule(90.0).slow_down() is None


@pytest.mark.parametrize(
    "answer, words",
    [
        (html(200, "Hotel Wi-Fi login"), "HTTP 200 and an HTML page (Hotel Wi-Fi login)"),
        (html(404, "Not Found"), "HTTP 404 and an HTML page (Not Found)"),
        (empty(200), "HTTP 200 and an empty body"),
        (text(400, "nope"), "HTTP 400 and text: nope"),
        (json_answer(200, {"ok": True}), "HTTP 200 and JSON without an access token or an error code"),
    ],
)
def test_answers_that_are_not_oauth_stop_polling_with_exit_5(script, answer, words):
    script.polls(answer)
    error, client, _ = _login(script)
    assert isinstance(error, ServerError), error
    assert error.exit_code == 5
    assert f"127.0.0.1:{script.port}" in error.message and words in error.message
    assert len(client.times) == 2


@pytest.mark.parametrize(
    "code, words",
    [("access_denied", "denied"), ("expired_token", "expired"), ("invalid_grant", "login failed: invalid_grant")],
)
def test_rfc_errors_end_the_login_with_exit_3(script, code, words):
    script.polls(oauth_error(code))
    error, _, _ = _login(script)
    assert isinstance(error, AuthError) and error.exit_code == 3 and words in error.message


# -- the device reply: numbers and URLs ---------------------------------------------------------------


def _raw_device(script, **raw):
    """A device reply with fields given as raw JSON text (Infinity, NaN are not expressible otherwise)."""
    body = script.device_body()
    for key in raw:
        body.pop(key, None)
    text_body = json.dumps(body)[:-1] + "".join(f', "{k}": {v}' for k, v in raw.items()) + "}"
    script.device(json_answer(200, text_body))


@pytest.mark.parametrize("field", ["expires_in", "interval"])
@pytest.mark.parametrize(
    "raw",
    [
        '"abc"',
        "Infinity",
        "-Infinity",
        "NaN",
        '"Infinity"',
        "1e308",
        "-5",
        "true",
        '"1e999"',
        '"5s"',
        "[5]",
        "1" + "0" * 400,
    ],
)
def test_unusable_numbers_are_a_clean_auth_error(script, field, raw):
    _raw_device(script, **{field: raw})
    error, client, _ = _login(script)
    assert isinstance(error, AuthError), error
    assert error.exit_code == 3 and field in error.message
    assert len(client.times) == 1  # nothing polled


def test_zero_expires_in_is_refused_but_zero_interval_is_floored(script):
    script.device(expires_in=0)
    error, _, _ = _login(script)
    assert isinstance(error, AuthError) and "expires_in" in error.message


def test_device_lifetime_is_at_most_an_hour_and_defaults_to_five_minutes(script):
    settings = _settings(script)
    endpoints = Endpoints.from_settings(settings)
    client = FormClient(NetworkOptions.from_settings(settings))
    script.device(expires_in=7200)
    assert qwen_oauth.request_device_code(endpoints, client).expires_in == 3600
    script.device(expires_in=OMIT)
    assert qwen_oauth.request_device_code(endpoints, client).expires_in == 300
    script.device(expires_in="900.5", interval=OMIT)
    device = qwen_oauth.request_device_code(endpoints, client)
    assert device.expires_in == 900.5 and device.interval is None


@pytest.mark.parametrize("field", ["verification_uri", "verification_uri_complete"])
@pytest.mark.parametrize(
    "uri",
    [
        "javascript:alert(document.cookie)",
        "file:///etc/passwd",
        "data:text/html,<script>alert(1)</script>",
        "vbscript:msgbox",
        "http://login.example.test/device",  # plain http to another machine
        "https://chat.qwen.ai@evil.example.test/x",  # a user name that looks like the host
        "https://chat.qwen.ai/\x1b]8;;https://evil/\x1b\\",
        "https://chat.qwen.ai/a b",
        "//chat.qwen.ai/device",
        42,
    ],
)
def test_unsafe_verification_uris_are_refused_before_anything_is_shown(script, field, uri):
    script.device(**{field: uri})
    shown = []
    clock = VirtualClock()
    with pytest.raises(AuthError) as info:
        qwen_oauth.login(_settings(script), shown.append, sleep=clock.sleep, clock=clock)
    assert field in info.value.message and info.value.exit_code == 3
    assert shown == [] and script.poll_requests == []


def test_a_reply_without_any_verification_uri_is_refused(script):
    script.device(verification_uri=OMIT, verification_uri_complete=OMIT)
    error, _, _ = _login(script)
    assert isinstance(error, AuthError) and "verification_uri" in error.message


def test_url_rules():
    assert url_problem("https://chat.qwen.ai/authorize?user_code=X") is None
    assert url_problem("http://127.0.0.1:8080/device") is None
    assert url_problem("http://localhost/device") is None
    assert url_problem("http://[::1]:9/device") is None
    assert url_problem("HTTPS://Chat.Qwen.AI/") is None
    assert url_problem("http://gw.corp.example/device", allow_http=True) is None
    for bad in (
        "http://gw.corp.example/device",
        "https://h:notaport/",
        "https:///path",
        "https://h/#frag",
        "ftp://h/",
        "",
        None,
    ):
        assert url_problem(bad), bad


# -- where requests go: base URL guard, redirects, RFC 8414 metadata, path settings --------------------


@pytest.mark.parametrize(
    "base",
    [
        "http://oauth.example.test",
        "ftp://oauth.example.test",
        "javascript:alert(1)",
        "https://user:pw@oauth.example.test",
    ],
)
def test_a_base_url_that_is_not_https_or_loopback_is_refused_before_any_request(isolated, base):
    settings = settings_for(None, QWEN_OAUTH_BASE_URL=base)
    with pytest.raises(ConfigError) as info:
        qwen_oauth.login(settings, lambda d: None, sleep=lambda s: None)
    assert info.value.exit_code == 8
    assert repr(base) in info.value.message and "auth.qwen_oauth.base_url" in info.value.message
    _seed(isolated.qwen_home, expires_in=-60)
    with pytest.raises(ConfigError):
        qwen_oauth.credentials(settings)
    assert read_creds(isolated.qwen_home)["refresh_token"] == CANARY_REFRESH
    # the autouse fixture fails the test if anything tried to reach oauth.example.test


def test_allow_insecure_http_lets_a_trusted_gateway_use_http():
    settings = settings_for(
        None,
        QWEN_OAUTH_BASE_URL="http://gw.corp.example",
        QWEN_NETWORK_ALLOW_INSECURE_HTTP="1",
        QWEN_AUTH_QWEN_OAUTH_DEVICE_PATH="/d",
        QWEN_AUTH_QWEN_OAUTH_TOKEN_PATH="/t",
    )
    urls = Endpoints.from_settings(settings).urls(client=None)  # both paths set: no metadata request
    assert (urls.device, urls.token) == ("http://gw.corp.example/d", "http://gw.corp.example/t")


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_redirects_are_never_followed(script, trap, isolated, status):
    script.device(redirect(trap.base + "/api/v1/oauth2/device/code", status))
    error, _, _ = _login(script)
    assert isinstance(error, ConfigError) and error.exit_code == 8
    assert f"127.0.0.1:{script.port}" in error.message and f"127.0.0.1:{trap.port}" in error.message
    script.polls(redirect(trap.base + "/api/v1/oauth2/token", status))
    error, _, _ = _login(script)
    assert isinstance(error, ConfigError), error
    _seed(isolated.qwen_home, expires_in=-60)
    script.refreshes(redirect(trap.base + "/api/v1/oauth2/token", status))
    with pytest.raises(ConfigError) as info:
        qwen_oauth.credentials(_settings(script))
    assert f"127.0.0.1:{trap.port}" in info.value.message
    assert trap.requests == []
    assert read_creds(isolated.qwen_home)["refresh_token"] == CANARY_REFRESH


def _metadata(script, **fields):
    body = {
        "issuer": script.base,
        "device_authorization_endpoint": script.base + "/oauth/device",
        "token_endpoint": script.base + "/oauth/token",
    }
    body.update(fields)
    return {k: v for k, v in body.items() if v is not OMIT}


def test_rfc8414_metadata_names_the_endpoints(script):
    script.metadata = _metadata(script)
    script.device_path, script.token_path = "/oauth/device", "/oauth/token"
    script.polls(tokens())
    token, _, _ = _login(script)
    assert isinstance(token, token_store.OAuthToken), token
    assert len(script.metadata_requests) == 1
    assert script.metadata_requests[0].path == "/.well-known/oauth-authorization-server"


def test_path_settings_win_over_metadata(script):
    script.metadata = _metadata(script)
    script.device_path, script.token_path = "/custom/device", "/oauth/token"
    script.polls(tokens())
    token, _, _ = _login(script, QWEN_AUTH_QWEN_OAUTH_DEVICE_PATH="/custom/device")
    assert isinstance(token, token_store.OAuthToken), token


def test_both_path_settings_skip_metadata(script):
    script.device_path, script.token_path = "/a", "/b"
    script.polls(tokens())
    token, _, _ = _login(script, QWEN_AUTH_QWEN_OAUTH_DEVICE_PATH="/a", QWEN_AUTH_QWEN_OAUTH_TOKEN_PATH="/b")
    assert isinstance(token, token_store.OAuthToken), token
    assert script.metadata_requests == []


def test_without_metadata_qwens_paths_are_used(script):
    script.polls(tokens())
    token, _, _ = _login(script)
    assert isinstance(token, token_store.OAuthToken), token
    assert len(script.metadata_requests) == 1  # asked, got a 404


def test_metadata_with_another_issuer_is_not_used(script):
    script.metadata = _metadata(script, issuer="https://someone.else.example")
    script.polls(tokens())
    token, _, _ = _login(script)  # Qwen's paths, which the script serves by default
    assert isinstance(token, token_store.OAuthToken), token


@pytest.mark.parametrize("field", ["device_authorization_endpoint", "token_endpoint"])
@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.2:9/oauth",
        "javascript:alert(1)",
        "http://evil.example.test/t",
        "https://u@evil.example.test/t",
        7,
    ],
)
def test_metadata_endpoints_are_checked(script, field, url):
    script.metadata = _metadata(script, **{field: url})
    error, _, _ = _login(script)
    assert isinstance(error, ConfigError), error
    assert field in error.message and ".well-known/oauth-authorization-server" in error.message
    assert script.device_requests == []
    assert script.poll_requests == []


def test_qwens_own_host_needs_no_metadata(isolated):
    class NoNetwork:
        def get_json(self, url):
            raise AssertionError(f"asked {url}")

    urls = Endpoints.from_settings(settings_for()).urls(NoNetwork())
    assert urls.device == "https://chat.qwen.ai/api/v1/oauth2/device/code"
    assert urls.token == "https://chat.qwen.ai/api/v1/oauth2/token"


@pytest.mark.parametrize(
    "path", ["oauth/token", "//evil.example.test/t", "https://evil.example.test/t", "/a b", "/t#x"]
)
def test_a_path_setting_must_be_a_path(path):
    settings = settings_for(None, QWEN_AUTH_QWEN_OAUTH_TOKEN_PATH=path)
    with pytest.raises(ConfigError) as info:
        Endpoints.from_settings(settings).urls(client=None)
    assert "auth.qwen_oauth.token_path" in info.value.message


# -- refresh (RFC 6749 §5 and §6): what means "log in again" -------------------------------------------


def _seed(home, expires_in=3600.0, expiry=True, resource_url=None):
    data = {"access_token": CANARY_ACCESS, "refresh_token": CANARY_REFRESH, "token_type": "Bearer"}
    if resource_url:
        data["resource_url"] = resource_url
    if expiry:
        data["expiry_date"] = int((time.time() + expires_in) * 1000)
    home.mkdir(parents=True, exist_ok=True, mode=0o700)
    (home / "oauth_creds.json").write_text(json.dumps(data))
    return (home / "oauth_creds.json").read_bytes()


@pytest.mark.parametrize(
    "answer, words",
    [
        (html(200, "Hotel Wi-Fi login"), "HTTP 200"),
        (html(404, "Not Found"), "HTTP 404"),
        (empty(200), "HTTP 200"),
        (text(502, "Bad Gateway"), "HTTP 502"),
        (json_answer(200, {"ok": True}), "HTTP 200"),
        (json_answer(200, '{"a":' * 50000 + "1" + "}" * 50000), "nested"),  # would overflow the parser
    ],
)
def test_a_refresh_answered_by_something_else_is_a_server_problem_and_keeps_the_login(script, isolated, answer, words):
    before = _seed(isolated.qwen_home, expires_in=-60)
    script.refreshes(answer)
    with pytest.raises(ServerError) as info:
        qwen_oauth.credentials(_settings(script))
    assert info.value.exit_code == 5
    assert f"127.0.0.1:{script.port}" in info.value.message and words in info.value.message
    assert "revoked" not in info.value.message and "log in again" not in (info.value.hint or "").lower()
    assert (isolated.qwen_home / "oauth_creds.json").read_bytes() == before
    assert not (isolated.qwen_home / "oauth_creds.lock").exists()


@pytest.mark.parametrize("status", [400, 401])
def test_only_a_json_invalid_grant_means_the_login_is_gone(script, isolated, status):
    before = _seed(isolated.qwen_home, expires_in=-60)
    script.refreshes(oauth_error("invalid_grant", status, "Refresh token expired"))
    with pytest.raises(qwen_oauth.LoginGone):
        qwen_oauth.credentials(_settings(script))
    assert (isolated.qwen_home / "oauth_creds.json").read_bytes() == before  # not deleted either


@pytest.mark.parametrize(
    "answer",
    [
        oauth_error("invalid_client", 401),
        oauth_error("invalid_grant", 403),
        oauth_error("invalid_request", 400, "missing parameter"),
    ],
)
def test_other_refusals_are_auth_errors_but_not_a_lost_login(script, isolated, answer):
    _seed(isolated.qwen_home, expires_in=-60)
    script.refreshes(answer)
    with pytest.raises(AuthError) as info:
        qwen_oauth.credentials(_settings(script))
    assert not isinstance(info.value, qwen_oauth.LoginGone) and "refused the token refresh" in info.value.message


def test_a_429_refresh_is_a_rate_limit(script, isolated):
    _seed(isolated.qwen_home, expires_in=-60)
    script.refreshes(text(429, "slow down"))
    with pytest.raises(RateLimitError):
        qwen_oauth.credentials(_settings(script))


# -- RFC 6749 §5.1: expires_in is only RECOMMENDED -----------------------------------------------------


def test_a_token_without_expires_in_has_an_unknown_lifetime(script, isolated):
    script.polls(tokens(expires_in=OMIT))
    token = qwen_oauth.login(_settings(script), lambda d: None, sleep=lambda s: None)
    assert token.expiry_date is None and token.expires_at is None and not token.needs_refresh()
    stored = read_creds(isolated.qwen_home)
    assert "expiry_date" not in stored and stored["access_token"] == token.access_token
    again = token_store.read_token(isolated.qwen_home)
    assert again == token and again.seconds_left() == math.inf


@pytest.mark.parametrize(
    "value, lifetime",
    [("600", 600), (600, 600), ("abc", None), (-1, None), (0, None), (1e308, None), (None, None), (True, None)],
)
def test_token_lifetimes(value, lifetime):
    assert oauth_replies.token_lifetime({"expires_in": value}) == lifetime


def test_a_token_of_unknown_lifetime_is_used_and_refreshed_on_the_first_401(oauth_script, isolated):
    _seed(isolated.qwen_home, expiry=False, resource_url=oauth_script.openai.url)
    oauth_script.openai.accept_tokens.discard(CANARY_ACCESS)  # rejected by the API: refresh once, retry once
    oauth_script.refreshes(tokens(expires_in=OMIT))
    env = {"QWEN_OAUTH_BASE_URL": oauth_script.base, "QWEN_AUTH_METHOD": "qwen-oauth"}
    result = invoke(["ask", "hi"], env=env)
    assert result.exit_code == 0, result.output
    assert len(oauth_script.refresh_requests) == 1
    assert [r.bearer for r in oauth_script.openai.chat_requests] == [CANARY_ACCESS, oauth_script.issued[-1]]
    assert "expiry_date" not in read_creds(isolated.qwen_home)


def test_a_token_of_unknown_lifetime_is_not_refreshed_before_use(oauth_script, isolated):
    _seed(isolated.qwen_home, expiry=False, resource_url=oauth_script.openai.url)
    oauth_script.openai.accept_tokens.add(CANARY_ACCESS)
    env = {"QWEN_OAUTH_BASE_URL": oauth_script.base, "QWEN_AUTH_METHOD": "qwen-oauth"}
    assert invoke(["ask", "hi"], env=env).exit_code == 0
    assert oauth_script.refresh_requests == []
    status = invoke(["auth", "status"], env=env)
    assert status.exit_code == 0, status.output
    assert "expires   unknown" in status.stdout
    data = json.loads(invoke(["auth", "status", "--json"], env=env).stdout)
    row = next(m for m in data["methods"] if m["method"] == "qwen-oauth")
    assert row["expires_at"] is None and row["expires_in"] is None and row["usable"] is True


# -- secrets learnt by the auth code are redacted everywhere -------------------------------------------


def test_tokens_and_device_codes_are_registered_for_redaction(script):
    from qwen_cli.secrets import redact

    token_store.OAuthToken("qat-registered-access-1", "qrt-registered-refresh-1", "Bearer", None)
    script.device(device_code="dc-registered-device-code-1")
    script.polls(oauth_error("invalid_request", 400, "unknown device code dc-registered-device-code-1"))
    error, _, _ = _login(script)
    text_out = redact(f"{error.message} qat-registered-access-1 qrt-registered-refresh-1")
    assert "registered" not in text_out
