"""Shell completion: checked-in scripts stay current, and bash really completes."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from qwen_cli.cli.completion import script_for
from tests.helpers import invoke, qwen_command

ROOT = Path(__file__).resolve().parents[2]
FILES = {"bash": "qwen.bash", "zsh": "_qwen", "fish": "qwen.fish"}


@pytest.mark.parametrize("shell", sorted(FILES))
def test_checked_in_script_is_current(shell):
    checked_in = (ROOT / "completions" / FILES[shell]).read_text()
    assert checked_in == script_for(shell), f"completions/{FILES[shell]} is stale: run `make completions`"


@pytest.mark.parametrize("shell", sorted(FILES))
def test_completion_command_prints_the_script(shell):
    result = invoke(["completion", shell])
    assert result.exit_code == 0
    assert result.stdout == script_for(shell)


def test_install_writes_to_the_standard_location(isolated):
    result = invoke(["completion", "fish", "--install"])
    assert result.exit_code == 0
    target = isolated.home / ".config" / "fish" / "completions" / "qwen.fish"
    assert target.read_text() == script_for("fish")
    assert str(target) in result.stderr


def bash_complete(words: list[str]) -> list[str]:
    """Drive the checked-in bash script exactly as bash would on <TAB>."""
    if not shutil.which("bash"):
        pytest.skip("bash is not installed")
    script = ROOT / "completions" / "qwen.bash"
    bin_dir = os.path.dirname(qwen_command()[0])
    words_literal = " ".join(f"'{w}'" for w in words)
    program = (
        f"source '{script}'\n"
        f"COMP_WORDS=({words_literal})\n"
        f"COMP_CWORD={len(words) - 1}\n"
        "_qwen_completion qwen\n"
        'printf "%s\\n" "${COMPREPLY[@]}"\n'
    )
    env = dict(os.environ, PATH=bin_dir + os.pathsep + os.environ["PATH"])
    out = subprocess.run(["bash", "-c", program], capture_output=True, text=True, env=env, timeout=30)
    assert out.returncode == 0, out.stderr
    return [line for line in out.stdout.splitlines() if line]


def test_bash_completes_command_names():
    assert bash_complete(["qwen", "au"]) == ["auth"]


def test_bash_completes_config_keys():
    assert bash_complete(["qwen", "config", "get", "network.max_ret"]) == ["network.max_retries"]


def test_bash_completes_providers_from_the_catalogue():
    assert bash_complete(["qwen", "auth", "login", "--provider", "open"]) == ["openai", "openrouter"]


def test_bash_completes_providers_for_terms_show():
    assert "openrouter" in bash_complete(["qwen", "terms", "show", "--provider", "o"])


def test_bash_completes_regions_and_their_aliases():
    assert bash_complete(["qwen", "auth", "login", "--region", "gl"]) == ["global"]
    assert "china" in bash_complete(["qwen", "terms", "show", "--region", ""])


def test_bash_completes_methods():
    assert bash_complete(["qwen", "auth", "login", "--method", "co"]) == ["coding-plan"]
    assert bash_complete(["qwen", "auth", "switch", "api"]) == ["api-key"]


def test_bash_completes_models_of_the_method_on_the_line():
    got = bash_complete(["qwen", "auth", "login", "--method", "coding-plan", "--model", "qwen3-coder-"])
    assert got == ["qwen3-coder-plus", "qwen3-coder-next"]


def test_bash_completes_models_of_the_configured_method(isolated):
    isolated.qwen_home.mkdir(parents=True, exist_ok=True)
    (isolated.qwen_home / "config.toml").write_text('[auth]\nmethod = "qwen-oauth"\n')
    assert bash_complete(["qwen", "ask", "--model", ""]) == ["coder-model"]
    assert bash_complete(["qwen", "chat", "-m", ""]) == ["coder-model"]


def test_bash_completes_the_stored_logins_model_even_for_custom(isolated):
    login = [
        "auth",
        "login",
        "--provider",
        "custom",
        "--base-url",
        "http://127.0.0.1:9/v1",
        "--model",
        "my-local-model",
    ]
    assert invoke(login, input="").exit_code == 0
    assert bash_complete(["qwen", "ask", "--model", ""]) == ["my-local-model"]
    assert bash_complete(["qwen", "chat", "-m", "my"]) == ["my-local-model"]
    assert bash_complete(["qwen", "auth", "login", "--provider", "custom", "--model", ""]) == ["my-local-model"]
    assert invoke(["auth", "login", "--provider", "ollama", "--model", "llama3"]).exit_code == 0
    assert bash_complete(["qwen", "ask", "--model", ""]) == ["llama3", "qwen3-coder"]  # stored, then catalogue


def test_bash_completes_session_ids_for_chat_resume(isolated):
    sessions = isolated.qwen_home / "sessions"
    sessions.mkdir(parents=True)
    for name in ("20260101-aaaa", "20260102-bbbb"):
        (sessions / f"{name}.jsonl").write_text("")
    assert sorted(bash_complete(["qwen", "chat", "--resume", "2026"])) == ["20260101-aaaa", "20260102-bbbb"]
    assert bash_complete(["qwen", "chat", "--resume", "20260102"]) == ["20260102-bbbb"]
