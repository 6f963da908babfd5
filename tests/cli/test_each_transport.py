"""`qwen ask --each` prepares its requests once per run (providers/transport.py: Reuse, and the adapter's
last pool): the rules every request keeps must hold for the 2nd to the Nth request as for the first.
A proxy from the environment, NO_PROXY, a CA bundle (and one from an untrusted folder's .env, refused) and
a cookie the server sets, each through a real subprocess against loopback servers."""

from __future__ import annotations

import json

from tests.helpers import run_qwen
from tests.servers.openai_stub import stream_reply

LINES = 6


def env_for(server, **extra):
    return {
        "OPENAI_API_KEY": "sk-test-key",
        "OPENAI_BASE_URL": server.url,
        "OPENAI_MODEL": "test-model",
        "QWEN_NETWORK_MAX_RETRIES": "0",
        **extra,
    }


def each(env, lines=LINES, parallel=3):
    text = "".join(f"q{i}\n" for i in range(lines))
    return run_qwen(["ask", "--each", "-", "-P", str(parallel)], input=text, env=env)


def contents(result) -> list[str]:
    return [json.loads(line).get("content") for line in result.stdout.splitlines()]


def test_a_proxy_from_the_environment_carries_every_request(openai_server, proxy_server):
    result = each(env_for(openai_server, HTTP_PROXY=proxy_server.base))
    assert result.exit_code == 0, result.stderr
    assert contents(result) == ["via proxy"] * LINES
    assert [r.path for r in proxy_server.requests] == [f"{openai_server.url}/chat/completions"] * LINES
    assert openai_server.requests == []


def test_no_proxy_still_sends_every_request_direct(openai_server, proxy_server):
    result = each(env_for(openai_server, HTTP_PROXY=proxy_server.base, NO_PROXY="127.0.0.1"))
    assert result.exit_code == 0, result.stderr
    assert contents(result) == ["Hello from stub"] * LINES
    assert proxy_server.requests == [] and len(openai_server.chat_requests) == LINES


def test_the_proxy_flag_carries_every_request(openai_server, proxy_server):
    text = "".join(f"q{i}\n" for i in range(LINES))
    result = run_qwen(
        ["ask", "--each", "-", "-P", "3", "--proxy", proxy_server.base], input=text, env=env_for(openai_server)
    )
    assert result.exit_code == 0, result.stderr
    assert contents(result) == ["via proxy"] * LINES and openai_server.requests == []


def test_a_ca_bundle_from_the_environment_verifies_every_request(tls_server):
    result = each(env_for(tls_server, REQUESTS_CA_BUNDLE=str(tls_server.cert)))
    assert result.exit_code == 0, result.stderr
    assert contents(result) == ["Hello from stub"] * LINES


def test_a_ca_bundle_from_an_untrusted_folders_env_is_refused_for_every_line(isolated, tls_server):
    (isolated.work / ".env").write_text(f"REQUESTS_CA_BUNDLE={tls_server.cert}\n")

    result = each(env_for(tls_server))

    assert result.exit_code == 6, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(lines) == LINES and all(line["ok"] is False for line in lines)
    assert all(line["error"]["message"].startswith("TLS verification failed") for line in lines)
    assert "Warning: ignoring REQUESTS_CA_BUNDLE" in result.stderr
    assert tls_server.chat_requests == []

    # The positive control: the same file, once the folder is trusted, verifies every request.
    assert run_qwen(["trust", str(isolated.work)]).exit_code == 0
    trusted = each(env_for(tls_server))
    assert trusted.exit_code == 0, trusted.stderr
    assert contents(trusted) == ["Hello from stub"] * LINES


def test_a_cookie_the_server_sets_goes_back_on_the_next_requests(openai_server):
    openai_server.script(stream_reply(["first"], headers={"Set-Cookie": "affinity=node-7; Path=/"}))
    result = each(env_for(openai_server), lines=3, parallel=1)  # one worker: one connection, one cookie jar
    assert result.exit_code == 0, result.stderr
    cookies = [r.headers.get("cookie") for r in openai_server.chat_requests]
    assert cookies == [None, "affinity=node-7", "affinity=node-7"]
