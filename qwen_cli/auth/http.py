"""The small form-POST client the auth code uses for the OAuth endpoints.

It rides on the adapter's HTTP layer, so proxies, CA bundles, timeouts, `--debug` traces and the
one-line network errors are the same for login as for answers. The caller owns retries (polling).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

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


class FormClient:
    """POSTs form-encoded bodies and returns status + text. Network failures become NetworkError."""

    def __init__(self, network=None):
        from qwen_cli.providers.events import NetworkOptions

        network = network or NetworkOptions()
        self.network = replace(network, read_timeout=min(network.read_timeout, OAUTH_READ_TIMEOUT_MAX))

    def post_form(self, url: str, body: str) -> Reply:
        from qwen_cli.errors import NetworkError
        from qwen_cli.providers import http

        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "Accept": "application/json",
            "User-Agent": http.user_agent(),
        }
        try:
            response = http.send("POST", url, headers=headers, network=self.network, data=body.encode(), retries=0)
        except NetworkError as exc:
            exc.hint = LOGIN_NETWORK_HINT
            raise
        return Reply(response.status_code, response.text)
