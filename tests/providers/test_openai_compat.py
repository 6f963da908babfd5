"""The adapter against a real loopback server: events, retries, refresh, headers and error mapping."""

from __future__ import annotations

import json
import time

import pytest

from qwen_cli import __version__
from qwen_cli.auth.credentials import Credentials
from qwen_cli.auth.methods import dashscope_headers
from qwen_cli.errors import (
    AuthError,
    ConfigError,
    NetworkError,
    QuotaError,
    QwenError,
    RateLimitError,
    RequestError,
    ServerError,
)
from qwen_cli.providers import http, openai_compat
from qwen_cli.providers.events import ChatRequest, Finish, NetworkOptions, ReasoningDelta, TextDelta, Usage
from tests.servers.openai_stub import call, error, hang, json_reply, raw, stream_reply

HELLO = [{"role": "user", "content": "hi"}]


@pytest.fixture(autouse=True)
def fast_backoff(monkeypatch):
    monkeypatch.setattr(http, "BACKOFF_BASE", 0.01)


def creds(server, **kw) -> Credentials:
    values = {
        "method": "api-key",
        "provider": "custom",
        "base_url": server.url,
        "model": "test-model",
        "token": "sk-test-key",
    }
    values.update(kw)
    return Credentials(**values)


def run(server, request=None, network=None, **kw):
    return list(openai_compat.stream(creds(server, **kw), request or ChatRequest(HELLO), network or NetworkOptions()))


def texts(events):
    return "".join(e.text for e in events if isinstance(e, TextDelta))


# -- success paths ---------------------------------------------------------------------------------------


def test_stream_yields_deltas_then_usage_then_finish(openai_server):
    openai_server.script(stream_reply(["Hel", "lo"]))
    events = run(openai_server)
    assert events == [TextDelta("Hel"), TextDelta("lo"), Usage(5, 2, 7), Finish("stop", "test-model")]
    body = openai_server.chat_requests[-1].json
    assert body["stream"] is True and body["stream_options"] == {"include_usage": True}
    assert body["model"] == "test-model" and body["messages"] == HELLO


def test_request_parameters_are_sent(openai_server):
    request = ChatRequest(HELLO, model="other-model", temperature=0.2, top_p=0.9, max_tokens=50, seed=7)
    run(openai_server, request)
    body = openai_server.chat_requests[-1].json
    assert (body["model"], body["temperature"], body["top_p"], body["max_tokens"], body["seed"]) == (
        "other-model",
        0.2,
        0.9,
        50,
        7,
    )


def test_unset_parameters_are_not_sent(openai_server):
    run(openai_server)
    body = openai_server.chat_requests[-1].json
    assert not {"temperature", "top_p", "max_tokens", "seed"} & set(body)


def test_non_streamed_answer_gives_the_same_events(openai_server):
    openai_server.script(json_reply("whole answer", reasoning="because", finish_reason="length"))
    events = run(openai_server, ChatRequest(HELLO, stream=False))
    assert events == [
        ReasoningDelta("because"),
        TextDelta("whole answer"),
        Usage(5, 3, 8),
        Finish("length", "test-model"),
    ]
    assert "stream_options" not in openai_server.chat_requests[-1].json


def test_reasoning_content_is_its_own_event(openai_server):
    openai_server.script(stream_reply(["answer"], reasoning=["think ", "more"]))
    events = run(openai_server)
    assert [e for e in events if isinstance(e, ReasoningDelta)] == [ReasoningDelta("think "), ReasoningDelta("more")]
    assert texts(events) == "answer"


@pytest.mark.parametrize(
    "options",
    [
        {"crlf": True},
        {"keepalive": True, "delay": 0.01},
        {"split_bytes": 3},
        {"split_bytes": 1, "crlf": True},
        {"multi_data_lines": True},
        {"chunked": False},
        {"chunked": False, "split_bytes": 2},
    ],
)
def test_wire_variations_give_the_same_text(openai_server, options):
    tokens = ["Grüße", " 中文", " 😀", " done"]
    openai_server.script(stream_reply(tokens, **options))
    events = run(openai_server)
    assert texts(events) == "".join(tokens)
    assert events[-1] == Finish("stop", "test-model")


def test_usage_chunk_with_empty_choices_is_read(openai_server):
    openai_server.script(stream_reply(["a"], usage=(11, 1, 12)))
    assert Usage(11, 1, 12) in run(openai_server)


