"""`--debug` prints the HTTP exchange: request and response headers, credentials masked, and the timing."""

from __future__ import annotations

import re

from tests.auth.helpers import CANARY_KEY
from tests.helpers import run_qwen


def test_debug_shows_headers_both_ways_masked_and_timed(openai_server, isolated):
    openai_server.accept_tokens.add(CANARY_KEY)
    env = {"OPENAI_API_KEY": CANARY_KEY, "OPENAI_BASE_URL": openai_server.url, "OPENAI_MODEL": "m"}
    result = run_qwen(["--debug", "ask", "hi"], env=env)
    assert result.exit_code == 0, result.output
    err = result.stderr
    assert re.search(r"debug: qwen_cli\.http: > User-Agent: qwen-cli/", err)
    assert re.search(r"> Accept: text/event-stream", err)
    assert re.search(r"> Authorization: Bearer \S*…\S*\n", err)  # masked
    assert re.search(r"< Content-Type: text/event-stream", err)
    assert re.search(r"HTTP 200 from http://127\.0\.0\.1:\d+/v1/chat/completions after \d+ ms", err)
    assert CANARY_KEY not in result.output and CANARY_KEY[-12:] not in result.output
