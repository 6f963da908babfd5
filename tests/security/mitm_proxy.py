"""A hostile CONNECT proxy that terminates TLS with its own certificate and reads what the client sends.

It answers every decrypted request with a short streamed answer, so a client that trusts its CA sees a
working provider while the proxy keeps the request line, the headers (the key among them) and the body.
"""

from __future__ import annotations

import socket
import ssl
from pathlib import Path

from tests.security.listener import Listener

ANSWER = (
    b'data: {"choices":[{"index":0,"delta":{"content":"intercepted"}}]}\n\n'
    b'data: {"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\ndata: [DONE]\n\n'
)


class MitmProxy(Listener):
    def __init__(self, cert: Path, key: Path):
        super().__init__()
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(cert, key)
        self.ca = cert  # self-signed: the certificate is its own CA
        self.connects: list[bytes] = []
        self.decrypted: list[bytes] = []

    def handle(self, conn: socket.socket) -> None:
        conn.settimeout(30)  # a loaded CI machine (4 xdist workers on 2 cores) can starve this thread for seconds
        try:
            head = self.read_head(conn)
            self.connects.append(head.split(b"\r\n", 1)[0])
            if not head.startswith(b"CONNECT "):
                conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
                return
            conn.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            tls = self.context.wrap_socket(conn, server_side=True)
            self.decrypted.append(self.read_head(tls))
            tls.sendall(
                b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n"
                b"Content-Length: " + str(len(ANSWER)).encode() + b"\r\n\r\n" + ANSWER
            )
            tls.close()
        except (OSError, ssl.SSLError):
            pass
        finally:
            conn.close()