def test_finish_reason_without_done_is_a_complete_answer(openai_server):
    openai_server.script(stream_reply(["a", "b"], done=False))
    assert run(openai_server)[-1] == Finish("stop", "test-model")


def test_done_without_finish_reason_is_a_complete_answer(openai_server):
    openai_server.script(stream_reply(["a", "b"], finish_reason=None))
    assert run(openai_server)[-1] == Finish(None, "test-model")


def test_server_answering_json_to_a_stream_request_still_works(openai_server):
    openai_server.script(json_reply("not streamed"))
    assert texts(run(openai_server)) == "not streamed"


def test_events_arrive_as_the_server_sends_them(openai_server):
    openai_server.script(stream_reply(["a", "b", "c"], delay=0.3))
    arrivals = []
    start = time.monotonic()
    for event in openai_compat.stream(creds(openai_server), ChatRequest(HELLO), NetworkOptions()):
        if isinstance(event, TextDelta):
            arrivals.append(time.monotonic() - start)
    assert arrivals[0] < 0.25 and arrivals[1] > 0.25 and arrivals[2] > 0.55


# -- cut and broken streams ------------------------------------------------------------------------------


def test_stream_cut_without_done_or_finish_is_a_network_error(openai_server):
    openai_server.script(stream_reply(["a", "b", "c"], truncate_after=2))
    seen = []
    with pytest.raises(NetworkError, match="cut off"):
        for event in openai_compat.stream(creds(openai_server), ChatRequest(HELLO), NetworkOptions()):
            seen.append(event)
    assert texts(seen) == "ab"


def test_stream_ending_cleanly_but_without_done_or_finish_is_cut(openai_server):
    openai_server.script(stream_reply(["a"], finish_reason=None, done=False, usage=None))
    with pytest.raises(NetworkError, match="without \\[DONE\\] or a finish reason"):
        run(openai_server)


def test_error_object_mid_stream(openai_server):
    openai_server.script(stream_reply(["a", "b"], error_after=1, error_message="overloaded, sorry"))
    with pytest.raises(ServerError, match="overloaded, sorry"):
        run(openai_server)


def test_rate_limit_error_mid_stream_is_exit_7(openai_server):
    payload = json.dumps({"error": {"message": "Too many requests", "code": 429}})
    openai_server.script(raw(200, [f"data: {payload}\n\n"], {"Content-Type": "text/event-stream"}))
    with pytest.raises(RateLimitError):
        run(openai_server)


def test_malformed_event_is_a_server_error_not_a_json_error(openai_server):
    openai_server.script(raw(200, ["data: {not json\n\n"], {"Content-Type": "text/event-stream"}))
    with pytest.raises(ServerError, match="malformed"):
        run(openai_server)


def test_html_instead_of_a_stream(openai_server):
    page = "<!DOCTYPE html>\n<html><head><title>Captive portal</title></head><body>log in</body></html>"
    openai_server.script(raw(200, [page], {"Content-Type": "text/html"}))
    with pytest.raises(ServerError, match="200 with something that is not JSON: Captive portal"):
        run(openai_server)


def test_read_timeout_between_chunks(openai_server):
    openai_server.script(hang(5))
    with pytest.raises(NetworkError, match="network.read_timeout"):
        run(openai_server, network=NetworkOptions(read_timeout=0.3))


def test_read_timeout_before_any_text_does_not_speak_of_text_so_far(openai_server):
    openai_server.script(hang(5))
    with pytest.raises(NetworkError) as info:
        run(openai_server, network=NetworkOptions(read_timeout=0.3))
    assert info.value.message == f"127.0.0.1:{openai_server.port} sent nothing for 0.3s (network.read_timeout)"
    assert "text so far" not in info.value.hint and "raise network.read_timeout" in info.value.hint


def test_stream_ending_inside_a_multi_line_event_is_cut_off_not_malformed(openai_server):
    openai_server.script(
        raw(200, [b'data: {"choices": [{"index": 0,\ndata: "delta": {"con'], {"Content-Type": "text/event-stream"})
    )
    with pytest.raises(NetworkError) as info:
        run(openai_server)
    assert "cut off" in info.value.message and "in the middle of an event" in info.value.message
    assert info.value.hint == "No text had arrived yet; try again."


