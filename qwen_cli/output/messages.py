"""The words for events that more than one command reports, written once so `ask` and `chat` say the same.

Each function returns the text of one line; the caller picks nothing but the kind already named here
(`warn` or `notice`), so the same event also has the same prefix everywhere.
"""

from __future__ import annotations

# finish_reason values that mean the answer is incomplete: warned about (`out.warn`) after the answer.
_STOPPED = {
    "length": "the answer stopped at the token limit (finish_reason=length)",
    "content_filter": "the provider's content filter stopped the answer (finish_reason=content_filter)",
}


def stopped_early(finish_reason: str | None) -> str | None:
    """The warning for an answer the provider ended early, or None when it ended normally."""
    return _STOPPED.get(finish_reason or "")


def dropped_turns(count: int, max_chars: int) -> str:
    """A notice (`out.notice`): the context guard left the oldest turns out of the request."""
    turns = f"{count} turn{'s' if count != 1 else ''}"
    return f"dropped the oldest {turns} to stay under chat.max_context_chars ({max_chars}); the system prompt is kept"


def answer_cut() -> str:
    """A notice (`out.notice`): Ctrl-C stopped the answer in a chat, which goes on."""
    return "answer cut (Ctrl-C); the partial answer is kept in the conversation"
