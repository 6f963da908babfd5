"""What a chat session needs from the world outside it, in four small parts.

    host.out        the lines it prints and the answers it draws: `qwen_cli.output.Output` (`app.out`)
    host.provider   the model behind it: stream a reply, list and check models, a refreshed token
    host.prompter   a person at a terminal who can answer a question; None when nobody can (pipe mode, CI)
    host.commands   the other command groups a chat reaches: /auth, /terms, /telemetry

`qwen_cli.cli.chat_host` supplies the real ones. `commands` is there for /auth, which logs in with the same
flow as `qwen auth login`; /terms and /telemetry ride along until their command groups offer library
functions that return data.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from qwen_cli.auth.credentials import Credentials
    from qwen_cli.output import Output
    from qwen_cli.providers.events import Event

__all__ = ["Commands", "Host", "Prompter", "Provider"]


class Provider(Protocol):
    def stream(self, credentials: Credentials, messages: list[dict[str, Any]]) -> Iterable[Event]:
        """The reply's events; raises a QwenError when the request fails."""
        ...

    def list_models(self, credentials: Credentials) -> list[str]:
        """The provider's models, or the catalogue's (with a warning) when the provider gives no list."""
        ...

    def check_model(self, credentials: Credentials, name: str) -> str:
        """Raises UsageError when the provider's list lacks `name`; without a list, a note saying so."""
        ...

    def current(self, credentials: Credentials) -> Credentials:
        """The same credentials, with the fresh token if the adapter had to refresh it."""
        ...


class Prompter(Protocol):
    def ask(self, prompt: str) -> str:
        """One line from the person ("" on Ctrl-D)."""
        ...

    def choose(self, title: str, options: list[str], current: str | None = None) -> str | None:
        """One of `options`, or None to keep the current one."""
        ...


class Commands(Protocol):
    def auth(self, credentials: Credentials, argument: str) -> Credentials | None:
        """New credentials after a switch or a login; None when nothing changed."""
        ...

    def terms(self, credentials: Credentials) -> str:
        """The terms page for these credentials ("" when it was printed already)."""
        ...

    def telemetry(self, argument: str) -> str:
        """Show ("") or change ("on", "off") the usage statistics setting; the text to show, if any."""
        ...

    def plan_usage(self) -> str:
        """The Coding Plan's windows from this machine's usage ledger ("" when it holds no Coding Plan request)."""
        ...


class Host(Protocol):
    @property
    def out(self) -> Output: ...

    @property
    def provider(self) -> Provider: ...

    @property
    def prompter(self) -> Prompter | None: ...

    @property
    def commands(self) -> Commands: ...
