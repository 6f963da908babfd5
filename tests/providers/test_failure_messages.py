"""How an HTTP failure becomes one error line (providers/failures.py's public functions, in-process and fast):
which class and exit code, what the message says, which hint. The end-to-end versions, with a real server,
are in tests/providers/test_openai_compat.py and tests/cli/test_ask.py."""

from __future__ import annotations

import socket
import ssl
from types import SimpleNamespace

import pytest
import requests

from qwen_cli.errors import AuthError, ConfigError, NetworkError, QuotaError, RateLimitError, RequestError, ServerError
from qwen_cli.providers import failures

URL = "https://api.example.test/v1/chat/completions"
KEY = SimpleNamespace(method="api-key", base_url="https://api.example.test/v1", source="OPENAI_API_KEY")
NET = SimpleNamespace(proxy=None, connect_timeout=7.0, read_timeout=9.5, headers_timeout=11.0)


def reply(status, body=b"", reason=None, attempts=None):
    response = SimpleNamespace(status_code=status, content=body, reason=reason)
    if attempts is not None:
        response.attempts = attempts
    return response


@pytest.mark.parametrize(
    "body, expected",
    [
        (b'{"error": {"message": "bad key"}}', "bad key"),
        (b'{"error": {"msg": "from msg"}}', "from msg"),
        (b'{"error": {"detail": "from detail"}}', "from detail"),
        (b'{"error": {"error_description": "from oauth"}}', "from oauth"),
        (b'{"error": {"message": "", "error": {"message": "nested"}}}', "nested"),
        (b'{"error": {"message": [{"message": "in a list"}]}}', "in a list"),
        (b'{"error": {"message": {}, "code": "the_code"}}', "the_code"),
        (b'{"error": {"message": [5], "code": "the_code"}}', "the_code"),
        (b'{"error": null, "detail": "beside a null error"}', "beside a null error"),
        (b'{"error": 5, "message": "beside a number"}', "beside a number"),
        (b'{"error": "a plain string"}', "a plain string"),
        (b'[{"error": {"message": "first of a list"}}, {"error": {"message": "second"}}]', "first of a list"),
        (b'{"detail": "top-level detail"}', "top-level detail"),
        (b'{"message": "top-level message"}', "top-level message"),
        (b'"just a JSON string"', "just a JSON string"),
        (b'{"error": {"code": 5}}', '{"error": {"code": 5}}'),
        (b"<html><head><title>502  Bad\nGateway</title></head><body>x</body></html>", "502 Bad Gateway"),
        (b"<html><title> </title><body><p></p><p>Service down</p></body></html>", "Service down"),
        (b"\n\n  upstream connect error  \nsecond line", "upstream connect error"),
        (b"a > b, not markup", "a > b, not markup"),
        ("a str body", "a str body"),
    ],
)
def test_the_servers_own_words_are_found(body, expected):
    assert failures.message_from_body(body) == expected


def test_an_empty_body_is_described_by_its_status_or_as_empty():
    assert failures.message_from_body(b"", 503, "Service Unavailable") == "503 Service Unavailable"
    assert failures.message_from_body(b"", 503, "") == "503"
    assert failures.message_from_body(b"   \n") == "empty response"
    assert failures.message_from_body(None) == "empty response"
    assert failures.message_from_body(b"[]") == "[]"


def test_a_long_message_is_clipped_to_300_characters_with_an_ellipsis():
    assert failures.message_from_body("x" * 300) == "x" * 300
    clipped = failures.message_from_body("y" * 301)
    assert clipped == "y" * 299 + "…"
    assert failures.message_from_body("a  \t b") == "a b"


def test_hosts_are_shown_without_passwords():
    assert failures.host_of("https://user:pw@proxy.example:8080/x") == "proxy.example:8080"
    assert failures.host_of("not a url") == "not a url"
    assert failures.without_userinfo("http://alice:s3cret@proxy.example:3128") == "http://proxy.example:3128"
    assert failures.without_userinfo("http://proxy.example:3128") == "http://proxy.example:3128"


