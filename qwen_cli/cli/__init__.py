"""The face: Click commands only. Everything below `qwen_cli.cli` is a plain library."""
