"""The memory bounds of the hostile-server and local-input tests measure qwen, not the test process."""

from __future__ import annotations

import subprocess
import sys

from tests.security.peak_rss import Launched


def test_a_big_test_process_does_not_inflate_the_measured_peak():
    ballast = bytearray(300 * 1024 * 1024)
    ballast[::4096] = b"\x01" * len(ballast[::4096])  # touched, so it is resident
    small = Launched([sys.executable, "-c", "x = bytearray(40 * 1024 * 1024); x[::4096] = b'1' * len(x[::4096])"])
    exit_code, peak_kb = small.result()
    assert exit_code == 0
    assert 40 * 1024 < peak_kb < 150 * 1024, peak_kb  # its own 40 MiB and an interpreter, not our 300
    del ballast


def test_the_exit_code_and_a_kill_come_through():
    assert Launched([sys.executable, "-c", "raise SystemExit(7)"], stderr=subprocess.DEVNULL).result()[0] == 7
    slow = Launched([sys.executable, "-c", "import time; time.sleep(60)"])
    slow.kill()
    assert slow.result()[0] == -9
