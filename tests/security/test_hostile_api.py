"""A hostile or broken API server costs bounded time and memory, and redirects never carry secrets elsewhere.

Each test runs the real `qwen` as a subprocess against tests/security/hostile_server.py with a canary key
and a canary custom header, and checks the exit code, the single `Error:` line naming the setting, the
time it took or the child's peak RSS, and that the canaries appear in no output and reach no other host.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass

import pytest

from tests.helpers import qwen_command
from tests.security.hostile_server import (
    MIB,
    HostileServer,
    chunk_json,
    deep_json,
    endless_line,
    gzip_bomb,
    keepalives,
    redirect,
    respond,
    sse,
    trickle_headers,
)
from tests.security.peak_rss import Launched

CANARY_KEY = "sk-CANARY-hostile-5b2e9d71c4"
CANARY_HEADER = "hdr-CANARY-hostile-0a7f3c"
MEMORY_BOUND_MB = 200
OK_STREAM = sse(
    b"data: " + chunk_json("fine") + b"\n\n",
    b'data: {"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\ndata: [DONE]\n\n',
)


@dataclass
class Run:
    exit_code: int
    stdout: str
    stderr: str
    seconds: float
    peak_mb: float
    ended: float = 0.0  # time.monotonic() when qwen exited

    def seconds_after_connecting(self, server: HostileServer) -> float:
        """From the server's first accepted connection to qwen's exit: a deadline's bound without the Python
        start-up, which a loaded machine (or a parallel test run) can stretch by seconds."""
        assert server.accepted_at, "qwen never connected"
        return self.ended - server.accepted_at[0]


@pytest.fixture
def servers():
    started = []

    def start(handler=None, **kwargs) -> HostileServer:
        server = HostileServer(handler, **kwargs).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def qwen(isolated):
    """Run `qwen ARGS` against a server with the canary key and a canary header for the `custom` provider."""
    isolated.qwen_home.mkdir(parents=True, exist_ok=True)
    (isolated.qwen_home / "config.toml").write_text(f'[providers.custom.headers]\nX-Canary = "{CANARY_HEADER}"\n')

    def run(server, *args: str, timeout: float = 30, **env) -> Run:
        environ = dict(os.environ)
        environ.update(
            {
                "OPENAI_API_KEY": CANARY_KEY,
                "OPENAI_BASE_URL": server if isinstance(server, str) else server.url,
                "OPENAI_MODEL": "test-model",
                "QWEN_NETWORK_MAX_RETRIES": "0",
            }
        )
        environ.update(env)
        return run_measured(
            [*args] if args and args[0] in ("auth", "--debug") else ["ask", *args, "hi"], environ, timeout
        )

    return run


def run_measured(args: list[str], env: dict, timeout: float) -> Run:
    """qwen's exit code, output, wall time and peak RSS (tests/security/peak_rss.py says why a launcher)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.monotonic()
        launched = Launched(qwen_command() + args, stdin=subprocess.DEVNULL, stdout=out, stderr=err, env=env)
        killer = threading.Timer(timeout, launched.kill)
        killer.start()
        try:
            exit_code, peak_kb = launched.result()
        finally:
            killer.cancel()
        ended = time.monotonic()
        seconds = ended - start
        out.seek(0)
        err.seek(0)
        run = Run(
            exit_code,
            out.read().decode("utf-8", "replace"),
            err.read().decode("utf-8", "replace"),
            seconds,
            peak_kb / 1024,
            ended,
        )
    assert run.exit_code != -9, f"qwen was still running after {timeout}s: {run.stderr}"
    return run


def assert_one_error(run: Run, exit_code: int, *fragments: str) -> str:
    lines = run.stderr.splitlines()
    errors = [line for line in lines if line.startswith("Error: ")]
    assert run.exit_code == exit_code, run.stderr
    assert len(errors) == 1 and sum(line.startswith("Hint: ") for line in lines) == 1, run.stderr
    assert "Traceback" not in run.stderr
    for fragment in fragments:
        assert fragment in errors[0] or fragment in run.stderr, run.stderr
    assert_no_canary(run)
    return errors[0]


def assert_no_canary(run: Run) -> None:
    for canary in (CANARY_KEY, CANARY_HEADER):
        assert canary not in run.stdout and canary not in run.stderr


# -- memory: bodies ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args, handler",
    [
        (["--no-stream"], gzip_bomb()),  # the answer
        ([], gzip_bomb(content_type="application/json")),  # a JSON answer to a stream request
        ([], gzip_bomb(500)),  # an error body
    ],
    ids=["answer", "json-to-stream", "error-body"],
)
def test_gzip_bomb_stops_at_the_body_cap_in_bounded_memory(servers, qwen, args, handler):
    run = qwen(servers(handler), *args)
    assert_one_error(run, 5, "larger than 32 MiB (network.max_response_bytes)", "raise network.max_response_bytes")
    assert run.peak_mb < MEMORY_BOUND_MB


