"""`qwen auth login --provider openrouter --browser`: OpenRouter's PKCE login against a loopback stub of its
authorize page and key exchange (tests/servers/openrouter_auth_stub.py), with a script as the browser
($BROWSER) or a person pasting on stdin. Every run is the real `qwen` in a subprocess."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.helpers import qwen_command, run_qwen
from tests.servers.openai_stub import error, json_reply, raw
from tests.servers.openrouter_auth_stub import OpenRouterAuthStub, s256

BROWSER_SCRIPT = Path(__file__).resolve().parents[1] / "servers" / "browser_script.py"
LOGIN = ["auth", "login", "--provider", "openrouter", "--browser", "--model", "test-model"]


@pytest.fixture
def openrouter():
    stub = OpenRouterAuthStub().start()
    try:
        yield stub
    finally:
        stub.stop()


def _trusted_config(isolated, stub) -> None:
    """The user's own config.toml (a trusted layer) points both OpenRouter URLs at the stub."""
    isolated.qwen_home.mkdir(parents=True, exist_ok=True, mode=0o700)
    (isolated.qwen_home / "config.toml").write_text(
        f'[providers.openrouter]\nbase_url = "{stub.url}"\noauth_authorize_url = "{stub.authorize_url}"\n'
    )


def _browser(isolated, mode: str = "approve") -> tuple[dict, Path]:
    log = isolated.tmp / "browser.log"
    env = {"BROWSER": f"{sys.executable} {BROWSER_SCRIPT} {log}", "DISPLAY": ":0", "BROWSER_SCRIPT_MODE": mode}
    return env, log


def _stored(isolated) -> str:
    creds = isolated.qwen_home / "credentials.toml"
    return creds.read_text() if creds.exists() else ""


def _one_error(result, code: int) -> str:
    assert result.exit_code == code, result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, result.stderr
    assert "Hint:" in result.stderr
    assert "Traceback" not in result.output
    return errors[0]


