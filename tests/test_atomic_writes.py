"""A write of user state that fails halfway (a full disk, a quota) leaves the file as it was, never torn.

The failure is made deterministic with RLIMIT_FSIZE on the `qwen` subprocess: any write past the limit fails
with EFBIG (Python ignores SIGXFSZ), like a disk that fills up in the middle of the write. A write in place
(truncate, then write) leaves a truncated file; a write to a temp file and a rename leaves the old one.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.helpers import qwen_command, run_qwen

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="RLIMIT_FSIZE is POSIX")


def _run_with_file_size_limit(args: list[str], limit: int) -> subprocess.CompletedProcess:
    import resource
    import signal

    def limit_file_size():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG instead of death, whatever the child does first
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return subprocess.run(qwen_command() + args, capture_output=True, text=True, env=dict(os.environ),
                          timeout=60, preexec_fn=limit_file_size)


def test_config_set_that_fails_midway_leaves_the_old_config_whole(isolated):
    config = isolated.qwen_home / "config.toml"
    for key, value in (("general.model", "m" * 200), ("network.max_retries", "4"), ("chat.history_size", "50")):
        assert run_qwen(["config", "set", key, value]).exit_code == 0
    before = config.read_bytes()
    assert len(before) > 200

    result = _run_with_file_size_limit(["config", "set", "general.model", "n" * 400], limit=len(before) // 2)

    assert result.returncode == 8, result.stderr
    assert result.stderr.startswith(f"Error: cannot write {config}"), result.stderr
    assert "Traceback" not in result.stderr
    assert config.read_bytes() == before
    assert sorted(p.name for p in isolated.qwen_home.iterdir()) == ["config.toml", "config.toml.lock"]
    assert run_qwen(["config", "get", "general.model"]).stdout.strip() == "m" * 200
