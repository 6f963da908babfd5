"""`qwen auth login --provider gemini|anthropic` on a terminal offers the provider's own model list, read with
its own protocol (Gemini's GET models, Anthropic's GET /v1/models), and the login then answers `ask`."""

from __future__ import annotations

import io
import os

import pexpect
import pytest

from qwen_cli.settings import read_toml
from tests.helpers import invoke, qwen_command
from tests.servers.anthropic_stub import KEY as ANT_KEY
from tests.servers.gemini_stub import KEY as GEM_KEY


def _spawn(args):
    command = qwen_command()
    child = pexpect.spawn(
        command[0], command[1:] + list(args), env=dict(os.environ, TERM="xterm"), encoding="utf-8", timeout=30
    )
    child.logfile_read = io.StringIO()
    return child


@pytest.mark.parametrize("pid", ["gemini", "anthropic"])
def test_login_lists_the_models_with_the_providers_protocol(isolated, anthropic_server, gemini_server, pid):
    server, key = (gemini_server, GEM_KEY) if pid == "gemini" else (anthropic_server, ANT_KEY)
    isolated.qwen_home.mkdir(parents=True, exist_ok=True)
    (isolated.qwen_home / "config.toml").write_text(f'[providers.{pid}]\nbase_url = "{server.url}"\n')
    child = _spawn(["auth", "login", "--provider", pid])
    child.expect("input hidden")
    child.sendline(key)
    child.expect("Model \\(1-2 or an id")
    child.sendline("2" if pid == "gemini" else "claude-test")
    child.expect(pexpect.EOF)
    child.close()
    screen = child.logfile_read.getvalue()
    assert child.exitstatus == 0, screen
    assert f"Models at {server.url}:" in screen and key not in screen
    listing = [r for r in server.requests if r.method == "GET"]
    assert len(listing) == 1 and "/models" in listing[0].path
    stored = read_toml(isolated.qwen_home / "credentials.toml")["api-key"][pid]
    assert stored["model"] == ("gemini-test" if pid == "gemini" else "claude-test")
    result = invoke(["ask", "hi"])
    assert result.exit_code == 0 and result.stdout.startswith("Hello from "), result.stderr
