"""The after-command hook: decide, maybe show the one-time notice, record one event, maybe export.

From the AppContext it reads `credentials` (method, provider, model the command resolved, if any) and
`usage` (token counts of the command's request); each invocation gets a fresh session id.
"""

from __future__ import annotations

import sys
import time
import uuid
from typing import TYPE_CHECKING

from qwen_cli.telemetry import policy

if TYPE_CHECKING:
    from qwen_cli.context import AppContext
    from qwen_cli.settings import Settings

NOT_RECORDED = ("telemetry",)  # managing statistics is not itself a statistic


def after_command(app: AppContext, args: list[str], code: int, error: BaseException | None, started: float) -> None:
    if policy.quick_env_off(app.env):
        return
    command, subcommand = classify(args)
    if command in NOT_RECORDED:
        return
    settings = _settings(app)
    method, method_source = policy.invocation_method(app, settings)
    decision = policy.decide(settings, method, method_source)
    if not decision.enabled:
        return

    from qwen_cli.telemetry import spool

    home = settings.home
    if not spool.notice_shown(home):
        # The first run that would be collected shows what is collected and how to opt out, and
        # records nothing: the user can say no before a single event exists.
        _write(app.stderr, notice_text())
        spool.mark_notice_shown(home)
        return

    event = build_event(app, settings, method, command, subcommand, code, error, started)
    spool.append(home, event)
    if decision.endpoint:
        from qwen_cli.telemetry import exporter

        if exporter.claim(home):
            exporter.spawn_background(app.env, app.cwd)


def _settings(app: AppContext) -> Settings:
    if app._settings is not None:  # already loaded by the command (with its warnings shown)
        return app._settings
    from qwen_cli import homecheck, paths
    from qwen_cli.settings import Settings

    homecheck.refuse_unsafe(paths.qwen_home(app.env))  # no statistics written into a home others can change
    # Loaded quietly: warnings about the config belong to the command, not to the statistics hook.
    return Settings.load(env=app.env, cwd=app.cwd, flags=app.flags)


def classify(args: list[str]) -> tuple[str, str | None]:
    """(command, subcommand) from argv, using only names the CLI defines; user text never gets through.

    "none" when no command was given, "unknown" for a word that is not a command.
    """
    words = [a for a in args if not a.startswith("-")]
    if not words:
        return "none", None
    from qwen_cli.cli.root import COMMANDS as table  # cli.main.run imported it before any command ran

    if words[0] not in table:
        return "unknown", None
    command = words[0]
    subcommands = _subcommands(table[command])
    if subcommands and len(words) > 1 and words[1] in subcommands:
        return command, words[1]
    return command, None


def _subcommands(entry) -> set[str]:
    """Names of a group's subcommands, if the group's module is already loaded (it ran)."""
    try:
        module_name, attr = entry.split(":")
    except (AttributeError, ValueError):
        return set()
    group = getattr(sys.modules.get(module_name), attr, None)
    commands = getattr(group, "commands", None)
    return set(commands) if isinstance(commands, dict) else set()


def build_event(app: AppContext, settings: Settings, method, command, subcommand, code, error, started) -> dict:
    from qwen_cli import __version__
    from qwen_cli.telemetry import events, spool

    creds = app.credentials
    model = creds.model if creds is not None else settings.get("general.model")
    crashed = int(code) == 1 and error is not None
    try:
        elapsed = max(0, int((app.clock() - started) * 1000))
    except Exception:  # noqa: BLE001 - a replaced clock must not break the hook
        elapsed = 0
    event = {
        "event": "crash" if crashed else "command",
        "ts": int(time.time()),
        "command": command,
        "subcommand": subcommand,
        "auth_method": method,
        "provider": events.provider_id(creds.provider if creds is not None else None, method),
        "model": events.model_id(model),
        "duration_ms": min(elapsed, 10**9),
        "exit_code": max(0, min(int(code), 255)),
        "error_class": events.error_class(error) if int(code) != 0 else None,
        "crash_frames": events.crash_frames(error) if crashed else None,
        "cli_version": __version__,
        "python_version": events.python_version(),
        "os_family": events.os_family(),
        "installation_id": spool.installation_id(settings.home),
        "session_id": _session_id(app),
    }
    event.update(events.token_counts(app.usage))
    return events.validate(event)


def _session_id(app: AppContext) -> str:
    if app.telemetry_session is None:
        app.telemetry_session = uuid.uuid4().hex
    return app.telemetry_session


def notice_text() -> str:
    from qwen_cli import terms

    return terms.statistics_notice() + "\n"


def _write(stream, text: str) -> None:
    try:
        stream.write(text)
        stream.flush()
    except (OSError, ValueError):
        pass
