"""What `qwen` imports on its fast paths (issue 13 §6). Not timed: the modules themselves are the contract.

`qwen ask` with a key from the environment is the one-shot path shell pipelines pay for on every call. It must
not import rich-click or rich (help pages only), nor the telemetry package when the method it used is one that
statistics never apply to (api-key). The process is the real `qwen` entry point, wrapped only to write
sys.modules to a file when it exits.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

# Runs qwen's own entry point; at exit, writes the names of the loaded modules to the file in argv[1].
WRAPPER = """\
import atexit, sys
out = sys.argv.pop(1)
atexit.register(lambda: open(out, "w").write("\\n".join(sorted(sys.modules))))
from qwen_cli.cli.main import main
sys.argv[0] = "qwen"
main()
"""

FORBIDDEN_ON_ASK = ("rich", "rich_click", "qwen_cli.telemetry")


def loaded_modules(args: list[str], env: dict, tmp_path: Path) -> set[str]:
    listing = tmp_path / "modules.txt"
    proc = subprocess.run(
        [sys.executable, "-c", WRAPPER, str(listing), *args],
        env={**os.environ, **env},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr.decode()
    return set(listing.read_text().split())


def offenders(modules: set[str], packages: tuple[str, ...]) -> list[str]:
    return sorted(m for m in modules if any(m == p or m.startswith(p + ".") for p in packages))


@pytest.fixture
def env(openai_server):
    return {"OPENAI_API_KEY": "sk-test-key", "OPENAI_BASE_URL": openai_server.url, "OPENAI_MODEL": "test-model"}


def test_ask_with_an_env_key_imports_neither_rich_nor_telemetry(env, tmp_path):
    modules = loaded_modules(["ask", "what is 2+2?"], env, tmp_path)
    assert "qwen_cli.providers.openai_compat" in modules  # the wrapper really ran the command
    assert offenders(modules, FORBIDDEN_ON_ASK) == []


def test_ask_in_json_mode_imports_neither_either(env, tmp_path):
    modules = loaded_modules(["ask", "-o", "json", "hi"], env, tmp_path)
    assert offenders(modules, FORBIDDEN_ON_ASK) == []


def test_a_method_that_may_collect_still_reaches_the_statistics_hook(isolated, openai_server, tmp_path):
    # The gate skips only the methods statistics never apply to: a Coding Plan key still reaches the policy.
    openai_server.accept_tokens.add("sk-sp-startup-test")
    isolated.qwen_home.mkdir(parents=True, exist_ok=True)
    (isolated.qwen_home / "credentials.toml").write_text(f'[coding-plan]\nbase_url = "{openai_server.url}"\n')
    (isolated.qwen_home / "credentials.toml").chmod(0o600)
    env = {"QWEN_AUTH_METHOD": "coding-plan", "BAILIAN_CODING_PLAN_API_KEY": "sk-sp-startup-test"}
    modules = loaded_modules(["ask", "hi"], env, tmp_path)
    assert "qwen_cli.providers.openai_compat" in modules
    assert "qwen_cli.telemetry.hook" in modules


def test_version_imports_no_cli_framework(tmp_path):
    modules = loaded_modules(["--version"], {}, tmp_path)
    assert offenders(modules, ("click", "rich", "rich_click", "requests", "qwen_cli.telemetry")) == []


def test_help_is_still_rendered_by_rich_click(tmp_path):
    modules = loaded_modules(["ask", "--help"], {}, tmp_path)
    assert "rich_click" in modules
