"""The chat session as a plain library: persistence, the conversation window, slash commands and the REPL loop.

Nothing here imports click or rich; the command in `qwen_cli.cli.chat` injects the adapter, renderer and
interactive pieces.
"""
