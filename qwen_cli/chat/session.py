"""One chat session: sends turns, records them, keeps the conversation, survives failed and cut answers.

Everything that talks to the outside world comes in through a `host` (see `Host`), so this module has
no idea about click, rich, terminals or HTTP. The CLI supplies the real one.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Protocol

from qwen_cli.chat.conversation import Conversation
from qwen_cli.chat.session_store import SessionFile, SessionStore
from qwen_cli.errors import QwenError, Terminated


class Host(Protocol):
    interactive: bool  # a person is at a terminal (pickers and prompts allowed)

    def notice(self, text: str) -> None: ...  # a line on stderr
    def error(self, error: QwenError) -> None: ...  # the one-line error and hint, session goes on
    def stream(self, credentials, messages: list[dict]) -> Iterable[Any]: ...  # provider events
    def render(self, events: Iterable[Any]) -> Any: ...  # draws the answer; may return an object with .cut
    def ask(self, prompt: str) -> str: ...  # one line from the person at the terminal ("" on Ctrl-D)
    def list_models(self, credentials) -> list[str]: ...
    def check_model(self, credentials, name: str) -> str: ...  # raises UsageError if not offered; else a note
    def choose(self, title: str, options: list[str], current: str | None = None) -> str | None: ...
    def auth(self, credentials, argument: str) -> Any: ...  # new Credentials, or None when nothing changed
    def terms(self, credentials) -> str: ...
    def telemetry(self, argument: str) -> str: ...
    def write_file(self, path: str, text: str) -> str: ...  # returns the path written
    def current(self, credentials) -> Any: ...  # the same credentials, refreshed if the adapter had to


class Collector:
    """Passes events through to the renderer while keeping the text and usage, so a cut answer
    still has everything that arrived before Ctrl-C."""

    def __init__(self, events: Iterable[Any]):
        self._events = events
        self.parts: list[str] = []
        self.usage = None
        self.finish = None

    def __iter__(self) -> Iterator[Any]:
        for event in self._events:
            kind = type(event).__name__
            if kind == "TextDelta":
                self.parts.append(event.text)
            elif kind == "Usage":
                self.usage = event
            elif kind == "Finish":
                self.finish = event
            yield event

    @property
    def text(self) -> str:
        return "".join(self.parts)

    def close(self) -> None:
        close = getattr(self._events, "close", None)
        if close is not None:
            try:
                close()
            except Exception:  # noqa: BLE001 - closing a half-read stream must not hide the interrupt
                pass


@dataclasses.dataclass
class Turn:
    text: str
    cut: bool
    usage: Any = None
    seconds: float = 0.0


class ChatSession:
    def __init__(
        self,
        host: Host,
        credentials,
        store: SessionStore,
        max_context_chars: int = 0,
        conversation: Conversation | None = None,
        session_file: SessionFile | None = None,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.host = host
        self.credentials = credentials
        self.store = store
        self.max_context_chars = max_context_chars
        self.conversation = conversation or Conversation()
        self.clock = clock
        self.file = session_file or self._new_file()
        self._started = session_file is not None and session_file.exists

    # -- state changes, each recorded in the session file
    @property
    def id(self) -> str:
        return self.file.id

    @property
    def saved(self) -> bool:
        """True once something was recorded in the session file (an empty chat leaves no file)."""
        return self._started

    def _new_file(self) -> SessionFile:
        c = self.credentials
        return self.store.create(getattr(c, "method", None), getattr(c, "provider", None), getattr(c, "model", None))

    def _record(self, record: dict) -> None:
        if not self._started:
            self._started = True
            if self.conversation.system and record.get("type") != "system":
                self.file.append({"type": "system", "content": self.conversation.system})
        self.file.append(record)

    def set_system(self, text: str | None) -> None:
        self.conversation.system = text or None
        if self._started:  # else it is written before the first message: a file always holds a message
            self._record({"type": "system", "content": text or ""})

    def set_model(self, model: str) -> None:
        self.credentials = dataclasses.replace(self.credentials, model=model)
        if self._started:
            self._record({"type": "model", "model": model})
        else:
            self.file.update_meta(model=model)

    def set_credentials(self, credentials) -> None:
        """Another auth method (after /auth). Its method, provider and model are recorded (never the token),
        so resuming the session uses it again."""
        old, self.credentials = self.credentials, credentials
        auth = {key: getattr(credentials, key, None) for key in ("method", "provider", "model")}
        if self._started:
            if auth != {key: getattr(old, key, None) for key in auth}:
                self._record({"type": "auth", **auth})
        else:
            self.file.update_meta(**auth)

    def clear(self) -> None:
        """A fresh conversation in a new session file; the old one stays on disk, resumable."""
        self.file.close()
        self.conversation.clear()
        self.file = self._new_file()
        self._started = False

    def close(self) -> None:
        self.file.close()

    def _discard(self) -> None:
        """Remove a session file that holds only a failed first question: no empty sessions in `--list`.
        The next message starts a new file (the system prompt and model are still in memory)."""
        self.file.close()
        try:
            self.file.path.unlink()
        except OSError:
            pass
        self.file = self._new_file()
        self._started = False

    # -- a turn
    def send(self, text: str) -> Turn:
        """Ask, stream, record. Ctrl-C cuts the answer (kept, marked as cut); a QwenError forgets the
        question and propagates, so the caller decides whether the session goes on. SIGTERM/SIGHUP cut it
        like Ctrl-C, then propagate: the session ends."""
        conversation = self.conversation
        conversation.add_user(text)
        first = not self._started
        self._record({"type": "message", "role": "user", "content": text, "time": time.time()})
        dropped = conversation.guard(self.max_context_chars)
        if dropped:
            self.host.notice(
                f"Notice: dropped the oldest {dropped} turn{'s' if dropped != 1 else ''} to stay under "
                f"chat.max_context_chars ({self.max_context_chars}); the system prompt is kept."
            )
        started = self.clock()
        collector = None
        cut = False
        failure = None
        ending = None
        try:
            collector = Collector(self.host.stream(self.credentials, conversation.request_messages()))
            result = self.host.render(collector)
            cut = bool(getattr(result, "cut", False))
            failure = getattr(result, "error", None)
        except KeyboardInterrupt:
            cut = True
        except Terminated as stop:
            cut, ending = True, stop
        except QwenError as error:
            failure = error
        finally:
            if collector is not None:
                collector.close()
        answer = collector.text if collector is not None else ""
        if isinstance(failure, QwenError) and not answer:
            conversation.retract_user()
            conversation.stats.failed += 1
            if first:
                self._discard()
            else:
                self._record({"type": "failed"})
            raise failure
        seconds = self.clock() - started
        self.credentials = self.host.current(self.credentials)
        usage = collector.usage if collector is not None else None
        conversation.add_assistant(answer, cut=cut)
        record = {"type": "message", "role": "assistant", "content": answer, "time": time.time()}
        if cut:
            record["cut"] = True
        self._record(record)
        stats = conversation.stats
        stats.turns += 1
        stats.seconds += seconds
        stats.cut += int(cut)
        if usage is not None:
            stats.prompt_tokens += usage.prompt_tokens or 0
            stats.completion_tokens += usage.completion_tokens or 0
        if ending is not None:
            raise ending
        if isinstance(failure, QwenError):
            raise failure  # the partial answer is kept, marked as cut
        if cut:
            self.host.notice("[answer cut: Ctrl-C] The partial answer is kept in the conversation.")
        elif collector.finish is not None and collector.finish.reason == "length":
            self.host.notice("Notice: the answer stopped at the provider's token limit (finish_reason=length).")
        return Turn(answer, cut, usage, seconds)
