"""The adapter speaking Anthropic's Messages API to a real loopback server: the same events, retries and error
model as the OpenAI protocol (tests/servers/anthropic_stub.py is written from Anthropic's public docs)."""

from __future__ import annotations

import pytest

from qwen_cli import __version__
from qwen_cli.auth.credentials import Credentials
from qwen_cli.errors import AuthError, NetworkError, RateLimitError, RequestError, ServerError, UsageError
from qwen_cli.providers import http, openai_compat
from qwen_cli.providers.events import ChatRequest, Finish, NetworkOptions, ReasoningDelta, TextDelta, Usage
from qwen_cli.providers.protocols import anthropic
from tests.servers.anthropic_stub import KEY, anthropic_error, message_reply, message_stream

HELLO = [{"role": "user", "content": "hi"}]


@pytest.fixture(autouse=True)
def fast_backoff(monkeypatch):
    monkeypatch.setattr(http, "BACKOFF_BASE", 0.01)


def creds(server, **kw) -> Credentials:
    values = {
        "method": "api-key",
        "provider": "anthropic",
        "base_url": server.url,
        "model": "claude-test",
        "token": KEY,
        "protocol": "anthropic",
        "max_tokens": 8192,
    }
    values.update(kw)
    return Credentials(**values)


def run(server, request=None, network=None, **kw):
    request = request or ChatRequest(HELLO)
    return list(openai_compat.stream(creds(server, **kw), request, network or NetworkOptions(max_retries=2)))


def texts(events, kind=TextDelta):
    return "".join(e.text for e in events if isinstance(e, kind))


def test_a_stream_gives_text_thinking_usage_and_a_finish(anthropic_server):
    anthropic_server.script(message_stream(["Hel", "lo"], thinking=["let me ", "think"], usage=(11, 2)))
    events = run(anthropic_server)
    assert texts(events) == "Hello"
    assert texts(events, ReasoningDelta) == "let me think"
    assert [e for e in events if isinstance(e, Usage)] == [Usage(11, 2, 13)]
    assert events[-1] == Finish("stop", "claude-test")  # end_turn, in the one vocabulary every renderer knows


def test_the_request_is_a_messages_request(anthropic_server):
    system = [{"role": "system", "content": "be brief"}, *HELLO]
    request = ChatRequest(system, temperature=0.2, top_p=0.9, stop=["END"])
    run(anthropic_server, request)
    (req,) = anthropic_server.chat_requests
    assert req.path == "/v1/messages"
    assert req.headers["anthropic-version"] == "2023-06-01"
    assert req.headers["user-agent"].startswith(f"qwen-cli/{__version__} ")
    assert req.bearer == KEY and "x-api-key" not in req.headers  # a host other than Anthropic's: a bearer token
    assert "x-app" not in req.headers and "claude-cli" not in req.headers["user-agent"]  # never impersonate
    assert req.json == {
        "model": "claude-test",
        "max_tokens": 8192,  # the catalogue's, as none was asked for
        "messages": HELLO,
        "system": "be brief",
        "temperature": 0.2,
        "top_p": 0.9,
        "stop_sequences": ["END"],
        "stream": True,
    }


def test_max_tokens_asked_for_wins_and_a_fallback_exists(anthropic_server):
    run(anthropic_server, ChatRequest(HELLO, max_tokens=50))
    run(anthropic_server, max_tokens=None)
    assert [r.json["max_tokens"] for r in anthropic_server.chat_requests] == [50, anthropic.FALLBACK_MAX_TOKENS]


def test_anthropics_own_host_gets_x_api_key_and_no_bearer():
    own = Credentials("api-key", "anthropic", "https://api.anthropic.com", "m", token="sk-ant-x", protocol="anthropic")
    assert anthropic.protocol_headers(own) == {"anthropic-version": "2023-06-01", "x-api-key": "sk-ant-x"}
    headers = http.build_headers(own, NetworkOptions(), auth=anthropic.protocol_headers(own))
    assert "Authorization" not in headers and headers["User-Agent"].startswith("qwen-cli/")
    assert anthropic.chat_url(own) == "https://api.anthropic.com/v1/messages"
    old_login = Credentials("api-key", "anthropic", "https://api.anthropic.com/v1", "m", protocol="anthropic")
    assert anthropic.chat_url(old_login) == "https://api.anthropic.com/v1/messages"


