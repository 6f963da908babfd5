"""Pytest fixtures that start the loopback servers (function scope): `openai_server`, `oauth_server`, and the
TLS and proxy ones, `tls_server` and `proxy_server`."""

from __future__ import annotations

import pytest

from tests.servers.oauth_script import OAuthScript
from tests.servers.oauth_stub import OAuthStub
from tests.servers.openai_stub import OpenAIStub


@pytest.fixture
def openai_server():
    """A started OpenAIStub (url = http://127.0.0.1:PORT/v1, key "sk-test-key"), stopped afterwards."""
    stub = OpenAIStub().start()
    try:
        yield stub
    finally:
        stub.stop()


@pytest.fixture
def oauth_server(openai_server):
    """A started OAuthStub wired to `openai_server`.

    Every access token it issues is accepted by openai_server, and resource_url is openai_server.url
    ("http://127.0.0.1:PORT/v1"), so the API base derived from a login points at the OpenAI stub.
    The OpenAI stub is reachable as `oauth_server.openai`.
    """
    stub = OAuthStub()
    stub.resource_url = openai_server.url
    stub.on_token_issued = openai_server.accept_tokens.add
    stub.openai = openai_server
    stub.start()
    try:
        yield stub
    finally:
        stub.stop()


@pytest.fixture
def oauth_script(openai_server):
    """A started OAuthScript (every answer scriptable) wired to `openai_server` like `oauth_server`: the tokens
    it issues are accepted there and resource_url points at it. The OpenAI stub is `oauth_script.openai`."""
    stub = OAuthScript()
    stub.resource_url = openai_server.url
    stub.on_token = openai_server.accept_tokens.add
    stub.openai = openai_server
    stub.start()
    try:
        yield stub
    finally:
        stub.stop()


@pytest.fixture
def instant_polls(monkeypatch):
    """In-process device logins poll on a virtual clock (tests.auth.helpers.VirtualClock): the RFC 8628
    interval floor stays in force, it just takes no real time. Returns the clock (its `waits` are recorded)."""
    from tests.auth.helpers import VirtualClock

    return VirtualClock().install(monkeypatch)


@pytest.fixture
def script():
    """A started OAuthScript on its own (not wired to an OpenAI stub): every answer is scripted per test."""
    server = OAuthScript().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def trap():
    """A second loopback authorization server that must never receive anything."""
    server = OAuthScript().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def anthropic_server():
    """A started AnthropicStub (url = http://127.0.0.1:PORT, the API root; key "sk-ant-test")."""
    from tests.servers.anthropic_stub import AnthropicStub

    stub = AnthropicStub().start()
    try:
        yield stub
    finally:
        stub.stop()


@pytest.fixture
def gemini_server():
    """A started GeminiStub (url = http://127.0.0.1:PORT/v1beta; key "gm-test-key")."""
    from tests.servers.gemini_stub import GeminiStub

    stub = GeminiStub().start()
    try:
        yield stub
    finally:
        stub.stop()


@pytest.fixture
def batch_server():
    """A started BatchStub: the OpenAI-compatible Batch API, files and batches (key "sk-batch-key")."""
    from tests.servers.batch_stub import BatchStub

    stub = BatchStub().start()
    try:
        yield stub
    finally:
        stub.stop()


@pytest.fixture
def tls_server(tmp_path):
    """A started TLSOpenAIStub with a self-signed certificate for 127.0.0.1 (`tls_server.cert`, its path)."""
    from tests.providers.stub_extras import TLSOpenAIStub, self_signed_cert

    cert, key = self_signed_cert(tmp_path)
    stub = TLSOpenAIStub(cert, key).start()
    stub.cert = cert
    try:
        yield stub
    finally:
        stub.stop()


@pytest.fixture
def proxy_server():
    """A started HTTP proxy (ProxyStub) that records what it forwarded."""
    from tests.providers.stub_extras import ProxyStub

    stub = ProxyStub().start()
    try:
        yield stub
    finally:
        stub.stop()
