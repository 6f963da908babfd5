"""The real `Host` for a chat session: the adapter, the renderer, pickers, /auth, /terms and /telemetry.

It adapts the other command groups' reusable pieces to the small interface `qwen_cli.chat.session`
expects, so the chat library never imports click, rich or requests.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from qwen_cli.errors import QwenError, UsageError


class CliHost:
    def __init__(self, app, plain: bool):
        self.app = app
        self.plain = plain  # pipe mode: answers as plain text, no spinner
        self.interactive = app.interactive and not plain
        self._models: dict[tuple, list[str]] = {}  # (base URL, token) -> the provider's list, once it gave one

    # -- output
    def notice(self, text: str) -> None:
        from qwen_cli.secrets import redact
        from qwen_cli.termsafe import clean

        stream = self.app.stderr
        try:
            stream.write(clean(redact(text, self.app.secrets)) + "\n")
            stream.flush()
        except (BrokenPipeError, ValueError):
            pass

    def error(self, error: QwenError) -> None:
        from qwen_cli.render import print_error

        print_error(self.app, error)

    # -- the provider
    def network(self, credentials):
        from qwen_cli.providers.events import NetworkOptions

        return NetworkOptions.from_settings(self.app.settings, getattr(credentials, "provider", None))

    def stream(self, credentials, messages):
        from qwen_cli.providers import openai_compat
        from qwen_cli.providers.events import ChatRequest

        if credentials.token and credentials.token not in self.app.secrets:
            self.app.secrets.append(credentials.token)
        request = ChatRequest(messages=messages, model=credentials.model, model_choice="/model NAME")
        return openai_compat.stream(credentials, request, self.network(credentials), notify=self.notice)

    def current(self, credentials):
        """After a forced refresh (401 on an OAuth token) the boundary's helper updated app.credentials:
        keep using the fresh token, with the session's own model."""
        fresh = self.app.credentials
        if fresh is None or fresh is credentials or fresh.token == credentials.token:
            return credentials
        same = (fresh.method, fresh.provider, fresh.base_url) == (credentials.method, credentials.provider,
                                                                  credentials.base_url)
        if not same:
            return credentials
        import dataclasses

        return dataclasses.replace(fresh, model=credentials.model)

    def render(self, events):
        return render_answer(self.app, events, plain=self.plain)

    def offered_models(self, credentials) -> list[str]:
        """The provider's GET /models, asked once per endpoint and key in a session. Raises a QwenError."""
        from qwen_cli.cli import model_choice

        key = (credentials.base_url, credentials.token)
        if key not in self._models:
            self._models[key] = model_choice.offered(self.app, credentials)
        return self._models[key]

    def list_models(self, credentials) -> list[str]:
        try:
            return self.offered_models(credentials)
        except QwenError as error:
            models = catalogue_models(credentials)
            self.notice(f"Could not list models from the provider ({error.message}); showing the catalogue.")
            return models

    def check_model(self, credentials, name: str) -> str:
        """A UsageError when the provider's list doesn't have `name`; when there is no list, a note saying
        the name was not checked."""
        from qwen_cli.cli import model_choice

        try:
            models = self.offered_models(credentials)
        except QwenError as error:
            return f"not checked: the provider did not list its models ({error.message})"
        if name not in models:
            raise UsageError(model_choice.not_offered(name, models, credentials.base_url),
                             hint="Type /model to list the models and pick one.")
        return ""

    def choose(self, title: str, options: list[str], current: str | None = None) -> str | None:
        lines = [f"{title}:"]
        for number, option in enumerate(options, start=1):
            lines.append(f"  {number:>2}. {option}{'  (current)' if option == current else ''}")
        self.notice("\n".join(lines))
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
            app.stderr.write(prompt)
            app.stderr.flush()
            return app.stdin.readline().rstrip("\n")
        except EOFError:
            return ""

    # -- the other groups' pieces
    def auth(self, credentials, argument: str):
        from qwen_cli.cli.chat_auth import switch_or_login

        return switch_or_login(self, credentials, argument)

    def terms(self, credentials) -> str:
        from qwen_cli.cli.chat_terms import full_terms

        return full_terms(self.app, credentials)

    def telemetry(self, argument: str) -> str:
        from qwen_cli.cli.chat_terms import telemetry

        return telemetry(self.app, argument)

    def write_file(self, path: str, text: str) -> str:
        target = Path(path)
        if not target.is_absolute():
            target = Path(self.app.cwd) / target
        try:
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(text)
        except OSError as exc:
            raise UsageError(f"cannot write {target}: {exc.strerror}") from None
        return str(target)


def catalogue_models(credentials) -> list[str]:
    from qwen_cli import catalogue

    method = getattr(credentials, "method", None)
    found: list[str] = []
    if method == "coding-plan":
        found = list(catalogue.coding_plan().get("models", []))
    elif method == "qwen-oauth":
        found = [catalogue.qwen_oauth().get("model")]
    else:
        provider = catalogue.providers().get(getattr(credentials, "provider", ""))
        if provider and provider.default_model:
            found = [provider.default_model]
    current = getattr(credentials, "model", None)
    if current and current not in found:
        found.insert(0, current)
    return [m for m in found if m]


def render_answer(app, events, plain: bool):
    """Draw one answer with the renderer `qwen ask` uses: markdown on a terminal, plain in pipe mode."""
    from qwen_cli.renderers import render_answer as render

    return render(app, events, output_format="text", markdown=False if plain else None)

