"""Which redirects `http.send` follows: same origin only, a few hops, never a key or a prompt elsewhere.

requests would follow a redirect to any host, re-sending the body of a 307/308 and every custom header
(it strips only Authorization). A redirect from the API host to another origin (scheme, host, port) is
refused instead, whatever the method: the request is simply not sent there.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urljoin, urlsplit

from qwen_cli.errors import RequestError

if TYPE_CHECKING:
    from requests import Response

MAX_REDIRECTS = 5
_DEFAULT_PORTS = {"http": 80, "https": 443}


def origin(url: str) -> str:
    """scheme://host[:port], without any user:password@."""
    parts = urlsplit(url)
    port = parts.port if parts.port not in (None, _DEFAULT_PORTS.get(parts.scheme)) else None
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    return f"{parts.scheme}://{host}" + (f":{port}" if port else "")


def target(url: str, response: Response) -> str:
    """Where a 3xx response points, resolved against the URL that was asked for."""
    location: str = response.headers.get("Location", "")
    return urljoin(url, location.strip())


def check(url: str, location: str, hops: int) -> None:
    if origin(location) != origin(url):
        raise RequestError(
            f"{origin(url)} redirected the request to {origin(location)}; qwen does not follow redirects "
            "to another host, so your key and prompt were not sent there",
            hint=f"If {origin(location)} is really your provider's address, use it as the base URL.",
        )
    if hops > MAX_REDIRECTS:
        raise RequestError(
            f"{origin(url)} redirected more than {MAX_REDIRECTS} times",
            hint="Check the base URL (it usually ends in /v1).",
        )