def test_seed_is_refused_before_anything_is_sent(anthropic_server):
    with pytest.raises(UsageError, match="no seed"):
        run(anthropic_server, ChatRequest(HELLO, seed=1))
    assert anthropic_server.requests == []


def test_a_whole_message_without_streaming(anthropic_server):
    anthropic_server.script(message_reply("Whole answer", thinking="hmm", usage=(4, 2), stop_reason="max_tokens"))
    events = run(anthropic_server, ChatRequest(HELLO, stream=False))
    assert texts(events) == "Whole answer" and texts(events, ReasoningDelta) == "hmm"
    assert Usage(4, 2, 6) in events and events[-1] == Finish("length", "claude-test")
    assert anthropic_server.chat_requests[0].json["stream"] is False


@pytest.mark.parametrize(
    ("status", "kind", "error", "exit_code"),
    [
        (401, "authentication_error", AuthError, 3),
        (403, "permission_error", AuthError, 3),
        (404, "not_found_error", RequestError, 4),
        (400, "invalid_request_error", RequestError, 4),
        (429, "rate_limit_error", RateLimitError, 7),
        (500, "api_error", ServerError, 5),
    ],
)
def test_http_errors_map_to_the_exit_codes(anthropic_server, status, kind, error, exit_code):
    anthropic_server.script(anthropic_error(status, kind, f"the {kind} text", headers={"Retry-After": "0"}, times=5))
    with pytest.raises(error) as caught:
        run(anthropic_server)
    assert caught.value.exit_code == exit_code and f"the {kind} text" in caught.value.message


def test_overloaded_529_is_retried_then_a_server_error(anthropic_server):
    anthropic_server.script(
        anthropic_error(529, "overloaded_error", "Overloaded", headers={"Retry-After": "0"}, times=3)
    )
    with pytest.raises(ServerError, match="529 after 3 attempts: Overloaded"):
        run(anthropic_server)
    assert len(anthropic_server.chat_requests) == 3


def test_overloaded_once_then_the_answer(anthropic_server):
    anthropic_server.script(anthropic_error(529, "overloaded_error", "Overloaded", headers={"Retry-After": "0"}))
    assert texts(run(anthropic_server)) == "Hello from claude"


@pytest.mark.parametrize(
    ("kind", "error", "exit_code"),
    [
        ("overloaded_error", ServerError, 5),
        ("authentication_error", AuthError, 3),
        ("rate_limit_error", RateLimitError, 7),
        ("invalid_request_error", RequestError, 4),
    ],
)
def test_an_error_event_mid_stream_maps_likewise(anthropic_server, kind, error, exit_code):
    anthropic_server.script(message_stream(["a", "b"], error_after=1, error_type=kind, error_message="went wrong"))
    seen = []
    with pytest.raises(error) as caught:
        for event in openai_compat.stream(creds(anthropic_server), ChatRequest(HELLO), NetworkOptions()):
            seen.append(event)
    assert texts(seen) == "a" and caught.value.exit_code == exit_code and "went wrong" in caught.value.message


def test_a_cut_stream_is_a_network_error_that_keeps_the_text(anthropic_server):
    anthropic_server.script(message_stream(["kept", " lost"], truncate_after=1))
    with pytest.raises(NetworkError, match="cut off"):
        run(anthropic_server)


def test_a_stream_without_its_end_is_cut_off(anthropic_server):
    anthropic_server.script(message_stream(["a"], stop=False))
    with pytest.raises(NetworkError, match="message_stop"):
        run(anthropic_server)


def test_models_are_listed_from_v1_models(anthropic_server):
    assert openai_compat.list_models(creds(anthropic_server), NetworkOptions()) == ["claude-other", "claude-test"]
    (req,) = anthropic_server.requests
    assert req.path == "/v1/models" and req.headers["anthropic-version"] == "2023-06-01"


def test_an_unknown_model_names_the_ones_offered(anthropic_server):
    anthropic_server.script(anthropic_error(404, "not_found_error", "model: claude-nope"))
    with pytest.raises(RequestError) as caught:
        run(anthropic_server, model="claude-nope")
    assert "claude-nope" in caught.value.message and "claude-test" in (caught.value.hint or "")
