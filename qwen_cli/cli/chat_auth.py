"""/auth inside a chat: switch to another configured method, or log in to a new one with the same flow as
`qwen auth login` (device flow included). The conversation is kept; the next message uses the new method.

    /auth                      menu: the configured methods, plus "log in to another method"
    /auth METHOD [PROVIDER]    switch to it if it is configured, else log in to it
    /auth login [METHOD]       log in (again), even if already configured

Keeping the current login (Enter at the menu, or naming it) keeps the model chosen with /model.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from qwen_cli.errors import UsageError

if TYPE_CHECKING:
    from qwen_cli.auth.credentials import Credentials
    from qwen_cli.context import AppContext

_LOGIN = "login"


def switch_or_login(host: Any, credentials: Credentials, argument: str) -> Credentials | None:
    """Returns the new Credentials, or None when the person cancelled.

    Ctrl-D (EOF) or Ctrl-C at any of its prompts, or Ctrl-C while the device flow waits, cancels the /auth
    step only: a notice, and the chat goes on with the same method. Nothing is switched or stored."""
    from qwen_cli.auth import login as logins
    from qwen_cli.chat.slash import describe
    from qwen_cli.cli.common import credentials_for

    app: AppContext = host.app
    words = argument.split()
    try:
        if words and words[0] == _LOGIN:
            if len(words) > 2:
                raise UsageError("usage: /auth login [METHOD]")
            _need_terminal(app)
            logins.login(app, words[1] if len(words) > 1 else None)
        elif words:
            if len(words) > 2:
                raise UsageError("usage: /auth [METHOD [PROVIDER]]")
            method = words[0]
            provider = words[1] if len(words) > 1 else None
            if _configured(app, method, provider):
                logins.switch(app, method, provider)
            else:
                from qwen_cli.auth.methods.base import LoginRequest

                _need_terminal(app)
                logins.login(app, method, LoginRequest(provider=provider))
        else:
            _need_terminal(app)
            _menu(app)
        return _after(app, credentials, credentials_for)
    except (EOFError, KeyboardInterrupt):  # prompter.Cancelled is a KeyboardInterrupt
        # The cursor is still on the prompt line (or after an echoed ^C): start the notice on a new line.
        host.notice(f"\n/auth cancelled; still using {describe(credentials)}.")
        return None


def _after(app: AppContext, before: Credentials, credentials_for: Any) -> Credentials:
    """The credentials now active: the same login as before keeps the model it had (/model's choice)."""
    fresh: Credentials = credentials_for(app)
    if (fresh.method, fresh.provider) == (before.method, before.provider) and fresh.model != before.model:
        fresh = credentials_for(app, method=before.method, provider=before.provider, model=before.model)
    return fresh


def _need_terminal(app: AppContext) -> None:
    if not app.prompter.interactive:
        from qwen_cli.auth import methods

        named = ", ".join(f"/auth {m.id}" + (" PROVIDER" if m.takes_provider else "") for m in methods.all())
        raise UsageError(
            "/auth needs a terminal to ask questions here", hint=f"In a script, name a configured method: {named}."
        )


def _configured(app: AppContext, method: str, provider: str | None) -> bool:
    from qwen_cli.auth.resolve import inventory

    _choice, states = inventory(app.settings, active_profile_only=True)
    return any(s.usable and s.method == method and (provider is None or s.provider == provider) for s in states)


def _menu(app: AppContext) -> None:
    from qwen_cli.auth import login as logins
    from qwen_cli.auth import methods
    from qwen_cli.auth.resolve import inventory

    _choice, states = inventory(app.settings, active_profile_only=True)
    ready = [s for s in states if s.usable]
    others = ", ".join(m.short_name for m in methods.all())
    picked = logins.pick_login(app, ready, "Switch to:", extra=[(_LOGIN, f"Log in to another method ({others})")])
    if picked == _LOGIN:
        logins.login(app)
    elif not isinstance(picked, str) and not picked.active:
        logins.switch(app, picked.method, picked.provider)
