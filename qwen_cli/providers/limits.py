"""What a server may cost us in memory: capped bodies and JSON that nests only so deep.

Bodies are read in bounded steps (urllib3 decompresses at most one step ahead), so a gzip bomb stops
at network.max_response_bytes instead of filling memory. JSON deeper than MAX_JSON_DEPTH is refused
before anything parses it: Python's parser would raise RecursionError, and our own readers of error
objects recurse too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from qwen_cli.errors import ServerError

if TYPE_CHECKING:
    from requests import Response

    from qwen_cli.providers.events import NetworkOptions

MAX_JSON_DEPTH = 256
_OPENERS = (b"[", b"{")
_BRACKET_STEPS = bytes.maketrans(b"[{]}", b"\x01\x01\xff\xff")  # +1 / -1 as signed bytes
_NOT_BRACKETS = bytes(c for c in range(256) if c not in b"[]{}")


def size(n: int) -> str:
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= scale and n % scale == 0:
            return f"{n // scale} {unit}"
    return f"{n} bytes"


def too_large(host: str, limit: int, what: str, setting: str) -> ServerError:
    return ServerError(
        f"{host} sent {what} larger than {size(limit)} ({setting})",
        hint=f"If you trust the server, raise {setting} (qwen config set {setting} BYTES); 0 turns the cap off.",
    )


def read_body(response: Response, network: NetworkOptions, host: str) -> bytes:
    """The whole (decompressed) body, refusing more than network.max_response_bytes; sets response.content."""
    from qwen_cli.providers.http import iter_body

    limit = network.max_response_bytes
    parts: list[bytes] = []
    total = 0
    for chunk in iter_body(response):
        total += len(chunk)
        if limit and total > limit:
            response.close()
            raise too_large(host, limit, "a response", "network.max_response_bytes")
        parts.append(chunk)
    body = b"".join(parts)
    check_json_depth(body, host)
    response._content = body  # what requests itself caches: .content, .text and .json() read it
    response._content_consumed = True  # type: ignore[attr-defined]  # requests sets it, its stubs leave it out
    return body


def json_depth(data: bytes) -> int:
    """How deep brackets nest outside JSON strings (for JSON; any bytes give some number)."""
    if data.count(_OPENERS[0]) + data.count(_OPENERS[1]) <= MAX_JSON_DEPTH:
        return 0  # can't nest deeper than it has brackets: the usual case costs two scans
    from itertools import accumulate

    # Drop escaped backslashes and quotes, then every other piece between quotes is outside a string.
    outside = b"".join(data.replace(b"\\\\", b"").replace(b'\\"', b"").split(b'"')[::2])
    steps = outside.translate(_BRACKET_STEPS, _NOT_BRACKETS)
    return max(accumulate(memoryview(steps).cast("b")), default=0)


def check_json_depth(data: bytes | str, host: str) -> None:
    if isinstance(data, str):
        if data.count("[") + data.count("{") <= MAX_JSON_DEPTH:
            return
        data = data.encode("utf-8", "replace")
    if json_depth(data) > MAX_JSON_DEPTH:
        raise ServerError(
            f"{host} sent JSON nested more than {MAX_JSON_DEPTH} levels deep",
            hint="No API answer looks like that; check the base URL, and report it if the server is yours.",
        )