@pytest.mark.parametrize("status", [401, 403])
def test_rejected_credentials_name_their_source(status):
    error = failures.response_error(reply(status, b'{"error": {"message": "invalid key"}}'), KEY, URL)
    assert isinstance(error, AuthError)
    assert error.message == (
        f"api.example.test rejected the credentials with HTTP {status} (key from OPENAI_API_KEY): invalid key"
    )
    sourceless = failures.response_error(
        reply(status, b"nope"), SimpleNamespace(method="api-key", base_url=URL, source=""), URL
    )
    assert sourceless.message == f"api.example.test rejected the credentials with HTTP {status}: nope"


def test_a_429_without_quota_words_is_a_rate_limit_with_the_attempts():
    error = failures.response_error(reply(429, b"slow down", attempts=4), KEY, URL)
    assert type(error) is RateLimitError
    assert error.message == "rate limited by api.example.test after 4 attempts: slow down"
    assert "network.max_retries" in error.hint
    twice = failures.response_error(reply(429, b"slow down", attempts=2), KEY, URL)
    assert twice.message == "rate limited by api.example.test after 2 attempts: slow down"
    once = failures.response_error(reply(429, b"slow down", attempts=1), KEY, URL)
    assert once.message == "rate limited by api.example.test: slow down"
    unknown = failures.response_error(reply(429, b"slow down"), KEY, URL)
    assert unknown.message == "rate limited by api.example.test: slow down"


@pytest.mark.parametrize(
    "method, message, others",
    [
        (
            "api-key",
            "quota exhausted at api.example.test: You exceeded your current quota",
            ("Qwen OAuth", "Coding Plan"),
        ),
        ("qwen-oauth", "Qwen OAuth quota exhausted: You exceeded your current quota", ("Coding Plan", "API key")),
        ("coding-plan", "Coding Plan quota exhausted: You exceeded your current quota", ("Qwen OAuth", "API key")),
    ],
)
def test_an_exhausted_quota_is_not_worth_waiting_for_and_names_the_other_methods(method, message, others):
    creds = SimpleNamespace(method=method, base_url="https://api.example.test/v1", source="")
    error = failures.response_error(
        reply(429, b'{"error": {"message": "You exceeded your current quota"}}', attempts=3), creds, URL
    )
    assert isinstance(error, QuotaError)
    assert error.message == message
    assert "Waiting a few seconds won't help" in error.hint
    assert all(name in error.hint for name in others)
    assert ("2026-04-15" in error.hint) is (method == "qwen-oauth")


def test_a_quota_word_in_the_error_code_alone_counts():
    body = b'{"error": {"message": "try later", "code": "insufficient_balance"}}'
    assert isinstance(failures.response_error(reply(429, body), KEY, URL), QuotaError)


@pytest.mark.parametrize(
    "text, window",
    [
        ("5 hour quota hit", "5-hour"),
        ("five-hours quota cap", "5-hour"),
        ("your weekly quota", "weekly"),
        ("monthly quota", "monthly"),
        ("quota: 5hrs", "5-hour"),
    ],
)
def test_a_coding_plan_limit_names_its_window(text, window):
    creds = SimpleNamespace(method="coding-plan", base_url="https://plan.example/v1", source="")
    error = failures.response_error(reply(429, text.encode()), creds, URL)
    assert error.message == f"Coding Plan {window} limit reached: {text}"


