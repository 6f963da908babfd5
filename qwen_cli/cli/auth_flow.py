"""What is left of the login pieces in the CLI: the names `cli/common.py` and `cli/chat.py` use. The
procedures themselves live with their methods (qwen_cli/auth/methods/) and in qwen_cli/auth/login.py."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from qwen_cli.auth.methods.base import LoginResult, StatusEntry
    from qwen_cli.context import AppContext


def wrap(app: AppContext, text: str, indent: str = "", first: str | None = None) -> str:
    """`text` wrapped to the terminal behind stderr (see TerminalPrompter.wrap)."""
    from qwen_cli.prompter import TerminalPrompter

    return TerminalPrompter(app).wrap(text, indent, first)


def browser_usable(env: Mapping[str, str], no_browser: bool = False) -> bool:
    from qwen_cli import browser

    return browser.usable(env, no_browser)


def login(app: AppContext, method: str | None = None, **options: Any) -> LoginResult:
    from qwen_cli.auth import login as logins
    from qwen_cli.auth.methods.base import LoginRequest

    return logins.login(app, method, LoginRequest(**options))


def login_interactive(app: AppContext, method: str | None = None) -> LoginResult:
    """The chooser (unless a method is given), then that method's login with prompts. Used by the first-run
    path and by chat's `/auth`."""
    from qwen_cli.prompter import need_terminal

    if not app.prompter.interactive:
        raise need_terminal("a login", "--method and its credentials to `qwen auth login`")
    return login(app, method)


def switch(app: AppContext, method: str | None = None, provider: str | None = None) -> StatusEntry:
    from qwen_cli.auth import login as logins

    return logins.switch(app, method, provider)
