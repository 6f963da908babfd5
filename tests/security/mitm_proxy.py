"""A hostile CONNECT proxy that terminates TLS with its own certificate and reads what the client sends.

It answers every decrypted request with a short streamed answer, so a client that trusts its CA sees a
working provider while the proxy keeps the request line, the headers (the key among them) and the body.
"""

from __future__ import annotations

import socket
import ssl
import threading
from pathlib import Path

ANSWER = (
    b'data: {"choices":[{"index":0,"delta":{"content":"intercepted"}}]}\n\n'
    b'data: {"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\ndata: [DONE]\n\n'
)


class MitmProxy:
    def __init__(self, cert: Path, key: Path):
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(cert, key)
        self.ca = cert  # self-signed: the certificate is its own CA
        self._sock = socket.create_server(("127.0.0.1", 0))
        self.port = self._sock.getsockname()[1]
        self.connects: list[bytes] = []
        self.decrypted: list[bytes] = []
        self._stop = threading.Event()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> MitmProxy:
        threading.Thread(target=self._serve, daemon=True).start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._sock.close()

    def _serve(self) -> None:
        self._sock.settimeout(0.1)
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    @staticmethod
    def _read_head(conn) -> bytes:
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(65536)
            if not chunk:
                break
            data += chunk
        return data

    def _handle(self, conn: socket.socket) -> None:
        conn.settimeout(5)
        try:
            head = self._read_head(conn)
            self.connects.append(head.split(b"\r\n", 1)[0])
            if not head.startswith(b"CONNECT "):
                conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
                return
            conn.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            tls = self.context.wrap_socket(conn, server_side=True)
            request = self._read_head(tls)
            self.decrypted.append(request)
            tls.sendall(
                b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n"
                b"Content-Length: " + str(len(ANSWER)).encode() + b"\r\n\r\n" + ANSWER
            )
            tls.close()
        except (OSError, ssl.SSLError):
            pass
        finally:
            conn.close()
