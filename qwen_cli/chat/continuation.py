"""`qwen ask -c`: one more turn on the newest chat session, so pipelines can hold a conversation."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from qwen_cli.chat.conversation import Conversation
from qwen_cli.chat.session_store import SessionFile, SessionStore, last_of, recorded_auth, replay
from qwen_cli.errors import QwenError
from qwen_cli.output import messages

if TYPE_CHECKING:
    from qwen_cli.auth.credentials import Credentials
    from qwen_cli.output import Output


class Continuation:
    def __init__(self, store: SessionStore, session_id: str | None, conversation: Conversation, out: Output) -> None:
        self.store = store
        self.session_id = session_id
        self.conversation = conversation
        self.out = out
        self.auth: dict[str, Any] = {}  # the method, provider and model the session last used (see recorded_auth)
        self._system_changed = False

    @classmethod
    def newest(cls, home: Path, out: Output) -> Continuation:
        """The newest session, or a new one (created when the turn is recorded) if there is none."""
        store = SessionStore(home)
        session_id = store.newest_id()
        conversation = Conversation()
        continuation = cls(store, session_id, conversation, out)
        if session_id is not None:
            loaded = store.load(session_id)
            for warning in loaded.warnings:
                out.warn(warning)
            conversation.transcript = replay(loaded.records)
            conversation.system = last_of(loaded.records, "system", "content") or None
            continuation.auth = recorded_auth(loaded)
        return continuation

    def check_writable(self) -> None:
        """ConfigError (exit 8) now, before any request, when the turn could not be recorded."""
        self.store.check_writable(self.session_id)

    def messages(self, user_text: str, system: str | None, max_chars: int) -> list[dict[str, Any]]:
        """The request: the session's system prompt (or `system`, which replaces it), the history, the turn."""
        if system and system != self.conversation.system:
            self.conversation.system = system
            self._system_changed = True
        self.conversation.add_user(user_text)
        dropped = self.conversation.guard(max_chars)
        if dropped:
            self.out.notice(messages.dropped_turns(dropped, max_chars))
        return self.conversation.request_messages()

    def record(
        self, credentials: Credentials, user_text: str, text: str, cut: bool, error: BaseException | None
    ) -> str | None:
        """Append the turn to the session. A request that failed before any text adds nothing."""
        if isinstance(error, QwenError) and not text:
            return None
        if self.session_id is None:
            file = self.store.create(credentials.method, credentials.provider, credentials.model)
        else:
            file = SessionFile(self.store.path_for(self.session_id))
        try:
            auth = {"method": credentials.method, "provider": credentials.provider, "model": credentials.model}
            if (
                self.session_id is not None
                and self.auth.get("method")
                and ((auth["method"], auth["provider"]) != (self.auth.get("method"), self.auth.get("provider")))
            ):
                file.append({"type": "auth", **auth})  # answered with another method: say so (no secret)
            if self._system_changed or (self.session_id is None and self.conversation.system):
                file.append({"type": "system", "content": self.conversation.system or ""})
            file.append({"type": "message", "role": "user", "content": user_text})
            answer: dict[str, Any] = {"type": "message", "role": "assistant", "content": text}
            if cut:
                answer["cut"] = True
            file.append(answer)
        finally:
            file.close()
        return file.id
