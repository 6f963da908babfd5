"""`coding_plan.tier` is asked once at a Coding Plan login on a terminal, and never off one."""

from __future__ import annotations

import io
import os
from pathlib import Path

from qwen_cli.cli.main import run
from qwen_cli.context import AppContext
from tests.helpers import run_qwen

KEY = "sk-sp-tier-test-key"


class Answers:
    """A terminal that answers from a list, and remembers the menus it was shown."""

    interactive = True

    def __init__(self, *answers):
        self.answers = list(answers)
        self.menus: list[str] = []

    def choose(self, title, options, *, need, flag, default=None):
        self.menus.append(title)
        return self.answers.pop(0)

    def secret(self, prompt, *, need, flag):
        return self.answers.pop(0)

    def text(self, prompt, *, need, flag, problem=None):
        return self.answers.pop(0)

    def confirm(self, prompt, *, need, flag, default=False):
        return self.answers.pop(0)

    def say(self, text=""):
        pass


def login(prompter) -> tuple[int, str]:
    app = AppContext(
        stdin=io.StringIO(""),
        stdout=io.StringIO(),
        stderr=io.StringIO(),
        env=dict(os.environ),
        cwd=Path.cwd(),
        prompter=prompter,
    )
    app.stdin.isatty = lambda: True  # type: ignore[method-assign]
    code = run(app, ["auth", "login", "--method", "coding-plan", "--region", "china"])
    return code, app.stderr.getvalue()


def test_a_terminal_login_asks_the_tier_once_and_stores_it(isolated):
    prompter = Answers(KEY, "pro")
    code, err = login(prompter)
    assert code == 0, err
    assert [m for m in prompter.menus if "Which Coding Plan" in m]
    assert 'tier = "pro"' in (isolated.qwen_home / "config.toml").read_text()
    again = Answers(KEY)  # a second login: the tier is known, nothing more is asked
    assert login(again)[0] == 0 and not again.menus


def test_skipping_the_question_leaves_the_tier_unset(isolated):
    code, err = login(Answers(KEY, "skip"))
    assert code == 0, err
    config = isolated.qwen_home / "config.toml"
    assert "tier" not in (config.read_text() if config.exists() else "")


def test_a_login_off_a_terminal_leaves_the_tier_unset(isolated):
    result = run_qwen(["auth", "login", "--method", "coding-plan", "--region", "china", "--key-stdin"], input=KEY)
    assert result.exit_code == 0, result.stderr
    config = isolated.qwen_home / "config.toml"
    assert "tier" not in (config.read_text() if config.exists() else "")
