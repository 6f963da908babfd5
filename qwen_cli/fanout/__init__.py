"""`qwen ask --each`: one request per input line, several in flight, one JSON line per input in input order.

inputs.py reads the lines and fills the prompt for each (checked for every line before anything is sent);
gate.py is what the workers share (one pace after a 429, one OAuth refresh); run.py is the pool; lines.py the
output line format and severity.py which failure decides the exit code; progress.py the bar on a terminal;
each.py puts them together for the command.
"""

# Public API, by submodule: the submodules listed above.
__all__ = ["each", "gate", "inputs", "lines", "progress", "resume", "run", "severity"]
