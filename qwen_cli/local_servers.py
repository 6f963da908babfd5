"""Local OpenAI-compatible servers, found rather than typed.

The candidates are the catalogue's local providers (`local = true` in data/providers.toml: Ollama, LM Studio,
vLLM, llama.cpp's server); each is asked `GET /v1/models` on its usual port with a short timeout, all at once.
Only loopback is ever asked, and through `http.client` rather than requests, so no proxy variable can send a
probe off this machine. Nothing found is an empty list, never an error.
"""

from __future__ import annotations

import http.client
import json
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

__all__ = ["Candidate", "Found", "candidates", "probe", "LOOPBACK_HOSTS", "MAX_MODELS_BYTES"]

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
MAX_MODELS_BYTES = 1024 * 1024  # a model list bigger than this is not a local server's
DEFAULT_TIMEOUT = 0.3


@dataclass(frozen=True)
class Candidate:
    provider: str
    name: str
    base_url: str  # ends in /v1


@dataclass(frozen=True)
class Found:
    provider: str
    name: str
    base_url: str
    models: tuple[str, ...]


def candidates(overrides: dict[str, str] | None = None) -> list[Candidate]:
    """The catalogue's local providers, with `overrides` (provider id -> base URL, from trusted settings)
    replacing their default URLs. Anything not on loopback is dropped, whoever asked for it."""
    from qwen_cli import catalogue

    found = []
    for prov in catalogue.providers().values():
        if not prov.local:
            continue
        url = (overrides or {}).get(prov.id) or prov.base_url
        if url and _on_loopback(url):
            found.append(Candidate(prov.id, prov.name, url.rstrip("/")))
    return found


def probe(wanted: Iterable[Candidate], timeout: float = DEFAULT_TIMEOUT) -> list[Found]:
    """The candidates that answer `GET {base}/models` with a model list, in the order given."""
    wanted = [c for c in wanted if _on_loopback(c.base_url)]
    results: list[Found | None] = [None] * len(wanted)

    def ask(index: int, cand: Candidate) -> None:
        models = _models(cand.base_url, timeout)
        if models is not None:
            results[index] = Found(cand.provider, cand.name, cand.base_url, models)

    threads = [threading.Thread(target=ask, args=(i, c), daemon=True) for i, c in enumerate(wanted)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout * 3 + 0.5)
    return [r for r in results if r is not None]


def _on_loopback(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme == "http" and (parts.hostname or "") in LOOPBACK_HOSTS


def _models(base_url: str, timeout: float) -> tuple[str, ...] | None:
    parts = urlsplit(base_url)
    host = "127.0.0.1" if parts.hostname == "localhost" else parts.hostname or "127.0.0.1"
    conn = http.client.HTTPConnection(host, parts.port or 80, timeout=timeout)
    try:
        conn.request("GET", parts.path.rstrip("/") + "/models", headers={"Accept": "application/json"})
        response = conn.getresponse()
        if response.status != 200:
            return None
        body = response.read(MAX_MODELS_BYTES + 1)
    except (OSError, http.client.HTTPException, ValueError):
        return None
    finally:
        conn.close()
    if len(body) > MAX_MODELS_BYTES:
        return None
    return _model_ids(body)


def _model_ids(body: bytes) -> tuple[str, ...] | None:
    try:
        data = json.loads(body)
    except ValueError:
        return None
    entries = data.get("data") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        return None
    ids = [e.get("id") for e in entries if isinstance(e, dict)]
    return tuple(i for i in ids if isinstance(i, str) and i)
