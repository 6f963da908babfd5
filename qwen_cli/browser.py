"""Whether a browser can be opened here, and opening one: one decision for `qwen auth login` (the device
code page) and `qwen terms show --open`.

A browser is usable only where one can actually appear in front of the person: not with --no-browser, not
over SSH, not in CI, and on Linux only with a display. `$BROWSER` names the command when set (the first of
its `:`-separated entries, `%s` replaced by the URL); otherwise `open` (macOS), `xdg-open` (Linux) or the
Windows shell. A console browser never takes over the terminal: without a display nothing is started.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from typing import Protocol

__all__ = ["Browser", "SystemBrowser", "command_for", "usable"]


class Browser(Protocol):
    def usable(self) -> bool: ...

    def open(self, url: str) -> bool: ...


def usable(env: Mapping[str, str], no_browser: bool = False, platform: str | None = None) -> bool:
    platform = sys.platform if platform is None else platform
    if no_browser or env.get("SSH_CONNECTION") or env.get("SSH_TTY") or env.get("SSH_CLIENT") or env.get("CI"):
        return False
    if platform in ("darwin", "win32", "cygwin"):
        return True
    return bool(env.get("DISPLAY") or env.get("WAYLAND_DISPLAY"))


def command_for(url: str, env: Mapping[str, str], platform: str | None = None) -> list[str] | None:
    """The command that opens `url`, or None when there is none to start (no opener installed)."""
    platform = sys.platform if platform is None else platform
    browser = env.get("BROWSER")
    if browser:
        command = [part.replace("%s", url) for part in browser.split(":")[0].split()]
        return command if any(url in part for part in command) else [*command, url]
    if platform in ("win32", "cygwin"):
        return ["rundll32", "url.dll,FileProtocolHandler", url]
    import shutil

    found = shutil.which("open" if platform == "darwin" else "xdg-open", path=env.get("PATH"))
    return [found, url] if found else None


class SystemBrowser:
    """The real one: starts the browser detached, its output thrown away, without waiting for it."""

    def __init__(self, env: Mapping[str, str], no_browser: bool = False) -> None:
        self.env = env
        self.no_browser = no_browser

    def usable(self) -> bool:
        return usable(self.env, self.no_browser)

    def open(self, url: str) -> bool:
        """False when no browser could be started (not usable here, or the command failed to start)."""
        if not self.usable():
            return False
        if sys.platform == "win32" and not self.env.get("BROWSER"):
            try:
                os.startfile(url)  # type: ignore[attr-defined,unused-ignore]
                return True
            except OSError:
                return False
        command = command_for(url, self.env)
        if command is None:
            return False
        import subprocess

        try:
            subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
                env=dict(self.env),
            )
        except OSError:
            return False
        return True