def test_final_done_without_its_blank_line_ends_the_answer(openai_server):
    openai_server.script(
        raw(
            200,
            [b'data: {"choices":[{"index":0,"delta":{"content":"ok"}}]}\n\ndata: [DONE]\n'],
            {"Content-Type": "text/event-stream"},
        )
    )
    assert texts(run(openai_server)) == "ok"


def test_unterminated_event_after_the_finish_reason_is_harmless(openai_server):
    body = (
        b'data: {"choices":[{"index":0,"delta":{"content":"ok"},"finish_reason":"stop"}]}\n\n'
        b'data: {"usage": {"prompt_to'
    )
    openai_server.script(raw(200, [body], {"Content-Type": "text/event-stream"}))
    assert run(openai_server)[-1] == Finish("stop", "test-model")


def test_an_event_ended_by_a_cr_at_the_end_of_a_chunk_arrives_at_once(openai_server):
    def cr_then_wait(h, rec):
        out = h.begin_body(200, {"Content-Type": "text/event-stream"})
        out.write(b'data: {"choices":[{"index":0,"delta":{"content":"now"}}]}\r\r')
        h.sleep(1.5)
        out.write(b'\ndata: {"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\r\n\r\n')
        out.finish()

    openai_server.script(call(cr_then_wait))
    start = time.monotonic()
    for event in openai_compat.stream(creds(openai_server), ChatRequest(HELLO), NetworkOptions()):
        if isinstance(event, TextDelta):
            assert event.text == "now" and time.monotonic() - start < 1.2
    assert event == Finish("stop", "test-model")


def test_read_timeout_mid_stream_keeps_the_events_seen(openai_server):
    def slow(h, rec):
        out = h.begin_body(200, {"Content-Type": "text/event-stream"})
        out.write(b'data: {"choices":[{"index":0,"delta":{"content":"first"}}]}\n\n')
        h.sleep(3)
        out.abort()

    openai_server.script(call(slow))
    seen = []
    with pytest.raises(NetworkError, match="cut off.*network.read_timeout"):
        for event in openai_compat.stream(creds(openai_server), ChatRequest(HELLO), NetworkOptions(read_timeout=0.4)):
            seen.append(event)
    assert seen == [TextDelta("first")]


# -- retries ---------------------------------------------------------------------------------------------


def test_429_then_success_is_retried_honouring_retry_after(openai_server):
    openai_server.script(error(429, {"error": {"message": "slow down"}}, {"Retry-After": "0.2"}), stream_reply(["ok"]))
    start = time.monotonic()
    assert texts(run(openai_server)) == "ok"
    gap = openai_server.chat_requests[1].time - openai_server.chat_requests[0].time
    assert gap >= 0.19 and time.monotonic() - start < 3


@pytest.mark.parametrize("status", [500, 502, 503, 504, 529])
def test_5xx_is_retried(openai_server, status):
    openai_server.script(error(status, "busy", times=2), stream_reply(["ok"]))
    assert texts(run(openai_server)) == "ok"
    assert len(openai_server.chat_requests) == 3


def test_5xx_after_all_retries_is_a_server_error(openai_server):
    openai_server.script(error(503, {"error": {"message": "try later"}}, times=10))
    with pytest.raises(ServerError, match="HTTP 503 after 3 attempts: try later"):
        run(openai_server, network=NetworkOptions(max_retries=2))
    assert len(openai_server.chat_requests) == 3


def test_max_retries_zero_sends_once(openai_server):
    openai_server.script(error(500, "no", times=5))
    with pytest.raises(ServerError):
        run(openai_server, network=NetworkOptions(max_retries=0))
    assert len(openai_server.chat_requests) == 1


def test_400_is_not_retried(openai_server):
    openai_server.script(error(400, {"error": {"message": "messages must not be empty"}}))
    with pytest.raises(RequestError, match="HTTP 400: messages must not be empty"):
        run(openai_server)
    assert len(openai_server.chat_requests) == 1


def test_retry_after_too_long_is_not_waited_for(openai_server):
    openai_server.script(error(429, {"error": {"message": "come back in an hour"}}, {"Retry-After": "3600"}))
    start = time.monotonic()
    with pytest.raises(RateLimitError, match="come back in an hour"):
        run(openai_server)
    assert time.monotonic() - start < 2 and len(openai_server.chat_requests) == 1


