"""The bad-input matrix: every case is a real `qwen` process that must exit with the documented code, print
one `Error:` line (plus at most one `Hint:` line), show no traceback and never show the canary key.
docs/failure-matrix.md is the table of what the user sees; the rows are collected into the survival report."""

from __future__ import annotations

import socket
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.auth.helpers import seed_oauth
from tests.helpers import Result
from tests.servers.openai_stub import call, error, hang, raw, stream_reply
from tests.survival.registry import CANARY_ACCESS, CANARY_KEY, CANARY_REFRESH, REGISTRY
from tests.survival.util import (
    assert_one_line_error,
    error_line,
    hint_line,
    run,
    without_root_bypass,
)


@dataclass
class Ctx:
    isolated: object
    openai: object
    request: object

    @property
    def home(self) -> Path:
        return self.isolated.qwen_home

    def oauth(self):
        return self.request.getfixturevalue("oauth_server")

    def plan(self, base_url: str | None = None, **extra) -> dict:
        """A Coding Plan login (statistics are collected for it) pointed at base_url, the canary key in env."""
        self.openai.accept_tokens.add(CANARY_KEY)
        self.home.mkdir(parents=True, exist_ok=True)
        (self.home / "credentials.toml").write_text(f'[coding-plan]\nbase_url = "{base_url or self.openai.url}"\n')
        env = {
            "QWEN_AUTH_METHOD": "coding-plan",
            "BAILIAN_CODING_PLAN_API_KEY": CANARY_KEY,
            "QWEN_NETWORK_MAX_RETRIES": "0",
        }
        env.update(extra)
        return env

    def config(self, text: str | bytes) -> None:
        self.home.mkdir(parents=True, exist_ok=True)
        path = self.home / "config.toml"
        path.write_bytes(text if isinstance(text, bytes) else text.encode())


CASES: dict[str, tuple[int, object, str | None]] = {}


def case(name: str, code: int, expect: str | None = None):
    """Register a case: fn(ctx) -> Result; `expect` is a fragment the Error/Hint lines must contain."""

    def register(fn):
        CASES[name] = (code, fn, expect)
        return fn

    return register


def ask(ctx, env, *extra, **kwargs) -> Result:
    return run(["ask", *extra, "hi"], env=env, timeout=kwargs.pop("timeout", 60), **kwargs)


_HELD_PORTS: list[socket.socket] = []


