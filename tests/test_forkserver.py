"""The fork server behind run_qwen (tests/forkserver.py) starts a process the same as a fresh exec would:
a probe script run both ways reports the same interpreter state, and qwen itself answers the same."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests import forkserver
from tests.helpers import qwen_command

PROBE = r"""
import json, os, signal, sys, threading
names = ("SIGINT", "SIGTERM", "SIGHUP", "SIGPIPE", "SIGXFSZ", "SIGCHLD")
handlers = {name: repr(signal.getsignal(getattr(signal, name))) for name in names}
streams = {
    name: [s.encoding, s.errors, s.line_buffering, s.write_through, s.newlines, type(s.buffer).__name__, s.fileno()]
    for name, s in (("stdin", sys.stdin), ("stdout", sys.stdout), ("stderr", sys.stderr))
}
umask = os.umask(0)
json.dump({
    "argv": sys.argv[1:], "cwd": os.getcwd(), "umask": umask, "env": os.environ.get("PROBE_VALUE"),
    "path0": sys.path[0], "handlers": handlers, "streams": streams, "fds": sorted(os.listdir("/proc/self/fd")),
    "threads": threading.active_count(), "stdin": sys.stdin.read(), "main": __name__, "flags": repr(sys.flags),
    "tz": __import__("time").tzname, "qwen_cli_loaded": any(m.startswith("qwen_cli") for m in sys.modules),
}, sys.stdout)
def late():
    __import__("time").sleep(0.2)
    sys.stderr.write("from a thread that outlived the script\n")
threading.Thread(target=late).start()
sys.stderr.write("to stderr\n")
sys.exit(int(sys.argv[1]))
"""

pytestmark = pytest.mark.skipif(not forkserver.ENABLED, reason="the fork server is off here (QWEN_TESTS_EXEC=real)")


def _both(tmp_path, script, args, data=b"", env_extra=None):
    env = {**os.environ, **(env_extra or {})}
    forked = forkserver.run(str(script), args, data, env, tmp_path, 30)
    assert forked is not None, "the fork server declined an ordinary environment"
    real = subprocess.run([sys.executable, str(script), *args], input=data, capture_output=True, env=env, cwd=tmp_path)
    return forked, (real.returncode, real.stdout, real.stderr)


def test_a_forked_run_sees_what_a_fresh_interpreter_sees(tmp_path):
    script = tmp_path / "probe.py"
    script.write_text(PROBE)
    _both(tmp_path, script, ["0"])  # the server starts now, so what follows differs from what it started with
    old = os.umask(0o027)
    try:
        forked, real = _both(
            tmp_path, script, ["3", "an arg"], b"line one\r\nline two", {"PROBE_VALUE": "x", "TZ": "Asia/Shanghai"}
        )
    finally:
        os.umask(old)
    assert forked[0] == real[0] == 3
    assert forked[2] == real[2] == b"to stderr\nfrom a thread that outlived the script\n"
    seen, expected = json.loads(forked[1]), json.loads(real[1])
    assert seen == expected
    assert seen["umask"] == 0o027 and seen["env"] == "x" and seen["stdin"] == "line one\r\nline two"
    assert seen["fds"] == ["0", "1", "2", "3"]  # 3: the listing's own descriptor
    assert not seen["qwen_cli_loaded"]


def test_qwen_answers_the_same_either_way(tmp_path):
    (script,) = qwen_command()
    for args in (["--version"], ["config", "path", "--json"], ["no-such-command"], ["ask", "hi"]):
        forked, real = _both(tmp_path, script, args)
        assert forked == real, args


def test_a_run_past_its_timeout_is_killed_and_raises_as_subprocess_run_does(tmp_path):
    script = tmp_path / "sleeper.py"
    script.write_text("import sys, time\nprint('started', flush=True)\ntime.sleep(30)\n")
    with pytest.raises(subprocess.TimeoutExpired) as raised:
        forkserver.run(str(script), [], b"", dict(os.environ), tmp_path, 1)
    assert raised.value.output == b"started\n"


def test_an_uncaught_exception_ends_the_run_as_it_ends_a_fresh_interpreter(tmp_path):
    script = tmp_path / "boom.py"
    script.write_text("print('partial', end='')\nraise ValueError('boom')\n")
    forked, real = _both(tmp_path, script, [])
    assert forked[0] == real[0] == 1 and forked[1] == real[1] == b"partial"
    assert forked[2].splitlines()[-1] == real[2].splitlines()[-1] == b"ValueError: boom"


def test_a_server_that_died_is_replaced_and_the_run_still_happens(tmp_path):
    script = tmp_path / "hello.py"
    script.write_text("print('hello')\n")
    env = dict(os.environ)
    assert forkserver.run(str(script), [], b"", env, tmp_path, 30) == (0, b"hello\n", b"")
    server = forkserver._server_for(env)
    server._proc.kill()
    server._proc.wait()
    assert forkserver.run(str(script), [], b"", env, tmp_path, 30) == (0, b"hello\n", b"")
    assert forkserver._server_for(env) is not server


def test_a_run_that_cannot_be_set_up_says_why_on_its_stderr(tmp_path):
    code, out, err = forkserver.run(str(tmp_path / "x.py"), [], b"", dict(os.environ), tmp_path / "gone", 30)
    assert code == 70 and out == b""
    assert b"could not start the run" in err and b"FileNotFoundError" in err
