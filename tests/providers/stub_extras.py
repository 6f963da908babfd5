"""Loopback servers the shared stubs don't provide: TLS with a self-signed certificate, and an HTTP proxy."""

from __future__ import annotations

import shutil
import ssl
import subprocess
from pathlib import Path

import pytest

from tests.servers.openai_stub import OpenAIStub, StubServer, stream_reply

_made: dict[str, tuple[bytes, bytes]] = {}


def self_signed_cert(directory: Path, identity: str = "server") -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and localhost, made with the openssl CLI (skip the test without it), written
    into `directory`. An RSA key takes openssl from a tenth of a second to seconds, so each `identity` is made
    once per process and copied; two identities (a server and a man in the middle) are different keys."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    directory.mkdir(parents=True, exist_ok=True)
    cert, key = directory / "cert.pem", directory / "key.pem"
    if identity not in _made:
        subprocess.run(
            [
                "openssl",
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-days",
                "2",
                "-keyout",
                str(key),
                "-out",
                str(cert),
                "-subj",
                "/CN=127.0.0.1",
                "-addext",
                "subjectAltName=IP:127.0.0.1,DNS:localhost",
            ],
            check=True,
            capture_output=True,
        )
        _made[identity] = cert.read_bytes(), key.read_bytes()
    cert.write_bytes(_made[identity][0])
    key.write_bytes(_made[identity][1])
    return cert, key


class TLSOpenAIStub(OpenAIStub):
    """The OpenAI stub behind TLS: url is https://127.0.0.1:PORT/v1."""

    def __init__(self, cert: Path, key: Path):
        super().__init__()
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(cert, key)

    @property
    def base(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def start(self):
        super().start()
        httpd = self._httpd
        plain_get_request = httpd.get_request

        def get_request():
            sock, addr = plain_get_request()
            return self.context.wrap_socket(sock, server_side=True), addr

        httpd.get_request = get_request
        return self


class ProxyStub(StubServer):
    """A forward proxy that answers by itself: it records the absolute URL it was asked for, then streams."""

    def __init__(self, tokens=("via", " proxy")):
        super().__init__()
        self.tokens = list(tokens)

    def dispatch(self, h, rec):
        stream_reply(self.tokens).send(h, rec)