def closed_port() -> int:
    """A port that refuses connections: bound for the rest of the session but never listening, so no other
    test (pytest-xdist runs several at once) or program can start listening on it meanwhile."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    _HELD_PORTS.append(sock)
    return sock.getsockname()[1]


# -- configuration ---------------------------------------------------------------------------------------


@case("config: TOML syntax error", 8, "config.toml:2:")
def _(ctx):
    ctx.config("[network]\nmax_retries = = 3\n")
    return ask(ctx, ctx.plan())


@case("config: wrong type (string for an int)", 8, "network.max_retries must be an int")
def _(ctx):
    ctx.config('[network]\nmax_retries = "lots"\n')
    return ask(ctx, {k: v for k, v in ctx.plan().items() if k != "QWEN_NETWORK_MAX_RETRIES"})


@case("config: value not among the choices", 8, "auth.method must be one of")
def _(ctx):
    ctx.config('[auth]\nmethod = "magic"\n')
    env = ctx.plan()
    del env["QWEN_AUTH_METHOD"]
    return ask(ctx, env)


@case("config: negative timeout", 8, "must not be negative")
def _(ctx):
    ctx.config("[network]\nread_timeout = -5\n")
    return ask(ctx, ctx.plan())


@case("config: not UTF-8", 8, "not valid UTF-8")
def _(ctx):
    ctx.config(b'[general]\nmodel = "\xff\xfe"\n')
    return ask(ctx, ctx.plan())


@case("config: a table where a value belongs", 8, "general.model must be a str")
def _(ctx):
    ctx.config("[general.model]\nname = 1\n")
    return run(["config", "show"])


@case("config: bad value in the environment", 8, "QWEN_NETWORK_MAX_RETRIES")
def _(ctx):
    return ask(ctx, ctx.plan(QWEN_NETWORK_MAX_RETRIES="three"))


@case("config: a secret in the project file", 8, "may not hold secrets")
def _(ctx):
    project = ctx.isolated.work / ".qwen" / "config.toml"
    project.parent.mkdir()
    project.write_text(f'[providers.openai]\napi_key = "{CANARY_KEY}"\n')
    try:
        return ask(ctx, ctx.plan())
    finally:
        project.unlink()  # planted by the test: not something qwen wrote


@case("config: config.toml is a directory", 8, "should be a file")
def _(ctx):
    (ctx.home / "config.toml").mkdir(parents=True)
    return ask(ctx, ctx.plan())


@case("config set: unknown key with a typo", 2, "did you mean 'network.max_retries'")
def _(ctx):
    return run(["config", "set", "network.max_retrys", "5"])


@case("config set: value of the wrong type", 2, "must be an int")
def _(ctx):
    return run(["config", "set", "network.max_retries", "many"])


@case("$QWEN_HOME is a file, not a directory", 8, "QWEN_HOME must be a directory")
def _(ctx):
    import shutil

    shutil.rmtree(ctx.home)
    ctx.home.write_text("oops\n")
    return run(["config", "set", "general.model", "x"])


@case("$QWEN_HOME unreadable (mode 000)", 8, "cannot read")
def _(ctx):
    wrap = without_root_bypass()
    if wrap is None:
        pytest.skip("running as root without setpriv: mode 000 cannot be enforced")
    ctx.config('[general]\nmodel = "m"\n')
    ctx.home.chmod(0)
    try:
        return run(["config", "show"], wrap=wrap)
    finally:
        ctx.home.chmod(0o700)


@case("read-only $QWEN_HOME: config set", 8, None)
def _(ctx):
    wrap = without_root_bypass()
    if wrap is None:
        pytest.skip("running as root without setpriv: a read-only directory cannot be enforced")
    ctx.config('[general]\nmodel = "m"\n')
    ctx.home.chmod(0o500)
    try:
        return run(["config", "set", "general.model", "x"], wrap=wrap)
    finally:
        ctx.home.chmod(0o700)


@case("read-only $QWEN_HOME: auth login stores a key", 8, None)
def _(ctx):
    wrap = without_root_bypass()
    if wrap is None:
        pytest.skip("running as root without setpriv: a read-only directory cannot be enforced")
    ctx.home.mkdir(parents=True, exist_ok=True)
    ctx.home.chmod(0o500)
    try:
        return run(
            ["auth", "login", "--method", "coding-plan", "--region", "global", "--key-stdin"],
            input=CANARY_KEY,
            wrap=wrap,
        )
    finally:
        ctx.home.chmod(0o700)


# -- stored credentials ----------------------------------------------------------------------------------


def _oauth_env(ctx) -> dict:
    return {"QWEN_AUTH_METHOD": "qwen-oauth", "QWEN_OAUTH_BASE_URL": ctx.oauth().base_url}


@case("oauth_creds.json truncated", 3, "qwen auth login --method qwen-oauth")
def _(ctx):
    seed_oauth(ctx.oauth(), ctx.home, access=CANARY_ACCESS, refresh=CANARY_REFRESH)
    path = ctx.home / "oauth_creds.json"
    path.write_text(path.read_text()[:40])
    return ask(ctx, _oauth_env(ctx))


@case("oauth_creds.json not JSON at all", 3, "not a valid Qwen OAuth credentials file")
def _(ctx):
    ctx.home.mkdir(parents=True, exist_ok=True)
    (ctx.home / "oauth_creds.json").write_bytes(b"\x00\xffnot json" + CANARY_ACCESS.encode())
    return ask(ctx, _oauth_env(ctx))


@case("oauth_creds.json with wrong types", 3, "not a valid Qwen OAuth credentials file")
def _(ctx):
    ctx.home.mkdir(parents=True, exist_ok=True)
    (ctx.home / "oauth_creds.json").write_text(
        f'{{"access_token": "{CANARY_ACCESS}", "refresh_token": 7, "token_type": "Bearer", "expiry_date": "soon"}}'
    )
    return ask(ctx, _oauth_env(ctx))


@case("oauth login revoked (invalid_grant on refresh)", 3, "Log in again")
def _(ctx):
    oauth = ctx.oauth()
    seed_oauth(oauth, ctx.home, expires_in=-60, access=CANARY_ACCESS, refresh=CANARY_REFRESH)
    oauth.revoke_refresh_tokens()
    return run(["--debug", "ask", "hi"], env=_oauth_env(ctx))


@case("credentials.toml broken TOML", 8, "credentials.toml:")
def _(ctx):
    ctx.home.mkdir(parents=True, exist_ok=True)
    (ctx.home / "credentials.toml").write_text(f'[coding-plan\nkey = "{CANARY_KEY}"\n')
    return ask(ctx, {"QWEN_AUTH_METHOD": "coding-plan"})


@case("credentials.toml wrong type", 8, "must be a string")
def _(ctx):
    ctx.home.mkdir(parents=True, exist_ok=True)
    (ctx.home / "credentials.toml").write_text('[coding-plan]\nkey = 12345\nbase_url = ["x"]\n')
    return ask(ctx, {"QWEN_AUTH_METHOD": "coding-plan"})


@case("no login at all, off a terminal", 3, "qwen auth login")
def _(ctx):
    return ask(ctx, {})


# -- what the server answers -----------------------------------------------------------------------------


@case("HTTP 401 (wrong key)", 3, "qwen auth status")
def _(ctx):
    ctx.openai.script(error(401, {"error": {"message": "Incorrect API key provided", "code": "invalid_api_key"}}))
    return run(["--debug", "ask", "hi"], env=ctx.plan())


@case("HTTP 401 echoing the key, with --debug", 3, "qwen auth status")
def _(ctx):
    # The secret scan at the end of the suite sees this run: the error line must show the key masked.
    ctx.openai.script(error(401, {"error": {"message": f"Incorrect API key provided: {CANARY_KEY}"}}, times=2))
    result = run(["--debug", "ask", "hi"], env=ctx.plan())
    assert "Incorrect API key provided: sk-" in result.stderr
    return result


@case("HTTP 400 maximum context length", 4, "larger context window")
def _(ctx):
    message = "This model's maximum context length is 8192 tokens. However, you requested 9000 tokens."
    ctx.openai.script(error(400, {"error": {"message": message, "code": "context_length_exceeded"}}))
    return ask(ctx, ctx.plan())


@case("HTTP 400 with no reason we recognise", 4, "its reason is above")
def _(ctx):
    ctx.openai.script(error(400, {"error": {"message": "temperature out of range"}}))
    return ask(ctx, ctx.plan())


@case("HTTP 403", 3, "qwen auth login")
def _(ctx):
    ctx.openai.script(error(403, {"error": {"message": "This key may not use this model"}}))
    return ask(ctx, ctx.plan())


@case("HTTP 404 (model not found)", 4, "choose one with -m")
def _(ctx):
    ctx.openai.script(error(404, {"error": {"message": "The model `nope` does not exist", "code": "model_not_found"}}))
    return ask(ctx, ctx.plan(), "-m", "nope")


@case("HTTP 413 on 20 MB of stdin", 4, "too large")
def _(ctx):
    ctx.openai.script(error(413, "Request Entity Too Large"))
    env = ctx.plan(QWEN_INPUT_MAX_BYTES=str(32 * 1024 * 1024))  # above the 8 MiB default cap
    return run(["ask", "summarize"], env=env, input=b"x" * (20 * 1024 * 1024), timeout=120)


@case("HTTP 429 with Retry-After", 7, None)
def _(ctx):
    ctx.openai.script(error(429, {"error": {"message": "Rate limit reached for requests"}}, {"Retry-After": "30"}))
    return ask(ctx, ctx.plan())


@case("HTTP 429 without Retry-After", 7, None)
def _(ctx):
    ctx.openai.script(error(429, {"error": {"message": "Too many requests"}}))
    return run(["--debug", "ask", "hi"], env=ctx.plan())


@case("HTTP 429 retried, then given up", 7, None)
def _(ctx):
    ctx.openai.script(error(429, {"error": {"message": "Too many requests"}}, {"Retry-After": "0"}, times=3))
    return ask(ctx, ctx.plan(QWEN_NETWORK_MAX_RETRIES="2"))


@case("HTTP 429 quota exhausted (Coding Plan)", 7, "quota")
def _(ctx):
    ctx.openai.script(
        error(429, {"error": {"message": "You exceeded your 5-hour quota", "code": "insufficient_quota"}})
    )
    return ask(ctx, ctx.plan())


@case("HTTP 500", 5, "try again later")
def _(ctx):
    ctx.openai.script(error(500, {"error": {"message": "Internal server error", "type": "server_error"}}))
    return ask(ctx, ctx.plan())


@case("HTTP 502 with an HTML page", 5, "try again later")
def _(ctx):
    ctx.openai.script(error(502, "<html><body><h1>502 Bad Gateway</h1></body></html>", {"Content-Type": "text/html"}))
    return ask(ctx, ctx.plan())


@case("HTTP 503 after retries", 5, "after 2 attempts")
def _(ctx):
    ctx.openai.script(error(503, {"error": {"message": "Service Unavailable"}}, {"Retry-After": "0"}, times=2))
    return run(["--debug", "ask", "hi"], env=ctx.plan(QWEN_NETWORK_MAX_RETRIES="1"))


@case("200 with an HTML page", 5, None)
def _(ctx):
    ctx.openai.script(
        call(
            lambda h, r: h.send_simple(
                200, b"<!doctype html><html><body>Login</body></html>", {"Content-Type": "text/html"}
            )
        )
    )
    return ask(ctx, ctx.plan())


@case("200 with an empty body", 5, "empty response")
def _(ctx):
    ctx.openai.script(call(lambda h, r: h.send_simple(200, b"", {"Content-Type": "text/event-stream"})))
    return ask(ctx, ctx.plan())


@case("200 with an error JSON", 5, None)
def _(ctx):
    ctx.openai.script(
        call(lambda h, r: h.send_json(200, {"error": {"message": "upstream overloaded", "type": "server_error"}}))
    )
    return ask(ctx, ctx.plan())


@case("200 JSON without choices (--no-stream)", 5, "without choices")
def _(ctx):
    ctx.openai.script(call(lambda h, r: h.send_json(200, {"id": "x", "object": "chat.completion"})))
    return ask(ctx, ctx.plan(), "--no-stream")


@case("stream: error event mid-stream", 5, "mid-stream")
def _(ctx):
    ctx.openai.script(stream_reply(["Hel", "lo"], error_after=1, error_message="upstream died"))
    return ask(ctx, ctx.plan())


@case("stream cut mid-UTF-8", 6, "cut off")
def _(ctx):
    body = 'data: {"choices":[{"index":0,"delta":{"content":"中文"}}]}\n\n'.encode()
    cut = body.index("文".encode()) + 1
    ctx.openai.script(raw(200, [body[:cut]], {"Content-Type": "text/event-stream"}))
    return ask(ctx, ctx.plan())


@case("stream cut mid-event", 6, "cut off")
def _(ctx):
    ctx.openai.script(stream_reply(["one", " two", " three"], truncate_after=2))
    return ask(ctx, ctx.plan())


@case("stream malformed event", 5, "malformed stream event")
def _(ctx):
    ctx.openai.script(raw(200, [b'data: {"choices": [oops\n\n'], {"Content-Type": "text/event-stream"}))
    return ask(ctx, ctx.plan())


@case("stream that never ends (read timeout)", 6, "network.read_timeout")
def _(ctx):
    ctx.openai.script(stream_reply(["partial"], delay=30, done=False))
    return ask(ctx, ctx.plan(QWEN_NETWORK_READ_TIMEOUT="1"))


@case("no answer at all (read timeout before headers)", 6, "network.read_timeout")
def _(ctx):
    ctx.openai.script(hang(30, headers_first=False))
    return run(["--debug", "ask", "hi"], env=ctx.plan(QWEN_NETWORK_READ_TIMEOUT="1"))


# -- the network -----------------------------------------------------------------------------------------


@case("DNS failure", 6, "DNS")
def _(ctx):
    return ask(ctx, ctx.plan("https://coding-intl.dashscope.invalid/v1"))


@case("connection refused", 6, "refused")
def _(ctx):
    return ask(ctx, ctx.plan(f"http://127.0.0.1:{closed_port()}/v1"))


@case("TLS failure (self-signed certificate)", 6, "network.ca_bundle")
def _(ctx):
    from tests.providers.stub_extras import TLSOpenAIStub, self_signed_cert

    cert, key = self_signed_cert(ctx.isolated.tmp)
    stub = TLSOpenAIStub(cert, key).start()
    try:
        return run(["--debug", "ask", "hi"], env=ctx.plan(stub.url))
    finally:
        stub.stop()


@case("proxy that refuses connections", 6, "proxy")
def _(ctx):
    return ask(
        ctx, ctx.plan("https://coding-intl.dashscope.aliyuncs.com/v1", HTTPS_PROXY=f"http://127.0.0.1:{closed_port()}")
    )


@case("proxy that answers 403 to CONNECT", 6, "refused the tunnel with HTTP 403")
def _(ctx):
    from tests.servers.openai_stub import StubServer

    class Refusing(StubServer):
        def dispatch(self, h, rec):
            h.send_simple(403, b"Forbidden by policy", {"Content-Type": "text/plain"})

    from tests.servers.openai_stub import StubHandler

    proxy = Refusing()
    StubHandler.do_CONNECT = StubHandler._handle  # CONNECT is not a method the stub knows; for this case only
    try:
        proxy.start()
        return ask(ctx, ctx.plan("https://coding-intl.dashscope.aliyuncs.com/v1", HTTPS_PROXY=proxy.base))
    finally:
        proxy.stop()
        del StubHandler.do_CONNECT


@case("base URL with a typo in the path", 4, "Check the base URL")
def _(ctx):
    return ask(ctx, ctx.plan(ctx.openai.base + "/v1/chat"))


@case("base URL with a typo in the scheme", 8, "is not an http(s) URL")
def _(ctx):
    return ask(ctx, ctx.plan("htps://coding-intl.dashscope.aliyuncs.com/v1"))


@case("base URL with a typo in the host", 6, "DNS")
def _(ctx):
    return ask(ctx, ctx.plan("https://coding-intl.dashscope.aliyuncs.comm/v1"))


# -- usage -----------------------------------------------------------------------------------------------


@case("unknown command", 2, None)
def _(ctx):
    return run(["aks", "hi"], env=ctx.plan())


@case("nothing to ask", 2, "nothing to ask")
def _(ctx):
    return run(["ask"], env=ctx.plan(), input=b"")


@case("failure in JSON output mode", 3, "qwen auth status")
def _(ctx):
    ctx.openai.script(error(401, {"error": {"message": "Incorrect API key provided"}}))
    result = ask(ctx, ctx.plan(), "-o", "json")
    import json

    payload = json.loads(result.stdout.strip().splitlines()[-1])
    assert payload["error"]["exit_code"] == 3
    return result


# -- the matrix test -------------------------------------------------------------------------------------

ROWS: list[dict] = []


@pytest.mark.parametrize("name", list(CASES))
def test_bad_input(name, isolated, openai_server, request):
    code, fn, expect = CASES[name]
    result = fn(Ctx(isolated, openai_server, request))
    assert_one_line_error(result, code)
    shown = error_line(result) + "\n" + hint_line(result)
    if expect:
        assert expect.lower() in shown.lower(), shown
    for raw_python in ("Caused by", "Max retries exceeded", "codec can't", "object at 0x", "Errno"):
        assert raw_python not in shown, f"Python internals shown to the user: {shown}"
    assert hint_line(result), f"every error has a Hint line, this one has none: {shown}"
    _row(name, code, result)


def _row(name: str, code: int, result: Result) -> None:
    REGISTRY.add("matrix_cases")
    rows = REGISTRY.figures.setdefault("matrix_rows", [])
    rows.append({"case": name, "exit": code, "error": error_line(result), "hint": hint_line(result)})