@pytest.mark.parametrize(
    "status, kind, message_start, hint_start",
    [
        (400, RequestError, "api.example.test rejected the request with HTTP 400: ", "The provider refused"),
        (404, RequestError, "api.example.test rejected the request with HTTP 404: ", "Check the base URL"),
        (413, RequestError, "api.example.test rejected the request with HTTP 413: ", "The input is longer"),
        (499, RequestError, "api.example.test rejected the request with HTTP 499: ", "The provider refused"),
        (500, ServerError, "api.example.test failed with HTTP 500: ", "The provider is having trouble"),
        (599, ServerError, "api.example.test failed with HTTP 599: ", "The provider is having trouble"),
        (302, ServerError, "unexpected HTTP 302 from api.example.test: ", "Check the base URL."),
        (399, ServerError, "unexpected HTTP 399 from api.example.test: ", "Check the base URL."),
    ],
)
def test_each_status_gets_its_class_message_and_hint(status, kind, message_start, hint_start):
    error = failures.response_error(reply(status, b"the reason"), KEY, URL)
    assert type(error) is kind
    assert error.message == message_start + "the reason"
    assert error.hint.startswith(hint_start)


def test_a_5xx_after_retries_says_how_many():
    error = failures.response_error(reply(503, b"down", attempts=4), KEY, URL)
    assert error.message == "api.example.test failed with HTTP 503 after 4 attempts: down"
    assert (
        failures.response_error(reply(503, b"down", attempts=2), KEY, URL).message
        == "api.example.test failed with HTTP 503 after 2 attempts: down"
    )
    assert (
        failures.response_error(reply(503, b"down", attempts=1), KEY, URL).message
        == "api.example.test failed with HTTP 503: down"
    )


@pytest.mark.parametrize(
    "text",
    [
        "This model's maximum context length is 8192 tokens",
        "prompt is too long",
        "Input is too long for the model",
        "please reduce the length of the messages",
    ],
)
def test_a_too_long_input_gets_the_context_hint_whatever_the_status(text):
    error = failures.response_error(reply(400, text.encode()), KEY, URL)
    assert error.hint == failures.TOO_LONG_HINT


def test_a_body_that_cannot_be_read_is_an_empty_one():
    class Broken:
        status_code = 500
        reason = "Internal Server Error"

        @property
        def content(self):
            raise requests.exceptions.ChunkedEncodingError("cut")

    error = failures.response_error(Broken(), KEY, URL)
    assert error.message == "api.example.test failed with HTTP 500: 500 Internal Server Error"
    none_body = failures.response_error(reply(500, None, reason="Oops"), KEY, URL)
    assert none_body.message == "api.example.test failed with HTTP 500: 500 Oops"


@pytest.mark.parametrize(
    "payload, kind, message",
    [
        (
            {"error": {"message": "overloaded", "code": "500"}},
            ServerError,
            "the server reported an error mid-stream: overloaded",
        ),
        (
            {"error": {"message": "nope", "code": 401}},
            AuthError,
            "the server rejected the credentials mid-stream: nope",
        ),
        (
            {"error": {"message": "nope", "status": 403}},
            AuthError,
            "the server rejected the credentials mid-stream: nope",
        ),
        ({"error": {"message": "bad", "code": "400"}}, RequestError, "the server rejected the request mid-stream: bad"),
        (
            {"error": {"message": "bad", "code": " 499 "}},
            RequestError,
            "the server rejected the request mid-stream: bad",
        ),
        ({"error": {"message": "x", "code": 599}}, ServerError, "the server reported an error mid-stream: x"),
        ({"error": {"message": "x", "code": 600}}, ServerError, "the server reported an error mid-stream: x"),
        ({"error": {"message": "x", "code": 399}}, ServerError, "the server reported an error mid-stream: x"),
        (
            {"error": {"message": "x", "code": True, "status": 400}},
            RequestError,
            "the server rejected the request mid-stream: x",
        ),
        ({"error": {"message": "x", "code": "4x"}}, ServerError, "the server reported an error mid-stream: x"),
        ({"error": "plain"}, ServerError, "the server reported an error mid-stream: plain"),
        (
            {"error": {}},
            ServerError,
            "the server reported an error mid-stream: the server reported an error mid-stream",
        ),
        ({"error": {"message": "slow", "code": 429}}, RateLimitError, "rate limited by api.example.test: slow"),
        (
            {"error": {"message": "Rate limit reached"}},
            RateLimitError,
            "rate limited by api.example.test: Rate limit reached",
        ),
        (
            {"error": {"message": "x", "type": "too many requests"}},
            RateLimitError,
            "rate limited by api.example.test: x",
        ),
        (
            {"error": {"message": "free tier quota used up"}},
            QuotaError,
            "quota exhausted at api.example.test: free tier quota used up",
        ),
    ],
)
def test_an_error_inside_a_200_stream_is_classified_by_its_code_and_words(payload, kind, message):
    error = failures.stream_error(payload, KEY)
    assert type(error) is kind
    assert error.message == message