def test_gzip_bomb_on_models_stops_at_the_body_cap(servers, qwen):
    server = servers()
    server.routes["/models"] = gzip_bomb()
    run = qwen(server, "auth", "status", "--verify")
    assert run.exit_code == 5, run.stderr
    assert "network.max_response_bytes" in run.stdout + run.stderr
    assert run.peak_mb < MEMORY_BOUND_MB
    assert_no_canary(run)


def test_gzip_bomb_as_an_event_stream_stops_at_the_event_cap(servers, qwen):
    run = qwen(servers(gzip_bomb(content_type="text/event-stream")))
    assert_one_error(run, 5, "larger than 8 MiB (network.max_event_bytes)", "raise network.max_event_bytes")
    assert run.peak_mb < MEMORY_BOUND_MB


def test_a_smaller_body_cap_applies(servers, qwen):
    body = {"choices": [{"index": 0, "message": {"content": "x" * 5000}, "finish_reason": "stop"}]}
    run = qwen(servers(respond(200, body)), "--no-stream", QWEN_NETWORK_MAX_RESPONSE_BYTES="4096")
    assert_one_error(run, 5, "larger than 4 KiB (network.max_response_bytes)")


# -- time and memory: one endless line ---------------------------------------------------------------------


def test_a_48_mib_line_stops_at_the_event_cap(servers, qwen):
    run = qwen(servers(endless_line()))
    assert_one_error(run, 5, "a stream event larger than 8 MiB (network.max_event_bytes)")
    assert run.peak_mb < MEMORY_BOUND_MB and run.seconds < 10


def test_a_48_mib_line_under_a_raised_cap_is_read_in_linear_time(servers, qwen):
    # Before the parser kept one growing buffer, this took 9 s to 38 s, re-scanning it for every chunk.
    run = qwen(servers(endless_line()), QWEN_NETWORK_MAX_EVENT_BYTES=str(64 * MIB))
    assert_one_error(run, 6, "cut off", "in the middle of an event")
    assert run.seconds < 8 and run.peak_mb < MEMORY_BOUND_MB


# -- time: headers and idle streams ------------------------------------------------------------------------


def test_trickling_headers_hit_the_headers_deadline(servers, qwen):
    server = servers(trickle_headers(period=0.5))
    run = qwen(server, QWEN_NETWORK_HEADERS_TIMEOUT="2", QWEN_NETWORK_MAX_RETRIES="3")
    assert_one_error(
        run,
        6,
        "did not finish sending response headers within 2s (network.headers_timeout)",
        "raise network.headers_timeout",
    )
    assert 1.9 < run.seconds_after_connecting(server) < 6
    assert len(server.requests) == 1  # a deadline is not retried


def test_a_silent_tls_handshake_hits_the_headers_deadline(servers, qwen):
    server = servers()  # reads forever: it waits for an HTTP request that a TLS ClientHello never completes
    run = qwen(
        f"https://127.0.0.1:{server.port}/v1",
        QWEN_NETWORK_HEADERS_TIMEOUT="1",
        QWEN_NETWORK_READ_TIMEOUT="30",
        QWEN_NETWORK_CONNECT_TIMEOUT="30",
    )
    assert_one_error(run, 6, "network.headers_timeout")
    assert run.seconds_after_connecting(server) < 5


def test_keep_alives_without_data_hit_the_idle_timeout(servers, qwen):
    server = servers(keepalives(period=0.1))
    run = qwen(server, QWEN_NETWORK_IDLE_TIMEOUT="1")
    line = assert_one_error(
        run, 6, "sent keep-alives but no data for 1s (network.idle_timeout)", "raise network.idle_timeout"
    )
    assert "cut off" not in line and "text so far" not in run.stderr
    assert run.seconds_after_connecting(server) < 5


def test_keep_alives_after_some_text_cut_the_answer_at_the_idle_timeout(servers, qwen):
    server = servers(keepalives(b"data: " + chunk_json("partial") + b"\n\n", period=0.1))
    run = qwen(server, QWEN_NETWORK_IDLE_TIMEOUT="1")
    assert_one_error(run, 6, "the answer was cut off", "network.idle_timeout", "The text so far is incomplete")
    assert run.stdout.startswith("partial")
    assert run.seconds_after_connecting(server) < 5


# -- deep JSON ---------------------------------------------------------------------------------------------

DEEP = deep_json(100_000)
DEEP_PLACES = {
    "answer": (["--no-stream"], respond(200, DEEP, {"Content-Type": "application/json"})),
    "json-to-stream": ([], respond(200, DEEP, {"Content-Type": "application/json"})),
    "event": ([], sse(b"data: " + DEEP + b"\n\n")),
    "error-body": ([], respond(500, DEEP, {"Content-Type": "application/json"})),
    "400-body": ([], respond(400, DEEP, {"Content-Type": "application/json"})),
}


@pytest.mark.parametrize("place", DEEP_PLACES)
def test_deeply_nested_json_is_exit_5_not_a_recursion_error(servers, qwen, place):
    args, handler = DEEP_PLACES[place]
    run = qwen(servers(handler), *args)
    assert_one_error(run, 5, "JSON nested more than 256 levels deep")