class Running:
    """`qwen` started in the background, its stderr collected line by line (a person watching the terminal)."""

    def __init__(self, args: list[str], env: dict | None = None) -> None:
        environ = {**os.environ, **(env or {})}
        self.proc = subprocess.Popen(
            qwen_command() + args,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=environ,
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for raw_line in self.proc.stderr:
            self.lines.append(raw_line.decode("utf-8", "replace"))

    def wait_for(self, pattern: str, timeout: float = 20) -> re.Match:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in list(self.lines):
                found = re.search(pattern, line)
                if found:
                    return found
            time.sleep(0.02)
        self.proc.kill()
        raise AssertionError(f"no {pattern!r} in {''.join(self.lines)!r}")

    def authorize_url(self) -> str:
        return self.wait_for(r"(http://127\.0\.0\.1:\d+/auth\?\S+)").group(1)

    def type(self, text: str, close: bool = True) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(text.encode())
        self.proc.stdin.flush()
        if close:
            self.proc.stdin.close()

    def finish(self, timeout: float = 30) -> tuple[int, str, str]:
        out = self.proc.stdout.read() if self.proc.stdout else b""
        code = self.proc.wait(timeout=timeout)
        self._reader.join(timeout=5)
        return code, out.decode("utf-8", "replace"), "".join(self.lines)


def _approve_without_following(url: str) -> str:
    """What a browser on another machine shows after approval: the callback address it was sent to (which
    it can't reach), read here from the stub's redirect without following it."""

    class NoFollow(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(NoFollow)
    try:
        opener.open(url, timeout=10)
    except urllib.error.HTTPError as exc:
        assert exc.code == 302
        return exc.headers["Location"]
    raise AssertionError("the authorize page did not redirect")


# -- the browser on this machine ------------------------------------------------------------------------------


def test_a_browser_login_ends_with_a_stored_key_that_qwen_ask_uses(isolated, openrouter):
    _trusted_config(isolated, openrouter)
    env, log = _browser(isolated)
    result = run_qwen(LOGIN, env=env)
    assert result.exit_code == 0, result.output
    assert "Opened your browser" in result.stderr
    assert "Logged in: API Key (openrouter); model test-model; key saved in credentials.toml" in result.stderr
    [key] = openrouter.keys
    assert key not in result.output
    assert key in _stored(isolated)
    # The authorize request: S256 over the verifier that was exchanged, a state, a loopback callback on a
    # free port (not Qwen Code's fixed 3000).
    [query] = openrouter.authorize_queries
    [exchange] = openrouter.exchanges
    assert query["code_challenge_method"] == "S256"
    assert exchange.json["code_challenge_method"] == "S256"
    assert s256(exchange.json["code_verifier"]) == query["code_challenge"]
    assert re.fullmatch(r"[0-9a-f]{32}", query["state"])
    callback = urlsplit(query["callback_url"])
    assert (callback.hostname, callback.path) == ("127.0.0.1", "/callback")
    assert callback.port not in (None, 3000)
    # The page the browser ended on: the small static one.
    page = log.read_text()
    assert page.startswith("200 /callback\n")
    assert "You can close this tab" in page
    # The key is an ordinary API key now.
    asked = run_qwen(["ask", "hi"])
    assert asked.exit_code == 0, asked.output
    assert asked.stdout.strip() == "Hello from stub"
    assert openrouter.chat_requests[-1].bearer == key


def test_each_login_draws_a_fresh_verifier_state_and_port(isolated, openrouter):
    _trusted_config(isolated, openrouter)
    env, _log = _browser(isolated)
    for _ in range(2):
        assert run_qwen(LOGIN, env=env).exit_code == 0
    first, second = openrouter.authorize_queries
    assert first["state"] != second["state"]
    assert first["code_challenge"] != second["code_challenge"]
    assert first["callback_url"] != second["callback_url"]


def test_login_with_verify_checks_the_new_key(isolated, openrouter):
    _trusted_config(isolated, openrouter)
    env, _log = _browser(isolated)
    result = run_qwen([*LOGIN, "--verify"], env=env)
    assert result.exit_code == 0, result.output
    assert re.search(r"Verified GET http://127\.0\.0\.1:\d+/v1/models: OK: the key works", result.stderr)
    assert openrouter.keys[0] in _stored(isolated)


def test_with_debug_neither_the_code_nor_the_key_nor_the_verifier_is_printed(isolated, openrouter):
    _trusted_config(isolated, openrouter)
    env, _log = _browser(isolated)
    result = run_qwen(["--debug", *LOGIN], env=env)
    assert result.exit_code == 0, result.output
    assert "debug:" in result.stderr
    [key], [code], [exchange] = openrouter.keys, openrouter.codes, openrouter.exchanges
    for secret in (key, code, exchange.json["code_verifier"]):
        assert secret not in result.output


# -- a wrong state --------------------------------------------------------------------------------------------


def test_a_callback_with_the_wrong_state_is_refused_and_the_login_goes_on(isolated, openrouter):
    _trusted_config(isolated, openrouter)
    env, log = _browser(isolated, mode="forge-first")
    result = run_qwen(LOGIN, env=env)
    assert result.exit_code == 0, result.output
    assert "refused a call to the login address that was not this login's" in result.stderr
    pages = log.read_text()
    assert pages.startswith("400 /callback\n")
    assert "200 /callback" in pages
    [exchange] = openrouter.exchanges
    assert exchange.json["code"] != "forged-code"


def test_only_a_wrong_state_stores_nothing_and_times_out(isolated, openrouter):
    _trusted_config(isolated, openrouter)
    env, _log = _browser(isolated, mode="forge-only")
    started = time.monotonic()
    result = run_qwen(LOGIN, env={**env, "QWEN_AUTH_BROWSER_TIMEOUT": "2"})
    line = _one_error(result, 3)
    assert "timed out after 2 s" in line
    assert time.monotonic() - started < 15
    assert openrouter.exchanges == []
    assert _stored(isolated) == ""


def test_a_pasted_address_with_the_wrong_state_is_refused(isolated, openrouter):
    _trusted_config(isolated, openrouter)
    running = Running([*LOGIN, "--no-browser"])
    address = _approve_without_following(running.authorize_url())
    forged = re.sub(r"state=[0-9a-f]+", "state=" + "0" * 32, address)
    running.type(forged + "\n")
    code, _out, err = running.finish()
    assert code == 2, err
    assert "its state does not match" in err
    assert openrouter.exchanges == []
    assert _stored(isolated) == ""


# -- headless: the URL printed, the answer pasted --------------------------------------------------------------


def test_headless_the_pasted_callback_address_logs_in(isolated, openrouter):
    _trusted_config(isolated, openrouter)
    running = Running(LOGIN)  # no DISPLAY, no $BROWSER: nothing can open
    assert running.wait_for("open this URL in a browser")
    running.type(_approve_without_following(running.authorize_url()) + "\n")
    code, _out, err = running.finish()
    assert code == 0, err
    [key] = openrouter.keys
    assert key in _stored(isolated)
    assert key not in err


def test_headless_the_pasted_bare_code_logs_in(isolated, openrouter):
    _trusted_config(isolated, openrouter)
    env, log = _browser(isolated)
    running = Running([*LOGIN, "--no-browser"], env=env)  # a browser could open: --no-browser says don't
    address = _approve_without_following(running.authorize_url())
    bare = parse_qs(urlsplit(address).query)["code"][0]
    running.type("  " + bare + "  \n")
    code, _out, err = running.finish()
    assert code == 0, err
    assert not log.exists()  # the browser was never started
    assert openrouter.keys[0] in _stored(isolated)
    assert bare not in err


def test_headless_with_nothing_pasted_is_a_usage_error(isolated, openrouter):
    _trusted_config(isolated, openrouter)
    result = run_qwen(LOGIN, input="")
    line = _one_error(result, 2)
    assert "stdin ended without an address or a code" in line
    assert _stored(isolated) == ""


def test_the_wait_times_out_with_one_line(isolated, openrouter):
    _trusted_config(isolated, openrouter)
    running = Running(LOGIN, env={"QWEN_AUTH_BROWSER_TIMEOUT": "1"})  # stdin stays open, nothing typed
    started = time.monotonic()
    code, _out, err = running.finish()
    assert code == 3, err
    assert time.monotonic() - started < 15
    assert [line for line in err.splitlines() if line.startswith("Error:")] == [
        "Error: the browser login timed out after 1 s without an answer"
    ]
    assert "Hint:" in err
    assert _stored(isolated) == ""


# -- the exchange's failures -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reply", "exit_code", "words"),
    [
        (error(400, {"error": {"message": "Invalid code", "code": 400}}), 3, "refused the key exchange (HTTP 400"),
        (error(403, {"error": {"message": "\x1b]0;owned\x07nope"}}), 3, "HTTP 403"),
        (error(404, {"error": {"message": "no such route"}}), 4, "HTTP 404"),
        (error(429, {"error": {"message": "slow down"}}), 7, "HTTP 429"),
        (error(503, {"error": {"message": "down"}}), 5, "HTTP 503"),
        (raw(200, [b"<html>not json</html>"], {"Content-Type": "text/html"}), 5, "something other than JSON"),
        (error(200, {"user_id": "u1"}), 5, "without a key"),
        (error(302, {}, {"Location": "http://127.0.0.1:9/elsewhere"}), 8, "redirect (HTTP 302)"),
    ],
)
def test_exchange_failures_are_one_line_and_store_nothing(isolated, openrouter, reply, exit_code, words):
    _trusted_config(isolated, openrouter)
    openrouter.exchange_reply = reply
    env, _log = _browser(isolated)
    result = run_qwen(LOGIN, env=env)
    line = _one_error(result, exit_code)
    assert words in line
    assert "\x1b" not in result.output and "\x07" not in result.output
    assert _stored(isolated) == ""
    assert openrouter.codes[0] not in result.output


def test_a_key_json_reply_is_not_mistaken_for_chat(isolated, openrouter):
    """A 200 that is JSON but the wrong shape (a chat answer) has no key: nothing stored."""
    _trusted_config(isolated, openrouter)
    openrouter.exchange_reply = json_reply("hello")
    env, _log = _browser(isolated)
    _one_error(run_qwen(LOGIN, env=env), 5)
    assert _stored(isolated) == ""


# -- Ctrl-C ----------------------------------------------------------------------------------------------------


def _port_of(authorize_url: str) -> int:
    return urlsplit(parse_qs(urlsplit(authorize_url).query)["callback_url"][0]).port or 0


def _refused(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) != 0


@pytest.mark.parametrize("typed", ["", "http://127.0.0.1/callback?code=half"])
def test_ctrl_c_while_waiting_or_pasting_stores_nothing(isolated, openrouter, typed):
    _trusted_config(isolated, openrouter)
    running = Running(LOGIN)
    port = _port_of(running.authorize_url())
    running.wait_for("Waiting up to 5 min")
    assert not _refused(port)  # listening while it waits
    if typed:
        running.type(typed, close=False)  # half a paste, no Enter
        time.sleep(0.3)
    running.proc.send_signal(signal.SIGINT)
    code, out, err = running.finish()
    assert code == 130, err
    assert err.rstrip().endswith("Interrupted.")
    assert "Traceback" not in err
    assert _refused(port)
    assert _stored(isolated) == "" and not (isolated.qwen_home / "credentials.toml").exists()


def test_ctrl_c_during_the_exchange_stores_nothing(isolated, openrouter):
    _trusted_config(isolated, openrouter)
    openrouter.hold_exchange = True
    env, _log = _browser(isolated)
    running = Running(LOGIN, env=env)
    deadline = time.monotonic() + 20
    while not openrouter.exchanges and time.monotonic() < deadline:
        time.sleep(0.05)
    assert openrouter.exchanges, "".join(running.lines)
    running.proc.send_signal(signal.SIGINT)
    code, _out, err = running.finish()
    assert code == 130, err
    assert "Traceback" not in err
    assert not (isolated.qwen_home / "credentials.toml").exists()


# -- where the code may go -------------------------------------------------------------------------------------


def test_an_untrusted_project_cannot_move_the_authorize_page_or_the_exchange(isolated, openrouter):
    attacker = OpenRouterAuthStub().start()
    try:
        _trusted_config(isolated, openrouter)
        project = isolated.work / ".qwen"
        project.mkdir()
        (project / "config.toml").write_text(
            f'[providers.openrouter]\nbase_url = "{attacker.url}"\noauth_authorize_url = "{attacker.authorize_url}"\n'
        )
        env, _log = _browser(isolated)
        result = run_qwen(LOGIN, env=env)
        assert result.exit_code == 0, result.output
        assert "ignoring providers.openrouter.oauth_authorize_url from" in result.stderr
        assert "ignoring providers.openrouter.base_url from" in result.stderr
        assert attacker.requests == []
        assert openrouter.keys[0] in _stored(isolated)
    finally:
        attacker.stop()


def test_the_exchange_is_refused_over_plain_http_to_another_machine(isolated, openrouter):
    isolated.qwen_home.mkdir(parents=True, exist_ok=True, mode=0o700)
    (isolated.qwen_home / "config.toml").write_text(
        f'[providers.openrouter]\nbase_url = "http://gateway.example.test/v1"\n'
        f'oauth_authorize_url = "{openrouter.authorize_url}"\n'
    )
    env, log = _browser(isolated)
    line = _one_error(run_qwen(LOGIN, env=env), 8)
    assert "plain http://" in line
    assert openrouter.requests == [] and not log.exists()  # refused before any browser or code


# -- usage ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["auth", "login", "--provider", "openai", "--browser"], "OpenAI has no browser login"),
        (["auth", "login", "--browser"], "needs --provider"),
        (["auth", "login", "--method", "qwen-oauth", "--browser"], "needs --provider"),
        ([*LOGIN, "--key-stdin"], "can't be combined"),
        ([*LOGIN, "--base-url", "http://127.0.0.1:9/v1"], "--base-url can't be combined with --browser"),
    ],
)
def test_browser_where_it_does_not_apply_is_a_usage_error(args, words):
    result = run_qwen(args)
    assert words in _one_error(result, 2)


def test_help_shows_the_browser_login():
    result = run_qwen(["auth", "login", "--help"])
    assert result.exit_code == 0
    assert "qwen auth login --provider openrouter --browser" in result.stdout
    assert "--browser" in result.stdout
