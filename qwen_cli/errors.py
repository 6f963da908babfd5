"""One exception family. Each class carries its exit code and a hint; nothing else decides exit codes."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    INTERNAL = 1
    USAGE = 2
    AUTH = 3
    REQUEST = 4
    SERVER = 5
    NETWORK = 6
    RATE_LIMIT = 7
    CONFIG = 8
    SCHEMA = 9
    HANGUP = 129
    INTERRUPTED = 130
    TERMINATED = 143


class QwenError(Exception):
    """An expected failure: printed as one line plus a hint, never as a traceback."""

    exit_code: ExitCode = ExitCode.INTERNAL
    kind = "error"

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint

    def to_dict(self) -> dict:
        return {"type": self.kind, "message": self.message, "hint": self.hint, "exit_code": int(self.exit_code)}


class UsageError(QwenError):
    exit_code = ExitCode.USAGE
    kind = "usage"


class AuthError(QwenError):
    exit_code = ExitCode.AUTH
    kind = "auth"


class RequestError(QwenError):
    exit_code = ExitCode.REQUEST
    kind = "request"


class ServerError(QwenError):
    exit_code = ExitCode.SERVER
    kind = "server"


class NetworkError(QwenError):
    exit_code = ExitCode.NETWORK
    kind = "network"


class RateLimitError(QwenError):
    exit_code = ExitCode.RATE_LIMIT
    kind = "rate_limit"


class QuotaError(RateLimitError):
    kind = "quota"


class ConfigError(QwenError):
    exit_code = ExitCode.CONFIG
    kind = "config"


class SchemaMismatch(QwenError):
    """The answer was not JSON of the shape `--schema` asked for. `raw` is the answer as it came, for -o json."""

    exit_code = ExitCode.SCHEMA
    kind = "schema"

    def __init__(self, message: str, hint: str | None = None, raw: str = ""):
        super().__init__(message, hint)
        self.raw = raw

    def to_dict(self) -> dict:
        return {**super().to_dict(), "raw": self.raw}


class Interrupted(QwenError):
    exit_code = ExitCode.INTERRUPTED
    kind = "interrupted"


_signalled: list[int] = []  # every SIGINT/SIGTERM/SIGHUP the handlers cli.main installs have seen


def class_of(kind: str) -> type[QwenError]:
    """The error class a `kind` names (the `type` of an error in `--each` and `batch results` lines)."""
    found: list[type[QwenError]] = [QwenError]
    while found:
        cls = found.pop()
        if cls.kind == kind:
            return cls
        found.extend(cls.__subclasses__())
    return QwenError


def note_signal(signum: int) -> None:
    _signalled.append(signum)


def raise_if_interrupted() -> None:
    """Raise KeyboardInterrupt if Ctrl-C was pressed. Python swallows the exception a signal handler raises
    while a weakref callback or a __del__ runs (it only prints "Exception ignored"), so a loop that waits
    (the device-flow polling) checks here too, or a Ctrl-C landing there would be lost."""
    import signal

    if signal.SIGINT in _signalled:
        raise KeyboardInterrupt


class Terminated(BaseException):
    """SIGTERM or SIGHUP, raised by the handler `cli.main` installs. Like KeyboardInterrupt it is not a
    QwenError, so nothing treats it as a failed turn: it unwinds `finally` blocks (the live display gives
    the cursor back, locks are removed) up to the boundary, which exits 128 + the signal number."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum

    @property
    def exit_code(self) -> ExitCode:
        return ExitCode(128 + self.signum)


EXIT_CODE_MEANINGS: dict[ExitCode, str] = {
    ExitCode.OK: "ok",
    ExitCode.INTERNAL: "internal error",
    ExitCode.USAGE: "usage",
    ExitCode.AUTH: "authentication missing or failed",
    ExitCode.REQUEST: "request rejected (4xx other than auth and 429)",
    ExitCode.SERVER: "server error after retries",
    ExitCode.NETWORK: "network, timeout or TLS",
    ExitCode.RATE_LIMIT: "rate limit or quota",
    ExitCode.CONFIG: "configuration error",
    ExitCode.SCHEMA: "answer did not match the schema (--schema)",
    ExitCode.HANGUP: "hung up (SIGHUP: the terminal closed)",
    ExitCode.INTERRUPTED: "interrupted",
    ExitCode.TERMINATED: "terminated (SIGTERM)",
}
