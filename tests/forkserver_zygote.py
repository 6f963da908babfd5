"""The fork server's own process (see tests/forkserver.py): run by path, never imported by the tests.

    python tests/forkserver_zygote.py SOCKET

It imports what every `qwen` start pays for before reaching qwen's code (click, rich-click, requests and
the standard library they pull in), never qwen_cli itself, then prints `ready` and serves: for each
connection, a monitor process forks the `qwen` process, reports its pid, and later its wait status. The
`qwen` process rebuilds what the interpreter sets up at start (stdio over the fds it was handed, argv,
environment, cwd, umask) and runs the console script. The server ends when its stdin (a pipe from the test
worker that started it) closes.
"""

import array
import atexit
import difflib  # noqa: F401
import fcntl  # noqa: F401
import io
import json
import os
import runpy
import secrets  # noqa: F401
import select
import signal
import socket
import struct
import sys
import threading
import time
import traceback

# What qwen imports on its way to its own code (with difflib, fcntl, secrets above). None of these reads the
# environment at import time (they read it when called), which is what makes an import before the
# environment is known equivalent.
import click  # noqa: F401
import dotenv  # noqa: F401
import requests  # noqa: F401
import rich_click  # noqa: F401
import tomli_w  # noqa: F401

if sys.version_info >= (3, 11):
    import tomllib  # noqa: F401

MAX_FDS = 3
_HEADER = struct.Struct("!I")


def _recv_request(conn: socket.socket) -> tuple[dict, list[int]]:
    fds = array.array("i")
    head, ancdata, _flags, _addr = conn.recvmsg(_HEADER.size, socket.CMSG_SPACE(MAX_FDS * fds.itemsize))
    for level, kind, data in ancdata:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.frombytes(data[: len(data) - (len(data) % fds.itemsize)])
    (size,) = _HEADER.unpack(head)
    body = b""
    while len(body) < size:
        chunk = conn.recv(size - len(body))
        if not chunk:
            raise EOFError("request cut short")
        body += chunk
    return json.loads(body), list(fds)


def _stream(fd: int, like: io.TextIOWrapper, mode: str) -> io.TextIOWrapper:
    """A text stream over `fd` made as the interpreter made `like` at start (same environment, also a pipe)."""
    unbuffered = isinstance(getattr(like, "buffer", None), io.FileIO)
    binary = open(fd, mode + "b", buffering=0 if unbuffered and mode == "w" else -1, closefd=False)  # noqa: SIM115
    return io.TextIOWrapper(
        binary,
        encoding=like.encoding,
        errors=like.errors,
        newline="\n",
        line_buffering=like.line_buffering,
        write_through=like.write_through,
    )


def _exit_code(exc: SystemExit) -> int:
    code = exc.code
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    print(code, file=sys.stderr)
    return 1


def _become_qwen(request: dict, fds: list[int]) -> None:
    for target, fd in enumerate(fds):
        os.dup2(fd, target)
    os.closerange(3, os.sysconf("SC_OPEN_MAX") if hasattr(os, "sysconf") else 1024)
    os.umask(request["umask"])
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    time.tzset()
    script = request["argv"][0]
    sys.argv = list(request["argv"])
    sys.path[0] = os.path.dirname(script)
    sys.stdin = sys.__stdin__ = _stream(0, sys.__stdin__, "r")
    sys.stdout = sys.__stdout__ = _stream(1, sys.__stdout__, "w")
    sys.stderr = sys.__stderr__ = _stream(2, sys.__stderr__, "w")

    code = 0
    interrupted = False
    try:
        runpy.run_path(script, run_name="__main__")
    except SystemExit as exc:
        code = _exit_code(exc)
    except KeyboardInterrupt:
        traceback.print_exc()
        interrupted = True
    except BaseException:  # noqa: BLE001 - the interpreter's own last resort, as a fresh process has it
        traceback.print_exc()
        code = 1
    # The interpreter's shutdown, in its order: wait for non-daemon threads, run atexit, flush stdio.
    threading._shutdown()  # type: ignore[attr-defined]
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:  # noqa: BLE001
            if stream is sys.stdout:
                print("Exception ignored on flushing sys.stdout:", file=sys.stderr)
                traceback.print_exc()
                code = code or 120
    if interrupted:  # a fresh interpreter re-raises an unhandled Ctrl-C as the signal itself
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGINT)
    os._exit(code)


def _monitor(conn: socket.socket) -> None:
    try:
        request, fds = _recv_request(conn)
    except (OSError, EOFError, ValueError):
        os._exit(1)
    pid = os.fork()
    if pid == 0:
        conn.close()
        try:
            _become_qwen(request, fds)
        except BaseException:  # noqa: BLE001 - setting up the run failed (a cwd that is gone, say): say so
            os.write(2, f"fork server: could not start the run:\n{traceback.format_exc()}".encode())
        os._exit(70)
    for fd in fds:
        os.close(fd)
    conn.sendall(f"{pid}\n".encode())
    pidfd = os.pidfd_open(pid)
    ready, _, _ = select.select([conn, pidfd], [], [])
    if pidfd not in ready:  # the test side went away (a timeout, a crash): a real child would be killed too
        os.kill(pid, signal.SIGKILL)
    _, status = os.waitpid(pid, 0)
    try:
        conn.sendall(f"{status}\n".encode())
    except OSError:
        pass
    os._exit(0)


def serve(path: str) -> None:
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(64)
    print("ready", flush=True)
    lifeline = sys.stdin.fileno()
    while True:
        ready, _, _ = select.select([listener, lifeline], [], [], 1.0)
        while True:
            try:
                reaped, _ = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if not reaped:
                break
        if lifeline in ready and not os.read(lifeline, 1):
            return
        if listener in ready:
            conn, _ = listener.accept()
            if os.fork() == 0:
                listener.close()
                _monitor(conn)
            conn.close()


if __name__ == "__main__":
    serve(sys.argv[1])