def test_connection_refused_is_retried_then_exit_6():
    import socket

    # Bound but never listening: connections are refused, and no parallel test can take the port meanwhile.
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        c = Credentials("api-key", "custom", f"http://127.0.0.1:{port}/v1", "m", token="sk-test-key")
        with pytest.raises(NetworkError, match=f"connection refused by 127.0.0.1:{port} after 3 attempts"):
            list(openai_compat.stream(c, ChatRequest(HELLO), NetworkOptions(max_retries=2)))


def test_dns_failure_is_not_retried():
    c = Credentials("api-key", "custom", "https://no-such-host.invalid/v1", "m", token="sk-test-key")
    notes = []
    with pytest.raises(NetworkError) as info:
        list(openai_compat.stream(c, ChatRequest(HELLO), NetworkOptions(max_retries=3), notify=notes.append))
    assert notes == [] and "attempts" not in info.value.message


def test_a_proxy_whose_name_does_not_resolve_fails_at_once(openai_server):
    notes = []
    network = NetworkOptions(max_retries=3, proxy="http://no-such-proxy.invalid:3128")
    with pytest.raises(NetworkError) as info:
        list(openai_compat.stream(creds(openai_server), ChatRequest(HELLO), network, notify=notes.append))
    assert notes == [] and "its name does not resolve" in info.value.message
    assert "attempts" not in info.value.message


def test_dns_failure_is_exit_6():
    c = Credentials("api-key", "custom", "https://no-such-host.invalid/v1", "m", token="sk-test-key")
    with pytest.raises(NetworkError, match="cannot resolve no-such-host.invalid"):
        list(openai_compat.stream(c, ChatRequest(HELLO), NetworkOptions(max_retries=0)))


def test_nothing_is_retried_after_the_first_token(openai_server):
    openai_server.script(stream_reply(["a", "b"], truncate_after=1), stream_reply(["never"]))
    with pytest.raises(NetworkError):
        run(openai_server)
    assert len(openai_server.chat_requests) == 1


def test_retry_after_parsing():
    assert http.retry_after("5") == 5
    assert http.retry_after("0.5") == 0.5
    assert http.retry_after(None) is None and http.retry_after("soon") is None
    assert http.retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0) == pytest.approx(10)
    assert http.retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412490.0) == 0


def test_backoff_grows_and_is_capped():
    assert http.backoff(0) <= http.BACKOFF_BASE
    assert http.backoff(30) <= http.BACKOFF_MAX


# -- auth and refresh ------------------------------------------------------------------------------------


def test_401_is_an_auth_error_with_a_hint(openai_server):
    with pytest.raises(AuthError) as info:
        run(openai_server, token="sk-wrong-key", source="env:OPENAI_API_KEY")
    assert "HTTP 401" in info.value.message and "env:OPENAI_API_KEY" in info.value.message
    assert "qwen auth status" in info.value.hint and "qwen auth login" in info.value.hint
    assert "sk-wrong-key" not in info.value.message


def test_401_refreshes_once_and_retries_with_the_new_token(openai_server):
    calls = []

    def refresh():
        calls.append(1)
        return creds(openai_server, token="sk-test-key")

    events = run(openai_server, token="sk-expired", refresh=refresh)
    assert texts(events) == "Hello from stub" and calls == [1]
    assert [r.bearer for r in openai_server.chat_requests] == ["sk-expired", "sk-test-key"]


def test_403_after_refresh_is_not_refreshed_again(openai_server):
    openai_server.script(error(403, {"error": {"message": "forbidden"}}, times=5))
    calls = []

    def refresh():
        calls.append(1)
        return creds(openai_server, token="sk-test-key")

    with pytest.raises(AuthError, match="forbidden"):
        run(openai_server, refresh=refresh)
    assert calls == [1] and len(openai_server.chat_requests) == 2


def test_refresh_returning_none_is_an_auth_error(openai_server):
    with pytest.raises(AuthError, match="could not be refreshed"):
        run(openai_server, token="sk-expired", refresh=lambda: None)


# -- quota -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "message",
    ["You exceeded your current quota, please check your plan", "insufficient_quota", "Free tier quota used up"],
)
def test_quota_429_is_called_a_quota_and_not_retried(openai_server, message):
    openai_server.script(error(429, {"error": {"message": message}}, times=5))
    with pytest.raises(QuotaError) as info:
        run(openai_server)
    assert "quota" in info.value.message and message in info.value.message
    assert "qwen auth switch" in info.value.hint and "Qwen OAuth" in info.value.hint
    assert "Coding Plan" in info.value.hint
    assert len(openai_server.chat_requests) == 1