def test_a_mid_stream_request_error_keeps_the_specific_hint():
    error = failures.stream_error({"error": {"message": "context length exceeded", "code": 400}}, KEY)
    assert error.hint == failures.TOO_LONG_HINT


@pytest.mark.parametrize(
    "status, body, missing",
    [
        (404, b"", True),
        (400, b'{"error": {"message": "Invalid model name passed in model=x"}}', True),
        (422, b'{"error": {"message": "x", "code": "model_not_found"}}', True),
        (400, b'{"error": {"message": "The model `x` does not exist"}}', True),
        (400, b'{"error": {"message": "bad temperature"}}', False),
        (500, b'{"error": {"message": "unknown model"}}', False),
        (401, b'{"error": {"message": "unknown model"}}', False),
    ],
)
def test_a_missing_model_is_recognised(status, body, missing):
    assert failures.is_missing_model(status, body) is missing


def _chain(outer: BaseException, inner: BaseException) -> BaseException:
    outer.__cause__ = inner
    return outer


def test_a_certificate_failure_says_tls_verification_failed_with_the_reason():
    inner = ssl.SSLCertVerificationError(1, "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed")
    inner.verify_message = "self-signed certificate"
    error = failures.exception_error(_chain(requests.exceptions.SSLError("wrapped"), inner), URL, NET)
    assert type(error) is NetworkError
    assert error.message == "TLS verification failed for api.example.test: self-signed certificate"
    assert error.hint == failures.TLS_HINT
    text_only = failures.exception_error(requests.exceptions.SSLError("x CERTIFICATE_VERIFY_FAILED y"), URL, NET)
    assert text_only.message.startswith("TLS verification failed for api.example.test: ")


def test_a_handshake_failure_suggests_checking_the_scheme():
    exc = requests.exceptions.SSLError("[SSL: WRONG_VERSION_NUMBER] wrong version number (_ssl.c:1000)")
    error = failures.exception_error(exc, URL, NET)
    assert error.message == "the TLS handshake with api.example.test failed: wrong version number"
    assert "scheme and port" in error.hint


def test_a_proxy_failure_names_the_proxy_without_its_password_and_the_reason():
    net = SimpleNamespace(proxy="http://alice:s3cret@proxy.example:3128", connect_timeout=7.0, read_timeout=9.5)
    refused = _chain(requests.exceptions.ProxyError("proxy"), ConnectionRefusedError(111, "Connection refused"))
    error = failures.exception_error(refused, URL, net, attempts=3)
    assert (
        error.message == "cannot connect through the proxy (http://proxy.example:3128) after 3 attempts: "
        "connection refused"
    )
    assert error.hint == failures.PROXY_HINT
    dns = _chain(requests.exceptions.ProxyError("proxy"), socket.gaierror(-2, "Name or service not known"))
    assert (
        failures.exception_error(dns, URL, NET).message
        == "cannot connect through the proxy (set in HTTPS_PROXY/HTTP_PROXY): its name does not resolve"
    )
    slow = _chain(requests.exceptions.ProxyError("proxy"), requests.exceptions.ConnectTimeout("slow"))
    assert failures.exception_error(slow, URL, NET).message.endswith(": timed out")
    tunnel = requests.exceptions.ProxyError("Tunnel connection failed: 407 Proxy Authentication Required")
    assert failures.exception_error(tunnel, URL, NET).message.endswith(
        ": the proxy refused the tunnel with HTTP 407 Proxy Authentication Required"
    )
    other = requests.exceptions.ProxyError("something odd")
    assert failures.exception_error(other, URL, NET).message.endswith(": something odd")


