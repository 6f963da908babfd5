"""The local usage ledger behind `qwen usage`: one record per request in $QWEN_HOME/usage.jsonl, read back
into totals, Coding Plan windows and cost estimates. Nothing here sends anything anywhere.

ledger.py   the file: append (locked, rotated), read (validated), clear; whether it is on; its clock
hook.py     the one place requests are recorded: a pass-through around the adapter's event stream
windows.py  the Coding Plan's 5-hour, weekly and monthly windows against the plan's caps
report.py   totals by model, provider or day, prices, and the lines `usage`, `auth status` and /stats print
"""

# Public API, by submodule: the submodules listed above.
__all__ = ["hook", "ledger", "report", "windows"]
