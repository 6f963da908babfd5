"""Pytest fixtures that start the loopback servers: `openai_server` and `oauth_server` (function scope)."""

from __future__ import annotations

import pytest

from tests.servers.openai_stub import OpenAIStub


@pytest.fixture
def openai_server():
    """A started OpenAIStub (url = http://127.0.0.1:PORT/v1, key "sk-test-key"), stopped afterwards."""
    stub = OpenAIStub().start()
    try:
        yield stub
    finally:
        stub.stop()
