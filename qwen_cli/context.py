"""The small object every command receives: streams, environment, cwd, flags and lazily loaded settings.

Tests replace any part of it; library code takes what it needs from it instead of reaching for globals.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from qwen_cli.auth.credentials import Credentials
    from qwen_cli.browser import Browser
    from qwen_cli.output import Output
    from qwen_cli.prompter import Prompter
    from qwen_cli.providers.events import Usage
    from qwen_cli.settings import Settings


@dataclass
class AppContext:
    """What one invocation shares: streams, environment, flags, secrets to mask; settings and output on first use."""

    stdin: IO[str] = field(default_factory=lambda: sys.stdin)
    stdout: IO[str] = field(default_factory=lambda: sys.stdout)
    stderr: IO[str] = field(default_factory=lambda: sys.stderr)
    env: Mapping[str, str] = field(default_factory=lambda: os.environ)
    cwd: Path = field(default_factory=Path.cwd)
    debug: bool = False
    no_color: bool = False
    output_format: str = "text"
    clock: Callable[[], float] = time.monotonic
    flags: dict[str, Any] = field(default_factory=dict)
    secrets: list[str] = field(default_factory=list)
    credentials: Credentials | None = None  # what this invocation resolved, if anything
    usage: Usage | None = None  # token usage of the answer, for usage statistics
    telemetry_session: str | None = None  # the usage-statistics session id, made on first use
    after_command: Callable[[list[str], int, BaseException | None], None] | None = None
    shown_once: set[str] = field(default_factory=set)  # lines printed at most once per invocation (terms)
    # The person at the terminal and the browser, injected so tests can script them (see __post_init__).
    prompter: Prompter = field(default=None)  # type: ignore[assignment]
    browser: Browser = field(default=None)  # type: ignore[assignment]
    _settings: Any = None
    _out: Any = None

    def __post_init__(self) -> None:
        if self.prompter is None:
            from qwen_cli.prompter import TerminalPrompter

            self.prompter = TerminalPrompter(self)
        if self.browser is None:
            from qwen_cli.browser import SystemBrowser

            self.browser = SystemBrowser(self.env)

    @staticmethod
    def _isatty(stream: IO[str]) -> bool:
        try:
            return stream.isatty()
        except (AttributeError, ValueError):
            return False

    @property
    def stdin_isatty(self) -> bool:
        return self._isatty(self.stdin)

    @property
    def stdout_isatty(self) -> bool:
        return self._isatty(self.stdout)

    @property
    def stderr_isatty(self) -> bool:
        return self._isatty(self.stderr)

    @property
    def interactive(self) -> bool:
        """True when a person can answer a prompt: stdin and stderr are terminals and we are not in CI."""
        return self.stdin_isatty and self.stderr_isatty and not self.env.get("CI")

    def color_for(self, stream: IO[str]) -> bool:
        """NO_COLOR and --no-color win; FORCE_COLOR forces; otherwise colour only on a terminal."""
        if self.no_color or self.env.get("NO_COLOR"):
            return False
        if self.env.get("FORCE_COLOR"):
            return True
        return self._isatty(stream) and self.env.get("TERM") != "dumb"

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            from qwen_cli import homecheck, paths
            from qwen_cli.settings import Settings

            # StrictModes first: nothing is read from (or written to) a home that others can change.
            for warning in homecheck.check(paths.qwen_home(self.env)):
                self.warn(warning)
            self._settings = Settings.load(env=self.env, cwd=self.cwd, flags=self.flags)
            for warning in self._settings.warnings:
                self.warn(warning)
        return self._settings

    def reload_settings(self) -> Settings:
        self._settings = None
        return self.settings

    @property
    def out(self) -> Output:
        """The one writer of terminal lines (see `qwen_cli.output`)."""
        if self._out is None:
            from qwen_cli.output import Output

            self._out = Output(self)
        return self._out

    def warn(self, message: str) -> None:
        self.out.warn(message)
