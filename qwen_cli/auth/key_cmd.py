"""`providers.<id>.key_cmd`: a command from the user's own config that prints the key, run at each invocation.

The command is split with shlex and run without a shell, stdin closed, under `auth.key_cmd_timeout`. The
first line of its stdout is the key (`pass show` puts the password there and metadata below). The key is
kept in memory for this process only, so `auth status` and the request it precedes run the command once.
Only the user config may name a command: settings.py drops `key_cmd` from project files, since a command
from a cloned repository would be code execution.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from qwen_cli.errors import AuthError

if TYPE_CHECKING:
    from qwen_cli.settings import Settings

SOURCE = "key_cmd"
_ran: dict[tuple[str, tuple[str, ...]], str] = {}


def command(settings: Settings, provider: str) -> str | None:
    """The provider's key_cmd from the user config, if any."""
    table = settings.table("providers").get(provider)
    value = table.get("key_cmd") if isinstance(table, dict) else None
    return value if isinstance(value, str) and value.strip() else None


def providers(settings: Settings) -> list[str]:
    """Every provider the user config gives a key_cmd."""
    return [p for p in settings.table("providers") if command(settings, p)]


def key(settings: Settings, provider: str, line: str) -> str:
    """Run the command (once per process) and return the key, or raise a one-line AuthError that never
    shows what the command printed on stdout."""
    import shlex
    import subprocess

    from qwen_cli import secrets

    try:
        argv = tuple(shlex.split(line))
    except ValueError as exc:
        raise _failed(provider, f"can't be split into words ({exc})") from None
    if not argv:
        raise _failed(provider, "is empty")
    memo = (str(settings.home), argv)
    if memo in _ran:
        return _ran[memo]
    timeout = float(settings.get("auth.key_cmd_timeout"))
    try:
        done = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout or None, check=False)
    except subprocess.TimeoutExpired:
        raise _failed(provider, f"did not finish within {timeout:g} s (auth.key_cmd_timeout)") from None
    except OSError as exc:
        raise _failed(provider, f"could not be started ({exc.strerror or exc})") from None
    lines = done.stdout.decode("utf-8", "replace").splitlines()
    found = lines[0].strip() if lines else ""
    if found:
        secrets.register(found)
    if done.returncode != 0:
        raise _failed(provider, f"exited with status {done.returncode}")
    if not found:
        raise _failed(provider, "printed nothing on the first line of its output")
    _ran[memo] = found
    return found


def _failed(provider: str, what: str) -> AuthError:
    return AuthError(
        f"the key command for {provider} (providers.{provider}.key_cmd) {what}",
        hint=f"Run it yourself to see why, or change providers.{provider}.key_cmd in config.toml.",
    )
