"""A loopback listener that records every connection and the bytes sent to it: a proxy or host that must
never be contacted. It answers 502 to whatever it gets."""

from __future__ import annotations

import socket

from tests.security.listener import Listener


class Recorder(Listener):
    def __init__(self):
        super().__init__()
        self.received: list[bytes] = []

    def handle(self, conn: socket.socket) -> None:
        conn.settimeout(2)
        data = b""
        try:
            data = self.read_head(conn)
            conn.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        except OSError:
            pass
        finally:
            self.received.append(data)
            conn.close()

    @property
    def contacted(self) -> bool:
        return bool(self.received)
