"""Pytest fixtures that start the loopback servers: `openai_server` and `oauth_server` (function scope)."""

from __future__ import annotations

import pytest

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
