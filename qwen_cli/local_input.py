"""Bounded reads of local prompt input: `-f` files and stdin together stop at `input.max_bytes`.

Input is read in chunks and never past the cap plus one byte, so `qwen ask < /dev/zero` fails at once with
bounded memory. `-f` takes regular files only: it opens with O_NONBLOCK and checks what it opened, so a
FIFO without a writer never hangs and a device is refused. `-f -` reads stdin.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from typing import IO

from qwen_cli.errors import UsageError

CHUNK = 64 * 1024
SETTING = "input.max_bytes"
STDIN = "-"


class Budget:
    """The bytes still allowed from all of one command's inputs."""

    def __init__(self, cap: int):
        self.cap = cap
        self.used = 0

    @property
    def left(self) -> int:
        return self.cap - self.used

    def take(self, n: int, where: str) -> None:
        self.used += n
        if self.used > self.cap:
            raise too_large(where, self.cap)


def too_large(where: str, cap: int) -> UsageError:
    return UsageError(
        f"{where}: the input is larger than {SETTING} ({cap} bytes, stdin and -f files together)",
        hint=f"Send less, or raise the cap: qwen config set {SETTING} BYTES (QWEN_INPUT_MAX_BYTES=BYTES for one run).",
    )


def read_stream(stream: IO, budget: Budget, where: str = "stdin") -> bytes:
    """Everything on a binary (or, in tests, text) stream, up to the budget."""
    parts: list[bytes] = []
    while True:
        chunk = stream.read(min(CHUNK, budget.left + 1))
        if not chunk:
            break
        if isinstance(chunk, str):
            chunk = chunk.encode("utf-8", "surrogateescape")
        budget.take(len(chunk), where)
        parts.append(chunk)
    return b"".join(parts)


_KINDS = (
    (stat.S_ISDIR, "is a directory", "Attach files one by one with -f."),
    (stat.S_ISFIFO, "is a named pipe (FIFO), not a regular file", None),
    (stat.S_ISCHR, "is a character device, not a regular file", None),
    (stat.S_ISBLK, "is a block device, not a regular file", None),
    (stat.S_ISSOCK, "is a socket, not a regular file", None),
)
NOT_REGULAR_HINT = "-f reads regular files only; send anything else on stdin: cmd | qwen ask ... (or -f - for stdin)."


def read_file(path: str, budget: Budget) -> bytes:
    """A regular file's bytes, up to the budget. Anything else is a UsageError naming what it is."""
    where = f"-f {path}"
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(os.path.expanduser(path), flags)
    except FileNotFoundError:
        raise UsageError(f"{where}: no such file", hint="Check the path.") from None
    except OSError as exc:  # a socket can't be opened at all: say what it is when we can
        _refuse_if_special(where, path)
        raise UsageError(f"{where}: {exc.strerror or exc}") from None
    try:
        info = os.fstat(fd)
        _refuse_mode(where, info.st_mode)
        if info.st_size > budget.left:  # known too big: fail without reading it
            raise too_large(where, budget.cap)
        parts: list[bytes] = []
        while True:
            try:
                chunk = os.read(fd, min(CHUNK, budget.left + 1))
            except OSError as exc:
                raise UsageError(f"{where}: {exc.strerror or exc}") from None
            if not chunk:
                break
            budget.take(len(chunk), where)
            parts.append(chunk)
        return b"".join(parts)
    finally:
        os.close(fd)


def _refuse_mode(where: str, mode: int) -> None:
    for test, what, hint in _KINDS:
        if test(mode):
            raise UsageError(f"{where} {what}", hint=hint or NOT_REGULAR_HINT)
    if not stat.S_ISREG(mode):
        raise UsageError(f"{where} is not a regular file", hint=NOT_REGULAR_HINT)


def _refuse_if_special(where: str, path: str) -> None:
    try:
        mode = os.stat(os.path.expanduser(path)).st_mode
    except OSError:
        return
    _refuse_mode(where, mode)


def capped_lines(stream: IO[str], cap: int) -> Iterator[str]:
    """Lines of a text stream, each at most `cap` characters: `qwen chat < /dev/zero` stops at once."""
    while True:
        line = stream.readline(cap + 1)
        if not line:
            return
        if len(line) > cap and not line.endswith("\n"):
            raise UsageError(
                f"a line on stdin is longer than {SETTING} ({cap})",
                hint=f"Send shorter lines, or raise the cap: qwen config set {SETTING} BYTES.",
            )
        yield line
