"""`qwen batch` against the loopback Batch API: a stored OpenAI API-key login pointing at it."""

from __future__ import annotations

import json

import pytest

from tests.helpers import run_qwen
from tests.servers.batch_stub import KEY

FAST = {"QWEN_BATCH_POLL_INTERVAL": "0.02", "QWEN_NETWORK_MAX_RETRIES": "0"}


def login(url: str, provider: str = "openai", key: str = KEY) -> None:
    result = run_qwen(
        ["auth", "login", "--method", "api-key", "--provider", provider, "--base-url", url]
        + ["--model", "test-model", "--key-stdin"],
        input=key + "\n",
    )
    assert result.exit_code == 0, result.stderr


@pytest.fixture
def logged_in(batch_server):
    login(batch_server.url)
    batch_server.requests.clear()  # the login's /models check
    return batch_server


def qwen(*args, input=None, env=None):
    return run_qwen(["batch", *args], input=input, env={**FAST, **(env or {})})


def lines(result) -> list[dict]:
    return [json.loads(line) for line in result.stdout.splitlines()]


def submitted(text: str = "What is a mutex?\nWhat is a semaphore?\nWhat is a monitor?\n", *args) -> str:
    """Submit `text` as the input lines with the prompt 'Q: $input'; returns the batch id."""
    result = qwen("submit", "-", "Q: $input", *args, input=text)
    assert result.exit_code == 0, result.stderr
    return result.stdout.strip()
