"""The adapter speaking the Gemini API to a real loopback server: streamGenerateContent over SSE, usage,
finish reasons, safety blocks and Google's error statuses (tests/servers/gemini_stub.py is written from
Google's public Gemini API reference)."""

from __future__ import annotations

import pytest

from qwen_cli.auth.credentials import Credentials
from qwen_cli.errors import AuthError, NetworkError, RateLimitError, RequestError, ServerError
from qwen_cli.providers import http, openai_compat
from qwen_cli.providers.events import ChatRequest, Finish, NetworkOptions, ReasoningDelta, TextDelta, Usage
from tests.servers.gemini_stub import KEY, gemini_error, gemini_stream, generate_reply

HELLO = [{"role": "user", "content": "hi"}]


@pytest.fixture(autouse=True)
def fast_backoff(monkeypatch):
    monkeypatch.setattr(http, "BACKOFF_BASE", 0.01)


def creds(server, **kw) -> Credentials:
    values = {
        "method": "api-key",
        "provider": "gemini",
        "base_url": server.url,
        "model": "gemini-test",
        "token": KEY,
        "protocol": "gemini",
    }
    values.update(kw)
    return Credentials(**values)


def run(server, request=None, network=None, **kw):
    request = request or ChatRequest(HELLO)
    return list(openai_compat.stream(creds(server, **kw), request, network or NetworkOptions(max_retries=2)))


def texts(events, kind=TextDelta):
    return "".join(e.text for e in events if isinstance(e, kind))


def test_a_stream_gives_text_thoughts_usage_and_a_finish(gemini_server):
    gemini_server.script(gemini_stream(["Hel", "lo"], thoughts=["hmm"], prompt_tokens=9))
    events = run(gemini_server)
    assert texts(events) == "Hello" and texts(events, ReasoningDelta) == "hmm"
    assert [e for e in events if isinstance(e, Usage)] == [Usage(9, 3, 12)]  # thoughts count as output
    assert events[-1] == Finish("stop", "gemini-test")


def test_the_request_is_a_gemini_request(gemini_server):
    messages = [
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": "hello"},
        {"role": "user", "content": "again"},
    ]
    request = ChatRequest(messages, temperature=0.5, top_p=0.8, max_tokens=64, seed=7, stop=["END"])
    run(gemini_server, request)
    (req,) = gemini_server.chat_requests
    assert req.path == "/v1beta/models/gemini-test:streamGenerateContent?alt=sse"
    assert req.headers["x-goog-api-key"] == KEY and req.bearer is None
    assert "key=" not in req.path  # the key never rides in the URL, where logs and proxies would keep it
    assert req.headers["user-agent"].startswith("qwen-cli/")
    assert not any(name.startswith("x-gemini-") for name in req.headers)  # no installation id, unlike Qwen Code
    assert req.json == {
        "contents": [
            {"role": "user", "parts": [{"text": "hi"}]},
            {"role": "model", "parts": [{"text": "hello"}]},
            {"role": "user", "parts": [{"text": "again"}]},
        ],
        "systemInstruction": {"parts": [{"text": "be brief"}]},
        "generationConfig": {
            "temperature": 0.5,
            "topP": 0.8,
            "maxOutputTokens": 64,
            "seed": 7,
            "stopSequences": ["END"],
        },
    }


def test_without_streaming_it_is_generate_content(gemini_server):
    gemini_server.script(generate_reply("Whole", finish="MAX_TOKENS"))
    events = run(gemini_server, ChatRequest(HELLO, stream=False))
    assert texts(events) == "Whole" and events[-1] == Finish("length", "gemini-test")
    assert gemini_server.chat_requests[0].path == "/v1beta/models/gemini-test:generateContent"


def test_a_prompt_blocked_by_safety_is_a_request_error_with_the_reason(gemini_server):
    gemini_server.script(gemini_stream([], block_reason="SAFETY"))
    with pytest.raises(RequestError, match="blocked for SAFETY") as caught:
        run(gemini_server)
    assert caught.value.exit_code == 4


def test_an_answer_stopped_by_safety_finishes_as_content_filter(gemini_server):
    gemini_server.script(gemini_stream(["partial"], finish="SAFETY"))
    events = run(gemini_server)
    assert texts(events) == "partial" and events[-1].reason == "content_filter"


def test_a_wrong_key_is_an_auth_error_though_google_says_400(gemini_server):
    with pytest.raises(AuthError, match="HTTP 400.*API key not valid") as caught:
        run(gemini_server, token="gm-wrong")
    assert caught.value.exit_code == 3


@pytest.mark.parametrize(
    ("code", "status", "error", "exit_code"),
    [
        (401, "UNAUTHENTICATED", AuthError, 3),
        (403, "PERMISSION_DENIED", AuthError, 3),
        (404, "NOT_FOUND", RequestError, 4),
        (400, "INVALID_ARGUMENT", RequestError, 4),
        (429, "RESOURCE_EXHAUSTED", RateLimitError, 7),
        (500, "INTERNAL", ServerError, 5),
    ],
)
def test_error_statuses_map_to_the_exit_codes(gemini_server, code, status, error, exit_code):
    gemini_server.script(gemini_error(code, status, f"{status} text", headers={"Retry-After": "0"}, times=5))
    with pytest.raises(error) as caught:
        run(gemini_server)
    assert caught.value.exit_code == exit_code and f"{status} text" in caught.value.message


def test_an_error_mid_stream_maps_by_its_status(gemini_server):
    quota = {"error": {"code": 429, "message": "Resource has been exhausted", "status": "RESOURCE_EXHAUSTED"}}
    gemini_server.script(gemini_stream(["a", "b"], error_after=1, error=quota))
    with pytest.raises(RateLimitError, match="exhausted"):
        run(gemini_server)
    gemini_server.script(gemini_stream(["a", "b"], error_after=1))
    with pytest.raises(ServerError, match="overloaded"):
        run(gemini_server)


def test_a_cut_stream_is_cut_off(gemini_server):
    gemini_server.script(gemini_stream(["kept", " lost"], truncate_after=1))
    with pytest.raises(NetworkError, match="cut off"):
        run(gemini_server)


def test_a_stream_that_ends_without_a_finish_reason_is_cut_off(gemini_server):
    gemini_server.script(gemini_stream(["a"], finish=None))
    with pytest.raises(NetworkError, match="finishReason"):
        run(gemini_server)


def test_models_are_listed_without_their_prefix(gemini_server):
    assert openai_compat.list_models(creds(gemini_server), NetworkOptions()) == ["gemini-other", "gemini-test"]
    assert gemini_server.requests[0].path.startswith("/v1beta/models?")


def test_an_unknown_model_names_the_ones_offered(gemini_server):
    with pytest.raises(RequestError) as caught:
        run(gemini_server, model="gemini-nope")
    assert "gemini-nope" in caught.value.message and "gemini-test" in (caught.value.hint or "")
