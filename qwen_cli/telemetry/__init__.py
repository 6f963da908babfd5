"""Optional usage statistics: decision, allowlisted events, local spool and OTLP export.

Submodules:
  policy    whether statistics are collected for this invocation, and which rule decided
  events    the typed allowlist; anything else is rejected when an event is recorded
  spool     $QWEN_HOME/telemetry/queue.jsonl (0600, bounded) and the locks around it
  exporter  OTLP/HTTP JSON logs to a configured endpoint, rate limited, never delaying a command
  hook      the after-command hook that ties them together

This module imports nothing: `qwen --version` and `qwen --help` must stay cheap.
"""

from __future__ import annotations


def install(app) -> None:
    """Set `app.after_command` so each invocation may record one allowlisted event.

    The hook itself imports the rest of the package only after the command has run, and returns at
    once when an environment opt-out is set.
    """
    started = app.clock()

    def after_command(args, code, error):
        from qwen_cli.telemetry.hook import after_command as record

        record(app, args, code, error, started=started)

    app.after_command = after_command
