"""The chat session as a plain library: persistence, the conversation window, slash commands and the REPL loop.

Nothing here imports click or rich; the command in `qwen_cli.cli.chat` injects the adapter, renderer and
interactive pieces.
"""

# Public API, by submodule: session (ChatSession), conversation, session_store, slash, repl.
__all__ = ["conversation", "repl", "session", "session_store", "slash"]
