"""The conversation: the system prompt, every message (the transcript), the window sent to the model,
and the running statistics. The context guard lives here."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Stats:
    turns: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0
    cut: int = 0
    failed: int = 0

    def as_dict(self) -> dict:
        return {
            "turns": self.turns,
            "tokens_in": self.prompt_tokens,
            "tokens_out": self.completion_tokens,
            "seconds": round(self.seconds, 3),
            "cut": self.cut,
            "failed": self.failed,
        }


@dataclass
class Conversation:
    system: str | None = None
    # Every message ever exchanged: {"role", "content", "cut"}. The guard never touches it.
    transcript: list[dict] = field(default_factory=list)
    # Messages before this index are no longer sent (dropped by the context guard).
    window_start: int = 0
    stats: Stats = field(default_factory=Stats)

    def add_user(self, text: str) -> None:
        self.transcript.append({"role": "user", "content": text, "cut": False})

    def add_assistant(self, text: str, cut: bool = False) -> None:
        self.transcript.append({"role": "assistant", "content": text, "cut": cut})

    def retract_user(self) -> None:
        """Forget the last user message: it got no answer (the request failed)."""
        if self.transcript and self.transcript[-1]["role"] == "user":
            self.transcript.pop()
            self.window_start = min(self.window_start, len(self.transcript))

    def clear(self) -> None:
        self.transcript.clear()
        self.window_start = 0
        self.stats = Stats()

    @property
    def window(self) -> list[dict]:
        return self.transcript[self.window_start :]

    def request_messages(self) -> list[dict]:
        """What the next request carries: the system prompt, then the window, as plain role/content."""
        out = [{"role": "system", "content": self.system}] if self.system else []
        for m in self.window:
            if m["content"] or m["role"] == "user":  # an answer cut before its first token carries nothing
                out.append({"role": m["role"], "content": m["content"]})
        return out

    def size(self) -> int:
        return sum(len(m["content"]) for m in self.request_messages())

    def guard(self, max_chars: int) -> int:
        """Drop the oldest turns until the request fits in `max_chars`; returns how many turns were dropped.

        A turn is a user message and the answers after it. The system prompt and the newest user
        message are always kept, even if they alone are too big: the provider will say so.
        """
        dropped = 0
        if not max_chars:
            return 0
        while self.size() > max_chars:
            starts = [i for i in range(self.window_start, len(self.transcript)) if self.transcript[i]["role"] == "user"]
            if len(starts) < 2:
                break
            self.window_start = starts[1]
            dropped += 1
        return dropped


def to_markdown(conversation: Conversation, title: str) -> str:
    """The whole transcript as markdown, for /save."""
    lines = [f"# {title}", ""]
    if conversation.system:
        lines += ["## System", "", conversation.system, ""]
    for message in conversation.transcript:
        heading = "You" if message["role"] == "user" else "Assistant"
        lines += [f"## {heading}", "", message["content"]]
        if message.get("cut"):
            lines += ["", "*(answer cut short)*"]
        lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"
