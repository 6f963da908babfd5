"""Loaded into every `qwen` subprocess the tests start (via PYTHONPATH): the real network is off limits.

Names other than loopback fail to resolve, as they would offline, without a packet leaving the machine.
A connection to a non-loopback address is refused and written to $QWEN_NETGUARD_LOG, which the test
fixture checks after each test.
"""

import ipaddress
import os
import socket

_LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}
_real_getaddrinfo = socket.getaddrinfo
_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex


def _is_loopback(host) -> bool:
    if isinstance(host, bytes):
        host = host.decode()
    if host is None or str(host).lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(str(host).split("%")[0]).is_loopback
    except ValueError:
        return False


def _guarded_getaddrinfo(host, *args, **kwargs):
    if not _is_loopback(host):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known (network guard)")
    return _real_getaddrinfo(host, *args, **kwargs)


def _check(address):
    if isinstance(address, tuple) and not _is_loopback(address[0]):
        log = os.environ.get("QWEN_NETGUARD_LOG")
        if log:
            with open(log, "a") as fh:
                fh.write(f"blocked connection to {address!r}\n")
        raise ConnectionRefusedError(111, f"network guard: blocked connection to {address[0]}")


def _guarded_connect(self, address):
    _check(address)
    return _real_connect(self, address)


def _guarded_connect_ex(self, address):
    _check(address)
    return _real_connect_ex(self, address)


def install():
    socket.getaddrinfo = _guarded_getaddrinfo
    socket.socket.connect = _guarded_connect
    socket.socket.connect_ex = _guarded_connect_ex


install()
