"""The face: Click commands only. Everything below `qwen_cli.cli` is a plain library."""

# Public API, by submodule: main (the console entry point), root (the click group).
__all__ = ["main", "root"]
