"""Local servers are found at login: a loopback stub on a port set in the user config stands in for Ollama
or LM Studio. Subprocesses for `--provider ollama`, a pty for the chooser."""

from __future__ import annotations

import pexpect
import pytest

from qwen_cli.settings import read_toml
from tests.cli.test_auth_pty import _finish, _spawn
from tests.helpers import run_qwen
from tests.servers.openai_stub import OpenAIStub


@pytest.fixture
def local():
    stub = OpenAIStub(models=["qwen3-coder:30b", "llama3.2"]).start()
    stub.require_auth = False
    yield stub
    stub.stop()


def _user_config(isolated, provider: str, url: str) -> None:
    isolated.qwen_home.mkdir(parents=True, exist_ok=True)
    (isolated.qwen_home / "config.toml").write_text(f'[providers.{provider}]\nbase_url = "{url}"\n')


def _probes(stub) -> list[str]:
    return [r.path for r in stub.requests if r.path.endswith("/models")]


def test_login_provider_ollama_uses_the_found_port_and_its_first_model(isolated, local):
    _user_config(isolated, "ollama", local.url)
    login = run_qwen(["auth", "login", "--provider", "ollama"])
    assert login.exit_code == 0, login.output
    assert f"Using Ollama (local) at {local.url}, model qwen3-coder:30b: nothing leaves this machine" in login.stderr
    stored = read_toml(isolated.qwen_home / "credentials.toml")["api-key"]["ollama"]
    assert stored["base_url"] == local.url and stored["model"] == "qwen3-coder:30b"
    asked = run_qwen(["ask", "hi"])
    assert asked.exit_code == 0, asked.output
    assert asked.stdout.strip() == "Hello from stub"
    assert local.requests[-1].json["model"] == "qwen3-coder:30b"


def test_a_given_model_is_kept(isolated, local):
    _user_config(isolated, "ollama", local.url)
    login = run_qwen(["auth", "login", "--provider", "ollama", "--model", "llama3.2"])
    assert login.exit_code == 0, login.output
    assert read_toml(isolated.qwen_home / "credentials.toml")["api-key"]["ollama"]["model"] == "llama3.2"


def test_an_untrusted_project_config_cannot_point_the_probe(isolated, local):
    project = isolated.work / ".qwen" / "config.toml"
    project.parent.mkdir(parents=True)
    project.write_text(f'[providers.ollama]\nbase_url = "{local.url}"\n')
    run_qwen(["auth", "login", "--provider", "ollama"])
    assert _probes(local) == []


def test_first_run_chooser_offers_a_found_server_with_its_models(isolated, local):
    _user_config(isolated, "lmstudio", local.url)
    child = _spawn(["auth", "login"])
    child.expect("Choose 1-4: ")
    menu = child.before
    assert "4. LM Studio (local) at " + local.url + ": running here, nothing leaves this machine" in menu
    assert "models: qwen3-coder:30b, llama3.2" in menu
    child.sendline("4")
    child.expect("Which model on LM Studio \\(local\\)\\?")
    child.expect("Choose 1-2")
    child.sendline("2")
    child.expect_exact("API key (input hidden, Enter for none): ")
    child.sendline("")
    child.expect("Logged in: API Key \\(lmstudio\\)")
    _finish(child)
    assert child.exitstatus == 0
    stored = read_toml(isolated.qwen_home / "credentials.toml")["api-key"]["lmstudio"]
    assert stored["base_url"] == local.url and stored["model"] == "llama3.2"
    assert read_toml(isolated.qwen_home / "config.toml")["auth"] == {"method": "api-key", "provider": "lmstudio"}


def test_api_key_login_lists_found_servers_before_the_catalogue(isolated, local):
    _user_config(isolated, "vllm", local.url)
    child = _spawn(["auth", "login", "--method", "api-key", "--model", "qwen3-coder:30b"])
    child.expect("Which provider\\?")
    child.expect("Choose 1-\\d+: ")
    assert "1. vLLM" in child.before and "nothing leaves this machine" in child.before
    child.sendline("1")
    child.expect_exact("API key (input hidden, Enter for none): ")
    child.sendline("")
    child.expect("Logged in: API Key \\(vllm\\)")
    _finish(child)
    assert child.exitstatus == 0
    assert read_toml(isolated.qwen_home / "credentials.toml")["api-key"]["vllm"]["base_url"] == local.url


def test_nothing_found_leaves_the_chooser_as_it_was(isolated):
    child = _spawn(["auth", "login"])
    child.expect("Choose 1-3: ")
    assert "nothing leaves this machine" not in child.before
    child.sendcontrol("c")
    child.expect(pexpect.EOF)
