"""At login on a terminal, the provider's own GET /models is offered (the catalogue default marked, Enter takes
it); when the provider doesn't answer, the catalogue's list is."""

from __future__ import annotations

import io
import os

import pexpect

from qwen_cli import catalogue
from qwen_cli.settings import read_toml
from tests.helpers import qwen_command
from tests.servers.openai_stub import error

KEY = "sk-test-key"


def _spawn(args):
    command = qwen_command()
    environ = dict(os.environ, TERM="xterm")
    child = pexpect.spawn(
        command[0], command[1:] + list(args), env=environ, encoding="utf-8", timeout=30, dimensions=(40, 200)
    )
    child.logfile_read = io.StringIO()
    return child


def _override(isolated, pid: str, url: str) -> None:
    isolated.qwen_home.mkdir(parents=True, exist_ok=True)
    (isolated.qwen_home / "config.toml").write_text(f'[providers.{pid}]\nbase_url = "{url}"\n')


def _log_in(child, answer: str) -> str:
    child.expect("input hidden")
    child.sendline(KEY)
    child.expect_exact("Enter for qwen/qwen3-coder): ")
    child.sendline(answer)
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0, child.logfile_read.getvalue()
    return child.logfile_read.getvalue().replace("\r\n", "\n")


def test_login_offers_the_providers_models_and_enter_takes_the_default(isolated, openai_server):
    openai_server.models = ["qwen/qwen3-coder", "z-ai/glm-4.5-air:free", "other-model"]
    _override(isolated, "openrouter", openai_server.url)
    screen = _log_in(_spawn(["auth", "login", "--provider", "openrouter"]), "")
    assert f"Models at {openai_server.url}:" in screen
    assert "qwen/qwen3-coder  (default)" in screen
    listing = [r for r in openai_server.requests if r.path == "/v1/models"]
    assert [(r.bearer, r.headers.get("x-openrouter-title")) for r in listing] == [(KEY, "qwen")]
    stored = read_toml(isolated.qwen_home / "credentials.toml")["api-key"]["openrouter"]
    assert stored["model"] == "qwen/qwen3-coder"


def test_a_number_picks_from_the_servers_list(isolated, openai_server):
    openai_server.models = ["qwen/qwen3-coder", "other-model"]
    _override(isolated, "openrouter", openai_server.url)
    screen = _log_in(_spawn(["auth", "login", "--provider", "openrouter"]), "1")
    assert "1. other-model" in screen  # the list as shown (sorted)
    assert read_toml(isolated.qwen_home / "credentials.toml")["api-key"]["openrouter"]["model"] == "other-model"


def test_without_a_list_from_the_provider_the_catalogue_list_is_offered(isolated, openai_server):
    openai_server.models_response = error(404, {"error": {"message": "no such route"}})
    _override(isolated, "openrouter", openai_server.url)
    screen = _log_in(_spawn(["auth", "login", "--provider", "openrouter"]), "2")
    assert "Could not list the models at" in screen and "Models in the catalogue:" in screen
    assert catalogue.provider("openrouter").models[1] in screen
    stored = read_toml(isolated.qwen_home / "credentials.toml")["api-key"]["openrouter"]
    assert stored["model"] == catalogue.provider("openrouter").models[1]