def test_quota_code_without_the_word_in_the_message(openai_server):
    openai_server.script(error(429, {"error": {"message": "no more", "code": "insufficient_quota"}}))
    with pytest.raises(QuotaError):
        run(openai_server)


@pytest.mark.parametrize(
    "message, window",
    [
        ("Quota exceeded: 5-hour request limit reached", "5-hour"),
        ("quota exceeded for this week", "weekly"),
        ("Monthly quota exhausted", "monthly"),
    ],
)
def test_coding_plan_quota_names_the_plan_limit(openai_server, message, window):
    openai_server.script(error(429, {"error": {"message": message}}))
    with pytest.raises(QuotaError) as info:
        run(openai_server, method="coding-plan", provider="coding-plan")
    assert info.value.message.startswith(f"Coding Plan {window} limit reached")
    assert "Qwen OAuth or API key" in info.value.hint


def test_qwen_oauth_quota_mentions_the_discontinued_free_tier(openai_server):
    openai_server.script(error(429, {"error": {"message": "Free allocated quota exceeded."}}))
    with pytest.raises(QuotaError) as info:
        run(openai_server, method="qwen-oauth", provider="qwen")
    assert info.value.message.startswith("Qwen OAuth quota")
    assert "Coding Plan or API key" in info.value.hint and "2026-04-15" in info.value.hint


def test_plain_429_after_retries_is_a_rate_limit(openai_server):
    openai_server.script(error(429, {"error": {"message": "Rate limit reached"}}, {"Retry-After": "0"}, times=9))
    with pytest.raises(RateLimitError) as info:
        run(openai_server, network=NetworkOptions(max_retries=1))
    assert not isinstance(info.value, QuotaError) and "Rate limit reached" in info.value.message


# -- other errors ----------------------------------------------------------------------------------------


def test_404_on_the_model_lists_the_available_models(openai_server):
    openai_server.script(error(404, {"error": {"message": "The model `gpt-9` does not exist"}}))
    with pytest.raises(RequestError) as info:
        run(openai_server, model="gpt-9")
    assert "'gpt-9' was not found" in info.value.message
    assert "test-model" in info.value.hint and "other-model" in info.value.hint


def test_litellm_400_invalid_model_name_lists_the_available_models(openai_server):
    body = {
        "error": {
            "message": "400: {'error': '/chat/completions: Invalid model name passed in model=gpt-9. "
            "Call `/v1/models` to view available models for your key.'}",
            "type": "None",
            "param": "None",
            "code": "400",
        }
    }
    openai_server.script(error(400, body))
    with pytest.raises(RequestError) as info:
        run(openai_server, model="gpt-9")
    assert "'gpt-9' was not found" in info.value.message
    assert "Available models: other-model, test-model" in info.value.hint


def test_other_400s_do_not_ask_for_the_models(openai_server):
    openai_server.script(error(400, {"error": {"message": "messages must not be empty"}}))
    with pytest.raises(RequestError, match="HTTP 400"):
        run(openai_server, model="gpt-9")
    assert [r.path for r in openai_server.requests] == ["/v1/chat/completions"]


@pytest.mark.parametrize(
    "code, kind", [("401", AuthError), ("400", RequestError), ("500", ServerError), (403, AuthError)]
)
def test_mid_stream_error_codes_may_be_strings(openai_server, code, kind):
    payload = json.dumps({"error": {"message": "something went wrong", "code": code}})
    openai_server.script(raw(200, [f"data: {payload}\n\n"], {"Content-Type": "text/event-stream"}))
    with pytest.raises(QwenError) as info:
        run(openai_server)
    assert type(info.value) is kind


def test_404_when_models_cannot_be_listed_keeps_the_server_message(openai_server):
    openai_server.models_response = error(500, "down")
    openai_server.script(error(404, {"error": {"message": "no such model"}}))
    with pytest.raises(RequestError, match="HTTP 404: no such model"):
        run(openai_server, model="gpt-9")


def test_html_error_page_shows_status_and_first_line(openai_server):
    page = "<html>\n<head><title>502 Bad Gateway</title></head>\n<body><center>nginx</center></body></html>"
    openai_server.script(error(502, page, {"Content-Type": "text/html"}, times=9))
    with pytest.raises(ServerError, match="HTTP 502: 502 Bad Gateway"):
        run(openai_server, network=NetworkOptions(max_retries=0))


