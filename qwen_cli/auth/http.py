"""The small HTTP client the auth code uses for the OAuth endpoints (requests, imported on first use)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from qwen_cli import __version__
from qwen_cli.errors import NetworkError

log = logging.getLogger("qwen_cli.auth")

USER_AGENT = f"qwen-cli/{__version__}"

NETWORK_HINT = (
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
        self.network = network
        self._session = None

    def _get_session(self):
        if self._session is None:
            import requests

            session = requests.Session()
            net = self.network
            if net is not None:
                if net.proxy:
                    session.proxies.update({"http": net.proxy, "https": net.proxy})
                if net.ca_bundle:
                    session.verify = net.ca_bundle
            self._session = session
        return self._session

    @property
    def timeout(self) -> tuple[float, float]:
        if self.network is None:
            return (10.0, 30.0)
        return (self.network.connect_timeout, min(self.network.read_timeout, 30.0))

    def post_form(self, url: str, body: str) -> Reply:
        import requests

        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "Accept": "application/json",
            "User-Agent": USER_AGENT,
        }
        log.debug("POST %s", url)
        try:
            response = self._get_session().post(url, data=body.encode("utf-8"), headers=headers, timeout=self.timeout)
        except requests.exceptions.SSLError:
            raise NetworkError(f"TLS verification failed for {_host(url)}", hint=NETWORK_HINT) from None
        except requests.exceptions.ProxyError:
            raise NetworkError(f"the proxy refused the connection to {_host(url)}", hint=NETWORK_HINT) from None
        except requests.exceptions.Timeout:
            raise NetworkError(f"timed out talking to {_host(url)}", hint=NETWORK_HINT) from None
        except requests.exceptions.RequestException as exc:
            raise NetworkError(f"cannot reach {_host(url)} ({type(exc).__name__})", hint=NETWORK_HINT) from None
        log.debug("POST %s -> HTTP %s", url, response.status_code)  # never the body: it carries tokens
        return Reply(response.status_code, response.text)

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None


def _host(url: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return parts.netloc or url
