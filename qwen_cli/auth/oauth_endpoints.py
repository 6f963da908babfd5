"""Where the Qwen OAuth requests go, and the guards every OAuth URL passes before it is used.

    Endpoints.from_settings(settings)   the base URL, client id, scope and path settings (no network)
    endpoints.urls(client)              the device and token URLs, checked; cached per Endpoints
    url_problem(url, allow_http)        why a URL may not carry OAuth traffic or be shown as a link, or None

Precedence for each endpoint: the path setting (`auth.qwen_oauth.device_path` / `token_path`, appended to
the base URL) > RFC 8414 metadata (read only when the base URL is not Qwen's) > Qwen's fixed paths.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from qwen_cli.errors import ConfigError, NetworkError, ServerError

if TYPE_CHECKING:
    from qwen_cli.auth.http import FormClient
    from qwen_cli.settings import Settings

log = logging.getLogger("qwen_cli.auth")

QWEN_DEVICE_PATH = "/api/v1/oauth2/device/code"
QWEN_TOKEN_PATH = "/api/v1/oauth2/token"
METADATA_PATH = "/.well-known/oauth-authorization-server"
BASE_SETTING = "auth.qwen_oauth.base_url"
DEVICE_SETTING = "auth.qwen_oauth.device_path"
TOKEN_SETTING = "auth.qwen_oauth.token_path"
HTTP_RULE = "plain http:// is allowed to this machine only, or with network.allow_insecure_http"


def url_problem(url: object, allow_http: bool = False) -> str | None:
    """None for an https URL (or http to a loopback host, or any http with allow_http); else the reason."""
    from qwen_cli.providers.http import is_loopback

    if not isinstance(url, str) or not url:
        return "it is not a URL"
    if any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in url):
        return "it contains spaces or control characters"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        return "it is not a valid URL"
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        return "it is not an https:// URL"
    if not parts.hostname:
        return "it has no host"
    if "@" in parts.netloc:
        return "it carries a user name before the host"
    if parts.fragment:
        return "it has a #fragment"
    if scheme == "http" and not allow_http and not is_loopback(parts.hostname):
        return "it is plain http:// to another machine, where anyone on the path could read the tokens"
    return None


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    port = parts.port or {"http": 80, "https": 443}.get(parts.scheme.lower())
    return parts.scheme.lower(), (parts.hostname or "").lower(), port


def metadata_url(base_url: str) -> str:
    """RFC 8414 §3.1: the well-known segment goes between the host and the base URL's path."""
    parts = urlsplit(base_url)
    return f"{parts.scheme}://{parts.netloc}{METADATA_PATH}{parts.path.rstrip('/')}"


@dataclass
class URLs:
    device: str
    token: str


@dataclass
class Endpoints:
    base_url: str
    client_id: str
    scope: str
    default_api_base: str
    model: str
    device_path: str | None = None
    token_path: str | None = None
    allow_http: bool = False
    base_source: str = "default"
    _urls: URLs | None = field(default=None, repr=False, compare=False)

    @classmethod
    def from_settings(cls, settings: Settings) -> Endpoints:
        from qwen_cli import catalogue

        data = catalogue.qwen_oauth()
        base = settings.get(BASE_SETTING) or data["base_url"]
        return cls(
            base.rstrip("/"),
            data["client_id"],
            data["scope"],
            data["default_api_base"],
            data["model"],
            device_path=settings.get(DEVICE_SETTING),
            token_path=settings.get(TOKEN_SETTING),
            allow_http=bool(settings.get("network.allow_insecure_http")),
            base_source=settings.source(BASE_SETTING),
        )

    @property
    def is_qwen(self) -> bool:
        from qwen_cli import catalogue

        return self.base_url == str(catalogue.qwen_oauth()["base_url"]).rstrip("/")

    def urls(self, client: FormClient) -> URLs:
        """The device and token URLs, every one checked before anything is sent to it."""
        if self._urls is None:
            problem = url_problem(self.base_url, self.allow_http)
            if problem:
                raise ConfigError(
                    f"refusing to send Qwen OAuth requests to {self.base_url!r}: {problem} "
                    f"({BASE_SETTING}, from {self.base_source})",
                    hint=f"Set {BASE_SETTING} (or QWEN_OAUTH_BASE_URL) to an https:// URL; {HTTP_RULE}.",
                )
            wanted = self.device_path is None or self.token_path is None
            meta = self._metadata(client) if wanted and not self.is_qwen else {}
            self._urls = URLs(
                self._pick(self.device_path, DEVICE_SETTING, meta, "device_authorization_endpoint", QWEN_DEVICE_PATH),
                self._pick(self.token_path, TOKEN_SETTING, meta, "token_endpoint", QWEN_TOKEN_PATH),
            )
            log.debug("Qwen OAuth endpoints: device %s, token %s", self._urls.device, self._urls.token)
        return self._urls

    def _pick(self, path: str | None, setting: str, meta: dict[str, Any], name: str, fixed: str) -> str:
        if path is not None:
            if not path.startswith("/") or path.startswith("//") or "#" in path or url_problem("https://h" + path):
                raise ConfigError(
                    f"{setting} must be a path such as {fixed}, got {path!r}",
                    hint=f"Fix it with: qwen config set {setting} {fixed}",
                )
            return self.base_url + path
        if name in meta:
            return self._checked_metadata_url(meta[name], name)
        return self.base_url + fixed

    def _checked_metadata_url(self, url: object, name: str) -> str:
        problem = url_problem(url, self.allow_http)
        elsewhere = isinstance(url, str) and _origin(url) != _origin(self.base_url)
        if problem is None and elsewhere and urlsplit(str(url)).scheme.lower() != "https":
            problem = "it is on another host than the base URL and not https://"
        if problem:
            setting = DEVICE_SETTING if name.startswith("device") else TOKEN_SETTING
            raise ConfigError(
                f"the OAuth metadata at {metadata_url(self.base_url)} names {name} {str(url)[:200]!r}: {problem}",
                hint=f"Fix the server's metadata, or set {setting} to the path on {self.base_url}.",
            )
        return str(url)  # url_problem found nothing: it is a str

    def _metadata(self, client: FormClient) -> dict[str, Any]:
        """RFC 8414 metadata, or {} when the server has none (or none that may be used)."""
        from qwen_cli.auth.oauth_replies import json_object

        url = metadata_url(self.base_url)
        try:
            reply = client.get_json(url)
        except (NetworkError, ServerError) as exc:  # optional: unreachable, too large or too deep is "none"
            log.debug("no OAuth metadata from %s: %s", url, exc.message)
            return {}
        data = json_object(reply) if reply.status == 200 else None
        if data is None:
            log.debug("no OAuth metadata at %s (HTTP %d)", url, reply.status)
            return {}
        issuer = data.get("issuer")
        if not isinstance(issuer, str) or issuer.rstrip("/") != self.base_url:
            # RFC 8414 §3.3: metadata whose issuer is not the server asked MUST NOT be used.
            log.debug("ignoring the OAuth metadata at %s: issuer %r is not %s", url, issuer, self.base_url)
            return {}
        return data