def test_deeply_nested_json_from_models_is_exit_5(servers, qwen):
    server = servers()
    server.routes["/models"] = respond(200, DEEP, {"Content-Type": "application/json"})
    run = qwen(server, "auth", "status", "--verify")
    assert run.exit_code == 5 and "nested more than 256 levels" in run.stdout + run.stderr
    assert "RecursionError" not in run.stdout + run.stderr
    assert_no_canary(run)


def test_deeply_nested_json_from_the_oauth_host_is_exit_5(servers, qwen):
    oauth = servers(respond(200, DEEP, {"Content-Type": "application/json"}))
    run = qwen(oauth, "auth", "login", "--method", "qwen-oauth", "--no-browser", QWEN_OAUTH_BASE_URL=oauth.base)
    assert_one_error(run, 5, "JSON nested more than 256 levels deep")
    assert any(r.method == "POST" for r in oauth.requests)


# -- redirects ---------------------------------------------------------------------------------------------


def elsewhere(servers, host: str) -> HostileServer:
    """A second server that would answer well: anything it receives is a leak."""
    bind = "127.0.0.1" if host == "localhost" else host
    try:
        return servers(OK_STREAM, host=bind, url_host=host)
    except OSError:
        pytest.skip(f"cannot listen on {bind}")


def assert_leaked_nothing(server: HostileServer) -> None:
    assert server.requests == [], [(r.method, r.path, r.headers) for r in server.requests]


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
@pytest.mark.parametrize("host", ["localhost", "127.0.0.2"])
def test_a_redirect_to_another_host_is_refused_and_sends_it_nothing(servers, qwen, status, host):
    other = elsewhere(servers, host)
    api = servers(redirect(other.url + "/chat/completions", status))
    run = qwen(api)
    line = assert_one_error(run, 4, f"http://127.0.0.1:{api.port}", f"http://{host}:{other.port}")
    assert "does not follow redirects to another host" in line
    assert_leaked_nothing(other)


def test_a_redirect_to_another_port_or_scheme_is_another_origin(servers, qwen):
    other = elsewhere(servers, "127.0.0.1")
    api = servers(redirect(f"https://127.0.0.1:{other.port}/v1/chat/completions"))
    assert_one_error(qwen(api), 4, "another host")
    api.handler = redirect(other.url + "/chat/completions")
    assert_one_error(qwen(api), 4, f"http://127.0.0.1:{other.port}")
    assert_leaked_nothing(other)


def test_a_redirect_body_is_capped_like_any_other(servers, qwen):
    # requests itself reads a 3xx body whole, even when not following it: http.send must not let it.
    run = qwen(servers(gzip_bomb(307, content_type="text/plain")))
    assert_one_error(run, 5, "network.max_response_bytes")
    assert run.peak_mb < MEMORY_BOUND_MB


def test_the_canaries_stay_out_of_debug_output_on_a_refused_redirect(servers, qwen):
    other = elsewhere(servers, "localhost")
    api = servers(redirect(other.url + "/chat/completions"))
    run = qwen(api, "--debug", "ask", "hi")
    assert run.exit_code == 4
    assert_no_canary(run)
    assert_leaked_nothing(other)


def test_a_models_redirect_to_another_host_is_refused(servers, qwen):
    other = elsewhere(servers, "localhost")
    api = servers()
    api.routes["/models"] = redirect(other.url + "/models", 302)
    run = qwen(api, "auth", "status", "--verify")
    assert run.exit_code == 4 and "does not follow redirects to another host" in run.stdout + run.stderr
    assert_no_canary(run)
    assert_leaked_nothing(other)


def test_a_same_origin_redirect_is_followed_with_the_body_and_headers(servers, qwen):
    api = servers()
    api.routes["/v1/chat/completions"] = redirect("/v2/chat/completions", 307)
    api.routes["/v2/chat/completions"] = OK_STREAM
    run = qwen(api)
    assert run.exit_code == 0 and run.stdout == "fine\n", run.stderr
    first, second = api.requests
    assert second.path == "/v2/chat/completions" and second.body == first.body and b'"hi"' in second.body
    assert second.headers["authorization"] == f"Bearer {CANARY_KEY}" and second.headers["x-canary"] == CANARY_HEADER


def test_a_same_origin_redirect_loop_stops(servers, qwen):
    api = servers(redirect("/v1/chat/completions", 307))
    assert_one_error(qwen(api), 4, "redirected more than 5 times")
    assert len(api.requests) == 6


def test_send_can_leave_redirects_to_the_caller(servers):
    """The OAuth form client refuses redirects itself: send(allow_redirects=False) hands back the 3xx."""
    from qwen_cli.providers import http
    from qwen_cli.providers.events import NetworkOptions

    other = elsewhere(servers, "localhost")
    api = servers(redirect(other.url + "/token", 307))
    response = http.send(
        "POST", api.url + "/token", headers={}, network=NetworkOptions(), data=b"code=secret", allow_redirects=False
    )
    assert response.status_code == 307 and response.headers["Location"] == other.url + "/token"
    assert response.text == "moved\n"
    assert_leaked_nothing(other)
