"""The Qwen OAuth lock and signals ignored on purpose: each signal is judged on its own, so an ignored SIGTERM
does not keep a hangup from removing the lock on its way out."""

from __future__ import annotations

import signal
import subprocess
import sys

import pytest

from tests.helpers import ended_after_signal


@pytest.mark.skipif(not hasattr(signal, "SIGHUP"), reason="POSIX signals")
def test_with_sigterm_ignored_a_hangup_still_removes_the_lock(isolated):
    isolated.qwen_home.mkdir(parents=True)
    code = (
        "import signal, sys, time\nfrom pathlib import Path\nfrom qwen_cli.auth import token_store\n"
        "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        "with token_store.locked(Path(sys.argv[1])):\n    print('locked', flush=True)\n    time.sleep(30)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code, str(isolated.qwen_home)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "locked"
    proc.send_signal(signal.SIGHUP)
    assert ended_after_signal(proc) in (-signal.SIGHUP, 128 + signal.SIGHUP)
    assert not (isolated.qwen_home / "oauth_creds.lock").exists()


@pytest.mark.skipif(not hasattr(signal, "SIGHUP"), reason="POSIX signals")
def test_a_signal_whose_own_handler_returns_still_ends_the_process_with_128_plus_its_number(isolated):
    """The signal is handed back to the handler that was there before; when that one does not exit, the lock
    is gone and the process ends as a shell reports a signal: 128 + its number."""
    isolated.qwen_home.mkdir(parents=True)
    code = (
        "import signal, sys, time\nfrom pathlib import Path\nfrom qwen_cli.auth import token_store\n"
        "signal.signal(signal.SIGTERM, lambda signum, frame: print('handled', flush=True))\n"
        "with token_store.locked(Path(sys.argv[1])):\n    print('locked', flush=True)\n    time.sleep(30)\n"
        "print('went on', flush=True)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code, str(isolated.qwen_home)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "locked"
    proc.send_signal(signal.SIGTERM)
    assert ended_after_signal(proc) == 128 + signal.SIGTERM
    assert proc.stdout.read().split() == ["handled"]
    assert not (isolated.qwen_home / "oauth_creds.lock").exists()
