"""Start `qwen` so that its peak RSS can be read: through a small launcher process that forks and execs it.

os.wait4 on a child of the test process reports the wrong figure. Linux starts an exec'd process's
ru_maxrss at the high-water mark of the memory image it replaces, and subprocess spawns with vfork, so that
image is the test process's own: after a test built a 48 MiB payload in the same xdist worker, every later
`qwen` seemed to use 270 MB. The launcher is a fresh small process; the qwen it forks starts from its size.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from typing import Any

_LAUNCHER = """
import os, sys
report = int(sys.argv[1])
pid = os.fork()
if pid == 0:
    os.close(report)
    os.execvp(sys.argv[2], sys.argv[2:])
_, status, usage = os.wait4(pid, 0)
os.write(report, f"{status} {usage.ru_maxrss}".encode())
"""


class Launched:
    """`cmd` running under the launcher, in its own session (kill() ends both)."""

    def __init__(self, cmd: list[str], **popen: Any) -> None:
        read, write = os.pipe()
        self._report = read
        try:
            self.proc = subprocess.Popen(
                [sys.executable, "-c", _LAUNCHER, str(write), *cmd], pass_fds=(write,), start_new_session=True, **popen
            )
        finally:
            os.close(write)

    def poll(self) -> bool:
        return self.proc.poll() is not None

    def kill(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait()

    def result(self) -> tuple[int, int]:
        """(qwen's exit code, its peak RSS in KiB), once the launcher has ended."""
        self.proc.wait()
        data = os.read(self._report, 64).decode()
        os.close(self._report)
        if not data:
            return -signal.SIGKILL, 0  # killed before it could report
        status, maxrss = data.split()
        return os.waitstatus_to_exitcode(int(status)), int(maxrss)
