"""The real `Host` for a chat session (see `qwen_cli.chat.host`): `app.out`, the adapter, a terminal prompter,
and /auth, /terms and /telemetry from the other command groups.

It adapts those groups' reusable pieces to the small interface the chat library expects, so the chat
library never imports click, rich or requests.
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from qwen_cli.errors import QwenError, UsageError

if TYPE_CHECKING:
    from qwen_cli.auth.credentials import Credentials
    from qwen_cli.context import AppContext
    from qwen_cli.output import Output
    from qwen_cli.providers.events import Event, NetworkOptions


class CliHost:
    def __init__(self, app: AppContext, plain: bool) -> None:
        self.app = app
        if plain:  # pipe mode: answers as plain text, no spinner
            app.out.markdown = False
        self._provider = CliProvider(app)
        self._prompter = ChatPrompter(app) if app.interactive and not plain else None
        self._commands = CliCommands(self)

    @property
    def out(self) -> Output:
        return self.app.out

    @property
    def provider(self) -> CliProvider:
        return self._provider

    @property
    def prompter(self) -> ChatPrompter | None:
        return self._prompter

    @property
    def commands(self) -> CliCommands:
        return self._commands

    def notice(self, text: str) -> None:
        """`cli/chat_auth.py` prints its cancel line with this (it predates `host.out`)."""
        self.out.info(text)


class CliProvider:
    """The OpenAI-compatible adapter, with the session's network options and the provider's model list."""

    def __init__(self, app: AppContext) -> None:
        self.app = app
        self._models: dict[tuple[str, str | None], list[str]] = {}  # (base URL, token) -> the provider's list

    def network(self, credentials: Credentials) -> NetworkOptions:
        from qwen_cli.providers.events import NetworkOptions

        return NetworkOptions.from_settings(self.app.settings, credentials.provider)

    def stream(self, credentials: Credentials, messages: list[dict[str, Any]]) -> Iterable[Event]:
        from qwen_cli.providers.events import ChatRequest
        from qwen_cli.usage.hook import recorded_stream

        if credentials.token and credentials.token not in self.app.secrets:
            self.app.secrets.append(credentials.token)
        request = ChatRequest(messages=messages, model=credentials.model, model_choice="/model NAME")
        stream: Iterable[Event] = recorded_stream(self.app, credentials, request, self.network(credentials))
        return stream

    def current(self, credentials: Credentials) -> Credentials:
        """After a forced refresh (401 on an OAuth token) the boundary's helper updated app.credentials:
        keep using the fresh token, with the session's own model."""
        fresh = self.app.credentials
        if fresh is None or fresh is credentials or fresh.token == credentials.token:
            return credentials
        same = (fresh.method, fresh.provider, fresh.base_url) == (
            credentials.method,
            credentials.provider,
            credentials.base_url,
        )
        if not same:
            return credentials
        return dataclasses.replace(fresh, model=credentials.model)

    def offered_models(self, credentials: Credentials) -> list[str]:
        """The provider's GET /models, asked once per endpoint and key in a session. Raises a QwenError."""
        from qwen_cli.cli import model_choice

        key = (credentials.base_url, credentials.token)
        if key not in self._models:
            self._models[key] = list(model_choice.offered(self.app, credentials))
        return self._models[key]

    def list_models(self, credentials: Credentials) -> list[str]:
        try:
            return self.offered_models(credentials)
        except QwenError as error:
            models = catalogue_models(credentials)
            self.app.out.warn(f"Could not list models from the provider ({error.message}); showing the catalogue.")
            return models

    def check_model(self, credentials: Credentials, name: str) -> str:
        """A UsageError when the provider's list doesn't have `name`; when there is no list, a note saying
        the name was not checked."""
        from qwen_cli.cli import model_choice

        try:
            models = self.offered_models(credentials)
        except QwenError as error:
            return f"not checked: the provider did not list its models ({error.message})"
        if name not in models:
            raise UsageError(
                model_choice.not_offered(name, models, credentials.base_url),
                hint="Type /model to list the models and pick one.",
            )
        return ""


class ChatPrompter:
    """Questions to the person at the terminal: a line, or a pick from a numbered list."""

    def __init__(self, app: AppContext) -> None:
        self.app = app

    def choose(self, title: str, options: list[str], current: str | None = None) -> str | None:
        lines = [f"{title}:"]
        for number, option in enumerate(options, start=1):
            lines.append(f"  {number:>2}. {option}{'  (current)' if option == current else ''}")
        self.app.out.info("\n".join(lines))
        answer = self.ask("Pick a number or a name (Enter keeps the current one): ").strip()
        if not answer:
            return None
        if answer.isdigit() and 1 <= int(answer) <= len(options):
            return options[int(answer) - 1]
        if answer in options:
            return answer
        raise UsageError(f"no choice {answer!r}", hint="Type one of the numbers shown, or /model NAME.")

    def ask(self, prompt: str) -> str:
        """One line from the person at the terminal (Ctrl-D counts as no answer)."""
        app = self.app
        try:
            if app.stdin is sys.stdin and app.stdin_isatty and sys.stdout.isatty():
                return input(prompt)
            app.out.prompt(prompt)
            return app.stdin.readline().rstrip("\n")
        except EOFError:
            return ""


class CliCommands:
    """/auth, /terms and /telemetry: the `auth`, `terms` and `telemetry` command groups' pieces."""

    def __init__(self, host: CliHost) -> None:
        self.host = host
        self.app = host.app

    def auth(self, credentials: Credentials, argument: str) -> Credentials | None:
        from qwen_cli.cli.chat_auth import switch_or_login

        new: Credentials | None = switch_or_login(self.host, credentials, argument)
        return new

    def terms(self, credentials: Credentials) -> str:
        from qwen_cli.cli.chat_terms import full_terms

        return str(full_terms(self.app, credentials))

    def telemetry(self, argument: str) -> str:
        from qwen_cli.cli.chat_terms import telemetry

        return str(telemetry(self.app, argument))

    def plan_usage(self) -> str:
        from qwen_cli.usage import ledger, report

        return "\n".join(report.plan_lines(self.app.settings, ledger.now(self.app.env)))


def catalogue_models(credentials: Credentials) -> list[str]:
    from qwen_cli.auth.models import catalogue_models as named

    return named(credentials)
