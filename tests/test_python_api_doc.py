"""docs/python-api.md's example, run as written (extracted from the doc, so they cannot drift) against the
stub OpenAI server: qwen as a library, without click."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

DOC = Path(__file__).resolve().parents[1] / "docs" / "python-api.md"


def _example() -> str:
    blocks = re.findall(r"^```python\n(.*?)^```$", DOC.read_text(encoding="utf-8"), flags=re.S | re.M)
    assert len(blocks) == 1, "docs/python-api.md should hold exactly one python block, the tested example"
    return blocks[0]


def _run(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    # The block is the whole program; the line after it checks the library ran without click or rich.
    program = _example() + "\nimport sys\nassert 'click' not in sys.modules and 'rich' not in sys.modules\n"
    return subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, timeout=60, env={**os.environ, **env}
    )


def test_the_documented_example_resolves_lists_and_streams(isolated, openai_server):
    env = {"OPENAI_API_KEY": "sk-test-key", "OPENAI_BASE_URL": openai_server.url, "OPENAI_MODEL": "test-model"}
    result = _run(env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "method api-key (custom), from env:OPENAI_BASE_URL",
        "model test-model, from env:OPENAI_MODEL",
        "models: other-model, test-model",
        "Hello from stub",
        "finished: stop",
        "tokens: 5 in, 3 out",
    ]
    (request,) = openai_server.chat_requests
    assert request.bearer == "sk-test-key" and request.json["messages"] == [{"role": "user", "content": "Say hello"}]
    assert "sk-test-key" not in result.stdout + result.stderr


def test_the_documented_example_reports_nothing_configured_as_qwen_would(isolated):
    result = _run({})
    assert result.returncode == 3
    assert result.stderr.startswith("Error: ") and "\nHint: " in result.stderr
    assert "Traceback" not in result.stderr