def test_plain_text_4xx_body_is_shown(openai_server):
    openai_server.script(error(422, "Unprocessable: bad temperature\nsecond line"))
    with pytest.raises(RequestError, match="HTTP 422: Unprocessable: bad temperature$"):
        run(openai_server)


def test_server_rejecting_stream_options_is_asked_again_without(openai_server):
    openai_server.script(error(400, {"error": {"message": "Unrecognized request argument: stream_options"}}))
    assert texts(run(openai_server)) == "Hello from stub"
    first, second = openai_server.chat_requests
    assert "stream_options" in first.json and "stream_options" not in second.json


def test_non_json_200_for_non_stream_request(openai_server):
    openai_server.script(raw(200, ["definitely not json"], {"Content-Type": "text/plain"}))
    with pytest.raises(ServerError, match="not JSON: definitely not json"):
        run(openai_server, ChatRequest(HELLO, stream=False))


# -- transport and headers -------------------------------------------------------------------------------


def test_key_is_never_sent_over_http_to_a_remote_host():
    c = Credentials("api-key", "custom", "http://api.example.com/v1", "m", token="sk-test-key")
    with pytest.raises(ConfigError) as info:
        list(openai_compat.stream(c, ChatRequest(HELLO), NetworkOptions()))
    assert info.value.exit_code == 8 and "plain http://" in info.value.message
    assert "network.allow_insecure_http" in info.value.hint


def test_allow_insecure_http_lets_the_request_go(monkeypatch):
    c = Credentials("api-key", "custom", "http://api.example.com/v1", "m", token="sk-test-key")
    # the network guard makes the name unresolvable: getting that far proves the request was allowed
    with pytest.raises(NetworkError, match="cannot resolve"):
        list(openai_compat.stream(c, ChatRequest(HELLO), NetworkOptions(allow_insecure_http=True, max_retries=0)))


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "[::1]", "127.5.6.7"])
def test_loopback_http_is_fine(host):
    c = Credentials("api-key", "custom", f"http://{host}:1/v1", "m", token="k")
    http.check_transport(c, NetworkOptions())


def test_user_agent_and_extra_headers(openai_server):
    network = NetworkOptions(extra_headers={"X-Title": "qwen-tests", "HTTP-Referer": "https://example.test"})
    run(openai_server, network=network, headers={"X-From-Auth": "1"})
    headers = openai_server.chat_requests[-1].headers
    assert headers["user-agent"].startswith(f"qwen-cli/{__version__} (")
    assert ") python/" in headers["user-agent"]
    assert headers["x-title"] == "qwen-tests" and headers["http-referer"] == "https://example.test"
    assert headers["x-from-auth"] == "1" and headers["authorization"] == "Bearer sk-test-key"
    assert "x-dashscope-authtype" not in headers


def test_qwen_oauth_requests_carry_the_dashscope_headers(openai_server):
    run(openai_server, method="qwen-oauth", provider="qwen", headers=dashscope_headers("qwen-oauth"))
    headers = openai_server.chat_requests[-1].headers
    assert headers["x-dashscope-authtype"] == "qwen-oauth"
    assert headers["x-dashscope-cachecontrol"] == "enable"
    assert headers["x-dashscope-useragent"] == headers["user-agent"]


def test_coding_plan_requests_carry_the_dashscope_user_agent(openai_server):
    run(openai_server, method="coding-plan", provider="coding-plan", headers=dashscope_headers("coding-plan"))
    headers = openai_server.chat_requests[-1].headers
    assert headers["x-dashscope-useragent"].startswith("qwen-cli/")


def test_list_models(openai_server):
    assert openai_compat.list_models(creds(openai_server), NetworkOptions()) == ["other-model", "test-model"]
    assert openai_server.last.path == "/v1/models"


def test_list_models_auth_failure(openai_server):
    with pytest.raises(AuthError):
        openai_compat.list_models(creds(openai_server, token="sk-nope"), NetworkOptions())


def test_list_models_html_body(openai_server):
    openai_server.models_response = raw(200, ["<html><title>Login</title></html>"], {"Content-Type": "text/html"})
    with pytest.raises(ServerError, match="not JSON: Login"):
        openai_compat.list_models(creds(openai_server), NetworkOptions())
