"""`qwen ask -a PATH|URL|-`: images for vision models, as OpenAI `image_url` content parts.

A local image (or stdin) is sent inline as a data URL; its type comes from its first bytes, never from its
name, and only png, jpeg, webp and gif are taken. A URL is passed on as it is, https only: the provider fetches
it, and a plain http URL would let anyone on the path swap the picture. Local images are capped at
`input.max_image_bytes` before anything is sent.
"""

from __future__ import annotations

import base64
import os
import stat
from dataclasses import dataclass
from typing import IO, Any

from qwen_cli.errors import UsageError

SETTING = "input.max_image_bytes"
STDIN = "-"
_CHUNK = 64 * 1024
KINDS = "png, jpeg, webp or gif"


@dataclass(frozen=True)
class Attachment:
    url: str  # a data: URL or the https URL given
    where: str  # how the user named it, for messages

    def part(self) -> dict[str, Any]:
        return {"type": "image_url", "image_url": {"url": self.url}}


def image_type(data: bytes) -> str | None:
    """The MIME type of a png, jpeg, webp or gif from its magic bytes; None for anything else."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    return None


def load(value: str, cap: int, stdin: IO | None = None) -> Attachment:
    """The attachment `-a VALUE` names. Raises UsageError for a missing, unknown, too big or http:// one."""
    lowered = value.lower()
    if lowered.startswith("https://"):
        return Attachment(value, value)
    if lowered.startswith(("http://", "data:", "file:", "ftp://")):
        raise UsageError(
            f"-a {value.split('?')[0][:80]}: only https:// URLs are passed on",
            hint="Download it and attach the file (-a PATH), or give its https:// URL.",
        )
    where = "stdin" if value == STDIN else value
    data = _read_stdin(stdin, cap) if value == STDIN else _read_file(value, cap)
    kind = image_type(data)
    if kind is None:
        raise UsageError(
            f"-a {where}: not a {KINDS} image (checked by its content, not its name)",
            hint="Attach text files with -f instead; convert other images to png or jpeg first.",
        )
    return Attachment(f"data:{kind};base64,{base64.b64encode(data).decode('ascii')}", where)


def with_images(user_text: str, attachments: list[Attachment]) -> str | list[dict[str, Any]]:
    """The user message's content: the text alone, or the text then the images as content parts."""
    if not attachments:
        return user_text
    return [{"type": "text", "text": user_text}, *(a.part() for a in attachments)]


def too_large(where: str, cap: int) -> UsageError:
    return UsageError(
        f"-a {where}: the image is larger than {SETTING} ({cap} bytes)",
        hint=f"Send a smaller image, or raise the cap: qwen config set {SETTING} BYTES.",
    )


def _read_file(path: str, cap: int) -> bytes:
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(os.path.expanduser(path), flags)
    except FileNotFoundError:
        raise UsageError(f"-a {path}: no such file", hint="Check the path, or give an https:// URL.") from None
    except OSError as exc:
        raise UsageError(f"-a {path}: {exc.strerror or exc}", hint="Attach a regular image file.") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise UsageError(f"-a {path} is not a regular file", hint="Send anything else on stdin: -a -")
        if info.st_size > cap:
            raise too_large(path, cap)
        return _read_capped(lambda n: os.read(fd, n), cap, path)
    finally:
        os.close(fd)


def _read_stdin(stdin: IO | None, cap: int) -> bytes:
    if stdin is None:
        raise UsageError("-a -: there is no stdin to read")
    stream = getattr(stdin, "buffer", stdin)

    def read(n: int) -> bytes:
        chunk = stream.read(n)
        return chunk.encode("utf-8", "surrogateescape") if isinstance(chunk, str) else chunk

    return _read_capped(read, cap, "stdin")


def _read_capped(read: Any, cap: int, where: str) -> bytes:
    parts: list[bytes] = []
    size = 0
    while True:
        chunk = read(min(_CHUNK, cap + 1 - size))
        if not chunk:
            return b"".join(parts)
        size += len(chunk)
        if size > cap:
            raise too_large(where, cap)
        parts.append(chunk)
