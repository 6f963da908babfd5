"""The loopback stubs themselves, exercised over real sockets."""

from __future__ import annotations

import json
import secrets
import socket
import threading
import time

import pytest
import requests

from tests.servers.oauth_stub import CLIENT_ID, DEVICE_GRANT, SCOPE, pkce_challenge
from tests.servers.openai_stub import error, hang, json_reply, raw, stream_reply

KEY = {"Authorization": "Bearer sk-test-key"}


def chat(server, body=None, headers=KEY, **kw):
    body = {"model": "qwen-x", "messages": [{"role": "user", "content": "hi"}], **(body or {})}
    kw.setdefault("timeout", 5)
    return requests.post(server.url + "/chat/completions", json=body, headers=headers, **kw)


def sse_events(data: bytes) -> list[str]:
    """A minimal SSE parser: the data of each event (data lines joined with "\\n")."""
    text = data.decode("utf-8").replace("\r\n", "\n")
    events = []
    for block in text.split("\n\n"):
        lines = [ln[5:].removeprefix(" ") for ln in block.split("\n") if ln.startswith("data:")]
        if lines:
            events.append("\n".join(lines))
    return events


def payloads(data: bytes) -> list:
    return [e if e == "[DONE]" else json.loads(e) for e in sse_events(data)]


def content(events) -> str:
    return "".join(c["delta"].get("content") or "" for e in events if isinstance(e, dict) for c in e.get("choices", []))


# ---------------------------------------------------------------------------------------------- OpenAI


