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
    assert bash_complete(["qwen", "config", "get", "network.max_r"]) == ["network.max_retries"]