def test_timeouts_name_the_setting_to_raise():
    error = failures.exception_error(requests.exceptions.ConnectTimeout("x"), URL, NET, attempts=2)
    assert error.message == "timed out connecting to api.example.test after 2 attempts (network.connect_timeout = 7s)"
    read = failures.exception_error(requests.exceptions.ReadTimeout("x"), URL, NET)
    assert isinstance(read, failures.StreamTimeout)
    assert read.message == "api.example.test sent nothing for 9.5s (network.read_timeout)"
    headers = failures.headers_timeout_error(URL, NET)
    assert (
        headers.message == "api.example.test did not finish sending response headers within 11s "
        "(network.headers_timeout)"
    )


def test_dns_refused_early_close_and_bad_urls():
    dns = failures.exception_error(
        _chain(requests.exceptions.ConnectionError("x"), socket.gaierror(-3, "Temporary failure in name resolution")),
        URL,
        NET,
    )
    assert dns.message == "cannot resolve api.example.test (DNS lookup failed)"
    assert failures.is_permanent(socket.gaierror(-2, "x"))
    assert not failures.is_permanent(ConnectionRefusedError(111, "Connection refused"))
    refused = failures.exception_error(ConnectionRefusedError(111, "Connection refused"), URL, NET, attempts=2)
    assert refused.message == "connection refused by api.example.test after 2 attempts"
    early = failures.exception_error(requests.exceptions.ChunkedEncodingError("Response ended prematurely"), URL, NET)
    assert early.message == "api.example.test closed the connection early"
    bad = failures.exception_error(requests.exceptions.InvalidURL("bad"), "htp:/x", NET)
    assert type(bad) is ConfigError
    assert bad.message == "invalid URL 'htp:/x'"


def test_anything_else_is_one_line_without_object_addresses():
    exc = requests.exceptions.ConnectionError(
        "HTTPSConnectionPool(host='api.example.test', port=443): Max retries exceeded "
        "(Caused by <urllib3.connection.HTTPSConnection object at 0x7f00deadbeef>: reset)"
    )
    error = failures.exception_error(exc, URL, NET, attempts=2)
    assert (
        error.message == "connection to api.example.test failed after 2 attempts: Max retries exceeded "
        "(Caused by reset)"
    )
    assert failures.exception_error(OSError(), URL, NET).message == "connection to api.example.test failed: OSError"


def test_a_cycle_of_causes_is_walked_once():
    a, b = requests.exceptions.ConnectionError("a"), requests.exceptions.ConnectionError("b")
    a.__context__, b.__context__ = b, a
    assert failures.exception_error(a, URL, NET).message == "connection to api.example.test failed: a"
    itself = _chain(requests.exceptions.ConnectionError("outer"), ConnectionRefusedError(111, "x"))
    itself.__context__ = itself  # an exception already seen, met before the cause still to look at
    assert failures.exception_error(itself, URL, NET).message == "connection refused by api.example.test"
    deep = _chain(
        requests.exceptions.ConnectionError("outer"), _chain(ValueError("middle"), ConnectionRefusedError(111, "x"))
    )
    assert failures.exception_error(deep, URL, NET).message == "connection refused by api.example.test"


def test_the_certificate_reason_is_found_under_urllib3s_wrapping():
    """As requests raises it: SSLError(MaxRetryError(reason=SSLError(SSLCertVerificationError)))."""
    from urllib3.exceptions import MaxRetryError

    cert = ssl.SSLCertVerificationError(1, "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed")
    cert.verify_message = "unable to get local issuer certificate"
    retry = MaxRetryError(None, URL, reason=_chain(ssl.SSLError("wrapped"), cert))
    error = failures.exception_error(requests.exceptions.SSLError(retry), URL, NET)
    assert error.message == "TLS verification failed for api.example.test: unable to get local issuer certificate"
