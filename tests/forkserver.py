"""A fork server for `run_qwen`: the same `qwen` process a subprocess would be, without paying for the
interpreter's start and the imports of click, rich-click and requests on every one of ~1,000 runs.

About 85% of the suite's CPU went into starting `qwen` (about 230 ms of CPU each on this machine, of which
about 170 ms is Python's start and those imports). Here a server process per test worker and environment
(tests/forkserver_zygote.py) imports them once; each run is a fork of it that rebuilds what the interpreter
sets up at start, from the caller: stdin, stdout and stderr as pipes, argv, the environment, cwd and umask.
qwen_cli itself is imported fresh by every run, so a module-level decision of qwen's sees the run's own
environment, and an edited (or mutated) source is what runs.

What stays a real `exec` (here `None` is returned and run_qwen uses subprocess.run):
- an environment whose interpreter-shaping variables (PYTHON*, LANG, LC_*) differ from the server's:
  those decide stdio encoding, buffering and flags before any code runs, so each such set gets its own
  server, up to a few, and beyond that a real exec;
- `QWEN_TESTS_EXEC=real` in the environment pytest starts with: every run is a real exec (CI runs one Python
  so, to keep the two ways honest against each other);
- a platform without os.fork, AF_UNIX or os.pidfd_open.
Tests about start-up itself (imports, signals, terminals, resource limits, the console script) start `qwen`
with subprocess directly and are not affected.
"""

from __future__ import annotations

import array
import atexit
import json
import os
import socket
import struct
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

ZYGOTE = Path(__file__).with_name("forkserver_zygote.py")
_HEADER = struct.Struct("!I")
_SHAPING_PREFIXES = ("PYTHON", "LC_")
_SHAPING_NAMES = ("LANG",)
MAX_SERVERS = 3
ENABLED = (
    os.environ.get("QWEN_TESTS_EXEC", "") != "real"
    and hasattr(os, "fork")
    and hasattr(os, "pidfd_open")
    and hasattr(socket, "AF_UNIX")
)


def _shaping(env: dict[str, str]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((k, v) for k, v in env.items() if k.startswith(_SHAPING_PREFIXES) or k in _SHAPING_NAMES))


class _Server:
    def __init__(self, env: dict[str, str]):
        self._dir = tempfile.mkdtemp(prefix="qwen-forkserver-")
        self.path = os.path.join(self._dir, "s")
        self._log = open(os.path.join(self._dir, "log"), "wb")  # noqa: SIM115 - lives as long as the server
        self._proc = subprocess.Popen(
            [sys.executable, str(ZYGOTE), self.path],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            env=env,
            cwd=self._dir,
            start_new_session=True,
        )
        line = self._proc.stdout.readline()
        if line.strip() != b"ready":
            self._proc.kill()
            raise RuntimeError(f"the fork server did not start: {Path(self._dir, 'log').read_text(errors='replace')}")

    def close(self) -> None:
        self._proc.stdin.close()  # its lifeline: it returns from serve()
        try:
            self._proc.wait(5)
        except subprocess.TimeoutExpired:
            self._proc.kill()
        self._log.close()

    def run(self, argv: list[str], data: bytes, env: dict[str, str], cwd: str, timeout: float):
        in_r, in_w = os.pipe()
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        umask = os.umask(0)
        os.umask(umask)
        body = json.dumps({"argv": argv, "env": env, "cwd": cwd, "umask": umask}).encode()
        conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            conn.connect(self.path)
            fds = array.array("i", [in_r, out_w, err_w])
            conn.sendmsg([_HEADER.pack(len(body))], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, fds)])
            conn.sendall(body)
        finally:
            for fd in (in_r, out_w, err_w):
                os.close(fd)
        outputs: dict[int, bytes] = {}
        threads = [
            threading.Thread(target=_feed, args=(in_w, data), daemon=True),
            threading.Thread(target=_drain, args=(out_r, outputs), daemon=True),
            threading.Thread(target=_drain, args=(err_r, outputs), daemon=True),
        ]
        for thread in threads:
            thread.start()
        replies = conn.makefile("rb")
        pid = int(replies.readline())
        conn.settimeout(timeout)
        try:
            status = int(replies.readline())
        except TimeoutError:
            os.kill(pid, 9)
            conn.close()
            for thread in threads:
                thread.join(5)
            raise subprocess.TimeoutExpired(argv, timeout, outputs.get(out_r), outputs.get(err_r)) from None
        finally:
            replies.close()
            conn.close()
        for thread in threads:
            thread.join()
        return os.waitstatus_to_exitcode(status), outputs[out_r], outputs[err_r]


def _feed(fd: int, data: bytes) -> None:
    try:
        with open(fd, "wb", closefd=True) as pipe:
            pipe.write(data)
    except BrokenPipeError:  # qwen did not read it all, as subprocess.run allows
        pass


def _drain(fd: int, outputs: dict[int, bytes]) -> None:
    with open(fd, "rb", closefd=True) as pipe:
        outputs[fd] = pipe.read()


_servers: dict[tuple, _Server] = {}
_lock = threading.Lock()


def _server_for(env: dict[str, str]) -> _Server | None:
    key = _shaping(env)
    with _lock:
        server = _servers.get(key)
        if server is None and len(_servers) < MAX_SERVERS:
            server = _servers[key] = _Server(env)
        return server


@atexit.register
def _close_all() -> None:
    for server in _servers.values():
        server.close()


def run(
    script: str, args: list[str], data: bytes, env: dict[str, str], cwd: str | os.PathLike | None, timeout: float
) -> tuple[int, bytes, bytes] | None:
    """(exit code, stdout, stderr) of `script ARGS` forked from a warm server, or None: use a real exec."""
    if not ENABLED:
        return None
    server = _server_for(env)
    if server is None:
        return None
    argv, where = [script, *args], os.fspath(cwd or os.getcwd())
    try:
        return server.run(argv, data, env, where, timeout)
    except (ConnectionRefusedError, FileNotFoundError):  # the server died (killed by a test's cleanup, say)
        _forget(server)
        replacement = _server_for(env)
        return replacement.run(argv, data, env, where, timeout) if replacement else None


def _forget(server: _Server) -> None:
    with _lock:
        for key, known in list(_servers.items()):
            if known is server:
                del _servers[key]
    server.close()
