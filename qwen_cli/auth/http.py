"""The small HTTP client the auth code uses for the OAuth endpoints.

It rides on the adapter's HTTP layer, so proxies, CA bundles, timeouts, `--debug` traces and the
one-line network errors are the same for login as for answers. The caller owns retries (polling).

Redirects are never followed: a 307/308 would re-send the form, refresh token included, to wherever the
Location points. A 3xx answer to a form POST is an error naming both hosts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from qwen_cli.providers.events import NetworkOptions

from dataclasses import dataclass, replace
from urllib.parse import urljoin

from qwen_cli.errors import ConfigError

OAUTH_READ_TIMEOUT_MAX = 30.0

# Logins that failed behind proxies and TLS inspection were Qwen Code's most reported auth problem.
LOGIN_NETWORK_HINT = (
    "Check your connection. Behind a proxy set HTTPS_PROXY (and NO_PROXY); behind TLS inspection point "
    "REQUESTS_CA_BUNDLE or SSL_CERT_FILE (or `qwen config set network.ca_bundle FILE`) at your CA bundle."
)


@dataclass
class Reply:
    status: int
    text: str
    content_type: str = ""  # the media type only, lower case: "application/json", "text/html"
    url: str = ""
    location: str | None = None

    @property
    def host(self) -> str:
        from qwen_cli.providers.failures import host_of

        return host_of(self.url)


class FormClient:
    """POSTs form-encoded bodies (and GETs metadata) and returns a Reply. Network failures become NetworkError."""

    def __init__(self, network: NetworkOptions | None = None) -> None:
        from qwen_cli.providers.events import NetworkOptions

        network = network or NetworkOptions()
        self.network = replace(network, read_timeout=min(network.read_timeout, OAUTH_READ_TIMEOUT_MAX))

    def post_form(self, url: str, body: str) -> Reply:
        reply = self._send("POST", url, body.encode(), {"Content-Type": "application/x-www-form-urlencoded"})
        if 300 <= reply.status < 400:
            raise redirect_error(reply)
        return reply

    def get_json(self, url: str) -> Reply:
        """A GET for a JSON document (RFC 8414 metadata). A 3xx is returned as it is, not followed."""
        return self._send("GET", url, None, {})

    def _send(self, method: str, url: str, data: bytes | None, extra: dict[str, str]) -> Reply:
        from qwen_cli.errors import NetworkError
        from qwen_cli.providers import http

        headers = {"Accept": "application/json", "User-Agent": http.user_agent(), **extra}
        try:
            response = http.send(
                method, url, headers=headers, network=self.network, data=data, retries=0, allow_redirects=False
            )
        except NetworkError as exc:
            exc.hint = LOGIN_NETWORK_HINT
            raise
        content_type = (response.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        return Reply(
            response.status_code,
            (response.content or b"").decode("utf-8", "replace"),
            content_type,
            url,
            response.headers.get("Location"),
        )


def redirect_error(reply: Reply) -> ConfigError:
    from qwen_cli.providers.failures import host_of

    target = host_of(urljoin(reply.url, reply.location)) if reply.location else "nowhere (no Location header)"
    return ConfigError(
        f"{reply.host} redirected the Qwen OAuth request (HTTP {reply.status}) to {target}; "
        "qwen does not follow redirects for OAuth requests, which carry your tokens",
        hint="Point auth.qwen_oauth.base_url (QWEN_OAUTH_BASE_URL) at the server that answers itself, "
        "if you trust it; use https://.",
    )
