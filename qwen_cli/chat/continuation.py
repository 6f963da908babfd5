"""`qwen ask -c`: one more turn on the newest chat session, so pipelines can hold a conversation."""

from __future__ import annotations

from collections.abc import Callable

from qwen_cli.chat.conversation import Conversation
from qwen_cli.chat.session_store import SessionFile, SessionStore, last_of, recorded_auth, replay
from qwen_cli.errors import QwenError


class Continuation:
    def __init__(self, store: SessionStore, session_id: str | None, conversation: Conversation, warn: Callable):
        self.store = store
        self.session_id = session_id
        self.conversation = conversation
        self.warn = warn
        self.auth: dict = {}  # the method, provider and model the session last used (see recorded_auth)
        self._system_changed = False

    @classmethod
    def newest(cls, home, warn: Callable[[str], None]) -> Continuation:
        """The newest session, or a new one (created when the turn is recorded) if there is none."""
        store = SessionStore(home)
        session_id = store.newest_id()
        conversation = Conversation()
        if session_id is not None:
            loaded = store.load(session_id)
            for warning in loaded.warnings:
                warn(warning)
            conversation.transcript = replay(loaded.records)
            conversation.system = last_of(loaded.records, "system", "content") or None
        continuation = cls(store, session_id, conversation, warn)
        if session_id is not None:
            continuation.auth = recorded_auth(loaded)
        return continuation

    def check_writable(self) -> None:
        """ConfigError (exit 8) now, before any request, when the turn could not be recorded."""
        self.store.check_writable(self.session_id)

    def messages(self, user_text: str, system: str | None, max_chars: int) -> list[dict]:
        """The request: the session's system prompt (or `system`, which replaces it), the history, the turn."""
        if system and system != self.conversation.system:
            self.conversation.system = system
            self._system_changed = True
        self.conversation.add_user(user_text)
        dropped = self.conversation.guard(max_chars)
        if dropped:
            self.warn(
                f"dropped the oldest {dropped} turn{'s' if dropped != 1 else ''} of the session to stay under "
                f"chat.max_context_chars ({max_chars}); the system prompt is kept"
            )
        return self.conversation.request_messages()

    def record(self, credentials, user_text: str, text: str, cut: bool, error: BaseException | None) -> str | None:
        """Append the turn to the session. A request that failed before any text adds nothing."""
        if isinstance(error, QwenError) and not text:
            return None
        if self.session_id is None:
            file = self.store.create(
                getattr(credentials, "method", None),
                getattr(credentials, "provider", None),
                getattr(credentials, "model", None),
            )
        else:
            file = SessionFile(self.store.path_for(self.session_id))
        try:
            auth = {key: getattr(credentials, key, None) for key in ("method", "provider", "model")}
            if self.session_id is not None and self.auth.get("method") and (
                (auth["method"], auth["provider"]) != (self.auth.get("method"), self.auth.get("provider"))
            ):
                file.append({"type": "auth", **auth})  # answered with another method: say so (no secret)
            if self._system_changed or (self.session_id is None and self.conversation.system):
                file.append({"type": "system", "content": self.conversation.system or ""})
            file.append({"type": "message", "role": "user", "content": user_text})
            answer = {"type": "message", "role": "assistant", "content": text}
            if cut:
                answer["cut"] = True
            file.append(answer)
        finally:
            file.close()
        return file.id
