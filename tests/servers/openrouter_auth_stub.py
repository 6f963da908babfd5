"""OpenRouter's browser login on a loopback server, beside the OpenAI-compatible API (stdlib only).

Written from OpenRouter's public PKCE guide (https://openrouter.ai/docs/oauth):

- `GET /auth?callback_url=...&code_challenge=...&code_challenge_method=S256[&state=...]` is the page where a
  person approves the app. Here approval is instant: a 302 to `callback_url` with `code` (and the `state`
  it was given) added to its query.
- `POST /v1/auth/keys` with JSON `{code, code_verifier, code_challenge_method}` answers `{"key", "user_id"}`
  when base64url(sha256(code_verifier)) is the challenge the code was issued for; 400 otherwise. A code works
  once.

    stub = OpenRouterAuthStub().start()
    ... providers.openrouter.base_url = stub.url, providers.openrouter.oauth_authorize_url = stub.authorize_url
    stub.keys   # keys issued; each is also accepted by the chat and models endpoints

`exchange_reply` (a Response from openai_stub) answers every exchange instead, for the error cases;
`hold_exchange` makes the exchange wait (a slow server) until the stub stops.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

from tests.servers.openai_stub import OpenAIStub, Response


def s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


class OpenRouterAuthStub(OpenAIStub):
    def __init__(self) -> None:
        super().__init__(accept_tokens=set())
        self.issued: dict[str, str] = {}  # code -> the challenge it was issued for
        self.keys: list[str] = []
        self.codes: list[str] = []  # every code issued, for canary checks
        self.exchange_reply: Response | None = None
        self.hold_exchange = False
        self.authorize_queries: list[dict[str, str]] = []

    @property
    def authorize_url(self) -> str:
        return self.base + "/auth"

    @property
    def exchanges(self):
        return [r for r in self.requests if r.path.split("?")[0].rstrip("/") == "/v1/auth/keys"]

    def dispatch(self, h, rec):
        path = rec.path.split("?")[0].rstrip("/")
        if path == "/auth" and rec.method == "GET":
            self._authorize(h, rec)
        elif path == "/v1/auth/keys" and rec.method == "POST":
            self._exchange(h, rec)
        else:
            super().dispatch(h, rec)

    def _authorize(self, h, rec):
        query = {k: v[0] for k, v in parse_qs(urlsplit(rec.path).query).items()}
        self.authorize_queries.append(query)
        callback = query.get("callback_url", "")
        if not callback.startswith("http") or query.get("code_challenge_method", "S256") not in ("S256", "plain"):
            h.send_json(400, {"error": {"message": "bad authorize request", "code": 400}})
            return
        code = "orcode-" + secrets.token_hex(12)
        with self._lock:
            self.issued[code] = query.get("code_challenge", "")
            self.codes.append(code)
        extra = {"code": code, **({"state": query["state"]} if "state" in query else {})}
        parts = urlsplit(callback)
        target = urlunsplit(parts._replace(query=(parts.query + "&" if parts.query else "") + urlencode(extra)))
        h.send_simple(302, b"", {"Location": target})

    def _exchange(self, h, rec):
        if self.hold_exchange:
            h.sleep(60)
            return
        if self.exchange_reply is not None:
            self.exchange_reply.send(h, rec)
            return
        body = rec.json if isinstance(rec.json, dict) else {}
        with self._lock:
            challenge = self.issued.pop(str(body.get("code")), None)
        verifier = str(body.get("code_verifier", ""))
        method = body.get("code_challenge_method")
        if challenge is None or method != "S256" or s256(verifier) != challenge:
            h.send_json(400, {"error": {"message": "Invalid code or code_verifier", "code": 400}})
            return
        key = "sk-or-v1-" + secrets.token_hex(24)
        with self._lock:
            self.keys.append(key)
            self.accept_tokens.add(key)
        h.send_json(200, {"key": key, "user_id": "user_stub"})