def test_default_json_reply_echoes_model_and_records_request(openai_server):
    resp = chat(openai_server, headers={**KEY, "X-Custom": "yes"})
    assert resp.status_code == 200
    body = resp.json()
    assert body["object"] == "chat.completion"
    assert body["model"] == "qwen-x"
    assert body["choices"][0]["message"]["content"] == "Hello from stub"
    assert body["choices"][0]["finish_reason"] == "stop"
    assert body["usage"] == {"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8}
    rec = openai_server.requests[-1]
    assert (rec.method, rec.path) == ("POST", "/v1/chat/completions")
    assert rec.headers["x-custom"] == "yes" and rec.headers["X-Custom"] == "yes"
    assert rec.json["messages"][0]["content"] == "hi"
    assert rec.bearer == "sk-test-key"
    assert openai_server.url == openai_server.base + "/v1"


def test_default_stream_with_and_without_usage(openai_server):
    resp = chat(openai_server, {"stream": True, "stream_options": {"include_usage": True}})
    assert resp.headers["Content-Type"].startswith("text/event-stream")
    events = payloads(resp.content)
    assert events[-1] == "[DONE]"
    assert content(events) == "Hello from stub"
    assert events[-3]["choices"][0]["finish_reason"] == "stop"
    assert events[-2]["choices"] == [] and events[-2]["usage"]["completion_tokens"] == 3
    assert all(e["model"] == "qwen-x" and e["object"] == "chat.completion.chunk" for e in events[:-1])

    events = payloads(chat(openai_server, {"stream": True}).content)
    assert not any("usage" in e for e in events if isinstance(e, dict))
    assert events[-1] == "[DONE]"


def test_stream_arrives_incrementally(openai_server):
    openai_server.script(stream_reply(["a", "b", "c"], delay=0.15))
    resp = chat(openai_server, {"stream": True}, stream=True)
    arrivals = []
    for line in resp.iter_lines():
        if line.startswith(b"data: {"):
            arrivals.append((time.monotonic(), json.loads(line[6:])))
    tokens = [(t, p["choices"][0]["delta"].get("content")) for t, p in arrivals]
    assert [tok for _, tok in tokens] == ["a", "b", "c", None]
    assert tokens[1][0] - tokens[0][0] >= 0.1
    assert tokens[2][0] - tokens[1][0] >= 0.1


def test_bearer_check(openai_server):
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": "Bearer "}):
        resp = chat(openai_server, headers=headers)
        assert resp.status_code == 401
        assert resp.json()["error"]["code"] == "invalid_api_key"
    assert requests.get(openai_server.url + "/models", timeout=5).status_code == 401
    openai_server.accept_tokens.add("*")
    assert chat(openai_server, headers={"Authorization": "Bearer whatever"}).status_code == 200
    openai_server.accept_tokens = set()
    openai_server.require_auth = False
    assert chat(openai_server, headers={}).status_code == 200


def test_models_list_override_and_404(openai_server):
    resp = requests.get(openai_server.url + "/models", headers=KEY, timeout=5)
    assert resp.json() == {
        "object": "list",
        "data": [{"id": m, "object": "model", "owned_by": "stub"} for m in ("test-model", "other-model")],
    }
    openai_server.models_response = error(500, {"error": {"message": "boom"}})
    assert requests.get(openai_server.url + "/models", headers=KEY, timeout=5).status_code == 500
    assert requests.get(openai_server.base + "/nope", timeout=5).status_code == 404


def test_scripts_are_consumed_in_order(openai_server):
    openai_server.script(
        error(503, {"error": {"message": "busy"}}, times=2),
        error(429, {"error": {"message": "Rate limit exceeded"}}, {"Retry-After": "1"}),
        error(502, "<html>Bad gateway</html>", {"Content-Type": "text/html"}),
        json_reply("scripted", usage=None, reasoning="thinking"),
    )
    assert openai_server.pending() == 5
    assert chat(openai_server).status_code == 503
    assert chat(openai_server).status_code == 503
    resp = chat(openai_server)
    assert resp.status_code == 429 and resp.headers["Retry-After"] == "1"
    assert resp.json()["error"]["message"] == "Rate limit exceeded"
    resp = chat(openai_server)
    assert resp.status_code == 502 and resp.headers["Content-Type"] == "text/html" and "Bad gateway" in resp.text
    body = chat(openai_server).json()
    message = body["choices"][0]["message"]
    assert message == {"role": "assistant", "content": "scripted", "reasoning_content": "thinking"}
    assert "usage" not in body
    assert chat(openai_server).json()["choices"][0]["message"]["content"] == "Hello from stub"
    assert len(openai_server.chat_requests) == 6


def test_stream_variants(openai_server):
    openai_server.script(
        stream_reply(["x"], reasoning=["hmm", " ok"], usage=(1, 2, 3), model="m2", keepalive=True, crlf=True),
        stream_reply(["héllo", " wörld ✓"], split_bytes=3, multi_data_lines=True, done=False, split_delay=0),
        stream_reply(["a", "b", "c"], error_after=1),
        stream_reply(["a", "b", "c"], truncate_after=2, chunked=False),
    )
    data = chat(openai_server, {"stream": True}).content
    assert b"\r\n\r\n" in data and b": keep-alive\r\n" in data
    events = payloads(data)
    reasoning = [e["choices"][0]["delta"].get("reasoning_content") for e in events[:2]]
    assert reasoning == ["hmm", " ok"] and events[0]["choices"][0]["delta"]["role"] == "assistant"
    assert content(events) == "x" and events[-2]["usage"]["total_tokens"] == 3 and events[0]["model"] == "m2"

    data = chat(openai_server, {"stream": True}).content
    assert b"data: {\ndata: " in data
    events = payloads(data)
    assert content(events) == "héllo wörld ✓" and events[-1] != "[DONE]"

    events = payloads(chat(openai_server, {"stream": True}).content)
    assert content(events) == "a"
    assert events[-1] == {"error": {"message": events[-1]["error"]["message"], "type": "server_error"}}

    resp = chat(openai_server, {"stream": True})
    events = payloads(resp.content)
    assert content(events) == "ab" and all(c["finish_reason"] is None for e in events for c in e["choices"])


def test_truncated_chunked_stream_breaks_the_connection(openai_server):
    openai_server.script(stream_reply(["a", "b"], truncate_after=1))
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        chat(openai_server, {"stream": True}).content  # noqa: B018


def test_raw_bytes(openai_server):
    openai_server.script(raw(200, [b'data: {"a"', b": 1}\n\n"], {"Content-Type": "text/event-stream"}, delay=0.01))
    resp = chat(openai_server)
    assert resp.content == b'data: {"a": 1}\n\n'


def test_hang_times_out_and_stop_is_prompt(openai_server):
    openai_server.script(hang(30), hang(30, headers_first=False))
    with pytest.raises(requests.exceptions.ConnectionError):
        chat(openai_server, {"stream": True}, timeout=(2, 0.2), stream=True).content  # noqa: B018
    with pytest.raises(requests.exceptions.ReadTimeout):
        chat(openai_server, timeout=(2, 0.2))
    started = time.monotonic()
    openai_server.stop()
    assert time.monotonic() - started < 1.0


def test_concurrent_requests(openai_server):
    openai_server.script(stream_reply(["slow"], delay=0.3), json_reply("fast"))
    results = {}
    t = threading.Thread(target=lambda: results.setdefault("slow", chat(openai_server, {"stream": True}).content))
    t.start()
    assert openai_server.wait_for_requests(1)
    started = time.monotonic()
    assert chat(openai_server).json()["choices"][0]["message"]["content"] == "fast"
    assert time.monotonic() - started < 0.25
    t.join(5)
    assert content(payloads(results["slow"])) == "slow"


# ---------------------------------------------------------------------------------------------- OAuth


def form_post(url, data):
    return requests.post(url, data=data, headers={"Accept": "application/json"}, timeout=5)


def start_device(server, verifier=None):
    verifier = verifier or secrets.token_urlsafe(32)
    resp = form_post(
        server.device_url,
        {
            "client_id": CLIENT_ID,
            "scope": SCOPE,
            "code_challenge": pkce_challenge(verifier),
            "code_challenge_method": "S256",
        },
    )
    assert resp.status_code == 200, resp.text
    return resp.json(), verifier


def poll(server, device, verifier):
    return form_post(
        server.token_url,
        {
            "grant_type": DEVICE_GRANT,
            "client_id": CLIENT_ID,
            "device_code": device["device_code"],
            "code_verifier": verifier,
        },
    )


def refresh(server, token):
    return form_post(server.token_url, {"grant_type": "refresh_token", "refresh_token": token, "client_id": CLIENT_ID})


def test_device_flow_pending_then_approved(oauth_server, openai_server):
    device, verifier = start_device(oauth_server)
    code = device["user_code"]
    assert len(code) == 9 and code[4] == "-"
    assert device["verification_uri"] == oauth_server.base_url + "/authorize"
    assert device["verification_uri_complete"] == f"{oauth_server.base_url}/authorize?user_code={code}&client=qwen-code"
    assert device["expires_in"] == 300 and device["interval"] == 0

    resp = poll(oauth_server, device, verifier)
    assert (resp.status_code, resp.json()["error"]) == (400, "authorization_pending")
    oauth_server.approve()
    resp = poll(oauth_server, device, verifier)
    assert resp.status_code == 200
    tokens = resp.json()
    assert tokens["token_type"] == "Bearer" and tokens["expires_in"] == 3600 and tokens["scope"] == SCOPE
    assert tokens["resource_url"] == openai_server.url
    assert tokens["access_token"] in openai_server.accept_tokens
    api = chat(openai_server, headers={"Authorization": "Bearer " + tokens["access_token"]})
    assert api.status_code == 200

    resp = poll(oauth_server, device, verifier)  # a device code is exchanged once
    assert (resp.status_code, resp.json()["error"]) == (400, "invalid_grant")
    assert (oauth_server.device_requests, oauth_server.poll_requests, oauth_server.token_requests) == (1, 3, 3)
    assert oauth_server.requests[0].form["code_challenge_method"] == "S256"


def test_pkce_wrong_verifier_and_bad_client(oauth_server):
    device, _ = start_device(oauth_server)
    oauth_server.approve(device["user_code"])
    resp = poll(oauth_server, device, secrets.token_urlsafe(32))
    assert resp.status_code == 400
    assert resp.json() == {"error": "invalid_grant", "error_description": "PKCE verification failed"}
    resp = form_post(
        oauth_server.device_url, {"client_id": "wrong", "code_challenge": "x", "code_challenge_method": "S256"}
    )
    assert (resp.status_code, resp.json()["error"]) == (400, "invalid_client")
    resp = form_post(oauth_server.token_url, {"grant_type": DEVICE_GRANT, "client_id": "wrong"})
    assert resp.json()["error"] == "invalid_client"
    resp = requests.post(oauth_server.device_url, json={"client_id": CLIENT_ID}, timeout=5)
    assert (resp.status_code, resp.json()["error"]) == (400, "invalid_request")


def test_scripted_polls_deny_and_expiry(oauth_server):
    oauth_server.interval = None
    device, verifier = start_device(oauth_server)
    assert "interval" not in device
    oauth_server.script_poll("slow_down", 504, 500, "authorization_pending")
    resp = poll(oauth_server, device, verifier)
    assert (resp.status_code, resp.json()["error"]) == (429, "slow_down")
    resp = poll(oauth_server, device, verifier)
    assert resp.status_code == 504 and resp.headers["Content-Type"] == "text/html"
    assert poll(oauth_server, device, verifier).status_code == 500
    oauth_server.approve()  # the scripted item still wins over the approval
    assert poll(oauth_server, device, verifier).json()["error"] == "authorization_pending"
    oauth_server.deny()
    assert poll(oauth_server, device, verifier).json()["error"] == "access_denied"

    device, verifier = start_device(oauth_server)
    oauth_server.expire(device["user_code"])
    assert poll(oauth_server, device, verifier).json()["error"] == "expired_token"

    oauth_server.device_expires_in = 0
    device, verifier = start_device(oauth_server)
    assert poll(oauth_server, device, verifier).json()["error"] == "expired_token"


def test_auto_approve_after(oauth_server):
    oauth_server.auto_approve_after = 2
    device, verifier = start_device(oauth_server)
    assert poll(oauth_server, device, verifier).json()["error"] == "authorization_pending"
    assert poll(oauth_server, device, verifier).json()["error"] == "authorization_pending"
    assert poll(oauth_server, device, verifier).status_code == 200


def test_refresh_rotation_and_reuse(oauth_server, openai_server):
    seeded = oauth_server.issue_tokens()
    assert seeded["access_token"] in openai_server.accept_tokens
    resp = refresh(oauth_server, seeded["refresh_token"])
    assert resp.status_code == 200
    new = resp.json()
    assert new["refresh_token"] != seeded["refresh_token"] and new["access_token"] != seeded["access_token"]
    assert new["access_token"] in openai_server.accept_tokens
    resp = refresh(oauth_server, seeded["refresh_token"])
    assert resp.status_code == 400
    assert resp.json() == {"error": "invalid_grant", "error_description": "Refresh token expired or invalid"}

    oauth_server.rotate_refresh = False
    for _ in range(2):
        resp = refresh(oauth_server, new["refresh_token"])
        assert resp.status_code == 200 and "refresh_token" not in resp.json()
    assert oauth_server.refresh_requests == 4 and oauth_server.token_requests == 4
    oauth_server.revoke_refresh_tokens()
    assert refresh(oauth_server, new["refresh_token"]).status_code == 400


def test_concurrent_refresh_has_one_winner(oauth_server):
    seeded = oauth_server.issue_tokens(refresh_token="rt-1", access_token="at-1")
    assert seeded["refresh_token"] == "rt-1"
    oauth_server.token_delay = 0.2
    statuses = []
    threads = [
        threading.Thread(target=lambda: statuses.append(refresh(oauth_server, "rt-1").status_code)) for _ in range(2)
    ]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(5)
    assert sorted(statuses) == [200, 400]
    assert 0.2 <= time.monotonic() - started < 1.0


def test_servers_bind_loopback_on_free_ports(oauth_server, openai_server):
    assert oauth_server.base_url.startswith("http://127.0.0.1:")
    assert oauth_server.port != openai_server.port
    with socket.create_connection(("127.0.0.1", oauth_server.port), timeout=1):
        pass
    assert requests.get(oauth_server.base_url + "/authorize", timeout=5).status_code == 200
