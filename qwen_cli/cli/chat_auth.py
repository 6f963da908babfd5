"""/auth inside a chat: switch to another configured method, or log in to a new one."""

from __future__ import annotations

from qwen_cli.errors import UsageError


def switch_or_login(host, credentials, argument: str):
    raise UsageError("/auth is not available yet")
