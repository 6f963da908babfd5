"""/auth inside a chat: switch to another configured method, or log in to a new one with the same flow as
`qwen auth login` (device flow included). The conversation is kept; the next message uses the new method.

    /auth                      menu: the configured methods, plus "log in to another method"
    /auth METHOD [PROVIDER]    switch to it if it is configured, else log in to it
    /auth login [METHOD]       log in (again), even if already configured
"""

from __future__ import annotations

from qwen_cli.errors import UsageError

_LOGIN = "login"


def switch_or_login(host, credentials, argument: str):
    """Returns the new Credentials, or None when the person cancelled.

    Ctrl-D (EOF) or Ctrl-C at any of its prompts, or Ctrl-C while the device flow waits, cancels the /auth
    step only: a notice, and the chat goes on with the same method. Nothing is switched or stored."""
    import click

    from qwen_cli.chat.slash import describe
    from qwen_cli.cli import auth_flow
    from qwen_cli.cli.common import credentials_for

    app = host.app
    words = argument.split()
    try:
        if words and words[0] == _LOGIN:
            if len(words) > 2:
                raise UsageError("usage: /auth login [METHOD]")
            auth_flow.login_interactive(app, method=words[1] if len(words) > 1 else None)
        elif words:
            if len(words) > 2:
                raise UsageError("usage: /auth [METHOD [PROVIDER]]")
            method = words[0]
            provider = words[1] if len(words) > 1 else None
            if _configured(app, method, provider):
                auth_flow.switch(app, method, provider)
            elif provider:
                _need_terminal(app)
                auth_flow.login(app, method=method, provider=provider)
            else:
                _need_terminal(app)
                auth_flow.login_interactive(app, method=method)
        else:
            _need_terminal(app)
            if not _menu(app, auth_flow):
                return None
        return credentials_for(app)
    except (click.exceptions.Abort, EOFError, KeyboardInterrupt):
        # The cursor is still on the prompt line (or after an echoed ^C): start the notice on a new line.
        host.notice(f"\n/auth cancelled; still using {describe(credentials)}.")
        return None


def _need_terminal(app) -> None:
    if not app.interactive:
        raise UsageError(
            "/auth needs a terminal to ask questions here",
            hint="In a script, name a configured method: /auth api-key PROVIDER, /auth coding-plan, /auth qwen-oauth.",
        )


def _configured(app, method: str, provider: str | None) -> bool:
    from qwen_cli.auth.resolve import inventory

    _choice, states = inventory(app.settings)
    return any(s.usable and s.method == method and (provider is None or s.provider == provider) for s in states)


def _menu(app, auth_flow) -> bool:
    from qwen_cli.auth.resolve import inventory

    _choice, states = inventory(app.settings)
    ready = [s for s in states if s.usable]
    options = [(s.id, auth_flow.label(s) + ("  (active)" if s.active else "")) for s in ready]
    options.append((_LOGIN, "Log in to another method (Qwen OAuth, Coding Plan or an API key)"))
    current = next((s.id for s in ready if s.active), None)
    wanted = auth_flow.pick(app, "Switch to:", options, default=current)
    if wanted == _LOGIN:
        auth_flow.login_interactive(app)
        return True
    target = next(s for s in ready if s.id == wanted)
    auth_flow.switch(app, target.method, target.provider)
    return True
