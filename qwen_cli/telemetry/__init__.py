"""Optional usage statistics: decision, allowlisted events, local spool and OTLP export.

Submodules:
  policy    whether statistics are collected for this invocation, and which rule decided
  events    the typed allowlist; anything else is rejected when an event is recorded
  spool     $QWEN_HOME/telemetry/queue.jsonl (0600, bounded) and the locks around it
  exporter  OTLP/HTTP JSON logs to a configured endpoint, rate limited, never delaying a command
  hook      the after-command hook that ties them together

The hook is installed by qwen_cli.cli.main.install_statistics_hook, which imports this package only after
a command has run, and only when statistics may apply to the method it used.
"""

# Public API, by submodule: the submodules listed above.
__all__ = ["control", "events", "exporter", "hook", "policy", "spool"]
