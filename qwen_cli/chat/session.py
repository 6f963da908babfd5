"""One chat session: sends turns, records them, keeps the conversation, survives failed and cut answers.

Everything that talks to the outside world comes in through a `host` (see `qwen_cli.chat.host`), so this
module has no idea about click, rich, terminals or HTTP. The CLI supplies the real one.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qwen_cli.chat.conversation import Conversation
from qwen_cli.chat.session_store import SessionFile, SessionStore
from qwen_cli.errors import QwenError, Terminated
from qwen_cli.output import messages
from qwen_cli.providers.events import Event, Finish, TextDelta, Usage

if TYPE_CHECKING:
    from qwen_cli.auth.credentials import Credentials
    from qwen_cli.chat.host import Host


class Collector:
    """Passes events through to the renderer while keeping the text and usage, so a cut answer
    still has everything that arrived before Ctrl-C."""

    def __init__(self, events: Iterable[Event]) -> None:
        self._events = events
        self.parts: list[str] = []
        self.usage: Usage | None = None
        self.finish: Finish | None = None

    def __iter__(self) -> Iterator[Event]:
        for event in self._events:
            if isinstance(event, TextDelta):
                self.parts.append(event.text)
            elif isinstance(event, Usage):
                self.usage = event
            elif isinstance(event, Finish):
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
    usage: Usage | None = None
    seconds: float = 0.0


class ChatSession:
    def __init__(
        self,
        host: Host,
        credentials: Credentials,
        store: SessionStore,
        max_context_chars: int = 0,
        conversation: Conversation | None = None,
        session_file: SessionFile | None = None,
        clock: Callable[[], float] = time.monotonic,
        workdir: Path | None = None,
    ) -> None:
        self.host = host
        self.credentials = credentials
        self.workdir = workdir or Path.cwd()  # where /save puts a relative path
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
        return self.store.create(c.method, c.provider, c.model)

    def _record(self, record: dict[str, Any]) -> None:
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
        self.credentials = dataclasses.replace(self.credentials, model=model, model_source="/model")
        if self._started:
            self._record({"type": "model", "model": model})
        else:
            self.file.update_meta(model=model)

    def set_credentials(self, credentials: Credentials) -> None:
        """Another auth method (after /auth). Its method, provider and model are recorded (never the token),
        so resuming the session uses it again."""
        old, self.credentials = self.credentials, credentials
        auth = _auth_record(credentials)
        if self._started:
            if auth != _auth_record(old):
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
        out = self.host.out
        if dropped:
            out.notice(messages.dropped_turns(dropped, self.max_context_chars))
        started = self.clock()
        collector = None
        cut = False
        failure: BaseException | None = None
        ending = None
        try:
            collector = Collector(self.host.provider.stream(self.credentials, conversation.request_messages()))
            result = out.render(collector, output_format="text")
            cut, failure = result.cut, result.error
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
        self.credentials = self.host.provider.current(self.credentials)
        usage = collector.usage if collector is not None else None
        conversation.add_assistant(answer, cut=cut)
        record: dict[str, Any] = {"type": "message", "role": "assistant", "content": answer, "time": time.time()}
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
            out.notice(messages.answer_cut())
        else:
            stopped = messages.stopped_early(collector.finish.reason if collector and collector.finish else None)
            if stopped:
                out.warn(stopped)
        return Turn(answer, cut, usage, seconds)


def _auth_record(credentials: Credentials) -> dict[str, str | None]:
    """What a session file keeps of the credentials (never the token)."""
    return {"method": credentials.method, "provider": credentials.provider, "model": credentials.model}
