"""`qwen completion`: shell completion scripts built from Click's own completion machinery."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import rich_click as click

from qwen_cli.cli.common import pass_app
from qwen_cli.errors import ConfigError

if TYPE_CHECKING:
    from qwen_cli.context import AppContext

SHELLS = ("bash", "zsh", "fish")
COMPLETE_VAR = "_QWEN_COMPLETE"


def script_for(shell: str) -> str:
    from click.shell_completion import get_completion_class

    from qwen_cli.cli.root import root

    completion_class = get_completion_class(shell)
    if completion_class is None:  # callers pass one of SHELLS, which click supports
        raise ValueError(f"no completion for {shell!r}")
    source = completion_class(root, {}, "qwen", COMPLETE_VAR).source()
    if shell == "bash":
        # The `qwen-cli` alias is the same program; complete it the same way.
        source += "\ncomplete -o nosort -F _qwen_completion qwen-cli\n"
    return source if source.endswith("\n") else source + "\n"


def install_path(shell: str, env) -> Path:
    home = Path(env.get("HOME") or Path.home())
    data = Path(env.get("XDG_DATA_HOME") or home / ".local" / "share")
    config = Path(env.get("XDG_CONFIG_HOME") or home / ".config")
    return {
        "bash": data / "bash-completion" / "completions" / "qwen",
        "zsh": home / ".zfunc" / "_qwen",
        "fish": config / "fish" / "completions" / "qwen.fish",
    }[shell]


@click.command()
@click.argument("shell", type=click.Choice(SHELLS))
@click.option("--install", is_flag=True, help="Write the script to the shell's standard per-user location.")
@pass_app
def completion(app: AppContext, shell: str, install: bool) -> None:
    """Print (or install) the completion script for SHELL.

    \b
    Examples:
      qwen completion bash > ~/.local/share/bash-completion/completions/qwen
      qwen completion zsh --install
      eval "$(qwen completion bash)"
    """
    script = script_for(shell)
    if not install:
        app.stdout.write(script)
        return
    from qwen_cli.fsutil import atomic_write

    target = install_path(shell, app.env)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(target, script, mode=0o644)
    except OSError as exc:
        raise ConfigError(
            f"cannot write {target}: {exc.strerror}", hint="Print the script and save it yourself."
        ) from None
    app.out.info(f"Installed {shell} completion to {target}")
    if shell == "zsh":
        app.out.info("Add to ~/.zshrc (before compinit): fpath=(~/.zfunc $fpath)")
    elif shell == "bash" and not os.environ.get("BASH_COMPLETION_VERSINFO"):
        app.out.info("Needs the bash-completion package; open a new shell to use it.")
    else:
        app.out.info("Open a new shell to use it.")
