"""Local servers are found by asking loopback ports, and nothing but loopback is ever asked."""

from __future__ import annotations

import socket
import time

import pytest

from qwen_cli import local_servers
from qwen_cli.local_servers import Candidate
from tests.servers.openai_stub import OpenAIStub, raw


@pytest.fixture
def server():
    stub = OpenAIStub(models=["qwen3-coder:30b", "llama3"]).start()
    stub.require_auth = False
    yield stub
    stub.stop()


_HELD_PORTS: list[socket.socket] = []


def _closed_port() -> int:
    """A port that refuses connections: bound for the rest of the session but never listening, so no other
    test (pytest-xdist runs several at once) or program can start listening on it meanwhile."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    _HELD_PORTS.append(sock)
    return sock.getsockname()[1]


def test_a_server_that_answers_is_offered_with_its_models(server):
    found = local_servers.probe([Candidate("ollama", "Ollama (local)", f"{server.base}/v1")])
    assert [(f.provider, f.models) for f in found] == [("ollama", ("qwen3-coder:30b", "llama3"))]
    assert [r.path for r in server.requests] == ["/v1/models"]


def test_closed_ports_and_non_model_answers_are_left_out_in_order(server):
    other = OpenAIStub().start()
    other.require_auth = False
    other.models_response = raw(200, [b"<html>not a model server</html>"], headers={"Content-Type": "text/html"})
    try:
        found = local_servers.probe(
            [
                Candidate("vllm", "vLLM", f"http://127.0.0.1:{_closed_port()}/v1"),
                Candidate("lmstudio", "LM Studio", f"{other.base}/v1"),
                Candidate("ollama", "Ollama", f"{server.base}/v1"),
            ]
        )
    finally:
        other.stop()
    assert [f.provider for f in found] == ["ollama"]


def test_a_silent_port_costs_one_timeout_not_one_per_candidate():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)  # accepts connections, never answers
    port = listener.getsockname()[1]
    try:
        start = time.monotonic()
        found = local_servers.probe(
            [Candidate(f"p{i}", "silent", f"http://127.0.0.1:{port}/v{i}") for i in range(4)], timeout=0.5
        )
        elapsed = time.monotonic() - start
    finally:
        listener.close()
    assert found == []
    assert elapsed < 1.5, f"four silent candidates took {elapsed:.2f}s: they were asked one after another"


@pytest.mark.parametrize(
    "url",
    [
        "http://10.0.0.5:11434/v1",
        "https://127.0.0.1:11434/v1",
        "http://example.com:1234/v1",
        "http://127.0.0.1.example.com:8000/v1",
    ],
)
def test_nothing_off_loopback_is_ever_asked(url, server, monkeypatch):
    asked: list[object] = []
    real = socket.getaddrinfo
    monkeypatch.setattr(socket, "getaddrinfo", lambda host, *a, **k: asked.append(host) or real(host, *a, **k))
    assert local_servers.candidates({"ollama": url})[0].base_url != url.rstrip("/")
    assert local_servers.probe([Candidate("x", "x", url)]) == []
    assert asked == [], f"the probe looked up {asked}"


def test_the_candidates_are_the_catalogues_local_providers_on_their_usual_ports():
    ports = {c.provider: c.base_url for c in local_servers.candidates()}
    assert ports == {
        "ollama": "http://localhost:11434/v1",
        "lmstudio": "http://localhost:1234/v1",
        "vllm": "http://localhost:8000/v1",
        "llamacpp": "http://localhost:8080/v1",
    }


def test_an_oversized_model_list_is_not_believed(server):
    body = b'{"data": [{"id": "m"}]}' + b" " * local_servers.MAX_MODELS_BYTES
    server.models_response = raw(200, [body], headers={"Content-Type": "application/json"})
    assert local_servers.probe([Candidate("ollama", "Ollama", f"{server.base}/v1")]) == []
