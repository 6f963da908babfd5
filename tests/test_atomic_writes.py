"""A write of user state that fails halfway (a full disk, a quota) leaves the file as it was, never torn.

The failure is made deterministic with RLIMIT_FSIZE on the `qwen` subprocess: any write past the limit fails
with EFBIG (Python ignores SIGXFSZ), like a disk that fills up in the middle of the write. A write in place
(truncate, then write) leaves a truncated file; a write to a temp file and a rename leaves the old one.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import time

import pytest

from tests.helpers import qwen_command, run_qwen

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="RLIMIT_FSIZE is POSIX")


def _run_with_file_size_limit(args: list[str], limit: int) -> subprocess.CompletedProcess:
    import resource
    import signal

    def limit_file_size():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG instead of death, whatever the child does first
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return subprocess.run(
        qwen_command() + args,
        capture_output=True,
        text=True,
        env=dict(os.environ),
        timeout=60,
        preexec_fn=limit_file_size,
    )


def test_config_set_that_fails_midway_leaves_the_old_config_whole(isolated):
    config = isolated.qwen_home / "config.toml"
    for key, value in (("general.model", "m" * 200), ("network.max_retries", "4"), ("chat.history_size", "50")):
        assert run_qwen(["config", "set", key, value]).exit_code == 0
    before = config.read_bytes()
    assert len(before) > 200

    result = _run_with_file_size_limit(["config", "set", "general.model", "n" * 400], limit=len(before) // 2)

    assert result.returncode == 8, result.stderr
    assert result.stderr.splitlines()[0] == f"Error: cannot write {config}: File too large", result.stderr
    assert "Traceback" not in result.stderr
    assert config.read_bytes() == before
    assert sorted(p.name for p in isolated.qwen_home.iterdir()) == ["config.toml", "config.toml.lock"]
    assert run_qwen(["config", "get", "general.model"]).stdout.strip() == "m" * 200


def test_a_write_failure_names_the_file_and_the_reason(isolated, tmp_path):
    from qwen_cli.errors import ConfigError
    from qwen_cli.fsutil import atomic_write

    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where a directory should be\n")
    target = blocker / "config.toml"
    with pytest.raises(ConfigError) as caught:
        atomic_write(target, "x = 1\n")
    assert caught.value.message == f"cannot write {target}: File exists"  # mkdir of its parent failed


def test_a_private_dir_that_others_can_enter_is_tightened(isolated, tmp_path):
    from qwen_cli.fsutil import atomic_write

    state = tmp_path / "state"
    state.mkdir()
    os.chmod(state, 0o701)  # only "others may traverse": the narrowest leak
    atomic_write(state / "config.toml", "x = 1\n")
    assert stat.S_IMODE(state.stat().st_mode) == 0o700
    assert stat.S_IMODE((state / "config.toml").stat().st_mode) == 0o600


def test_temp_files_of_killed_writers_are_swept_after_a_minute_and_only_theirs(isolated, tmp_path):
    from qwen_cli.fsutil import atomic_write

    state = tmp_path / "state"
    state.mkdir(mode=0o700)
    now = time.time()
    old = state / ".credentials.toml.k1ll3d.tmp"  # a writer killed 60.5 s ago: its copy of the secrets must go
    young = state / ".credentials.toml.w0rk1n.tmp"  # a writer that may still be running
    other = state / ".config.toml.0th3r.tmp"  # another file's temp file, however old
    not_temp = state / ".credentials.toml.bak"
    for path in (old, young, other, not_temp):
        path.write_text("secret\n")
    os.utime(old, (now - 60.5, now - 60.5))
    for path in (other, not_temp):
        os.utime(path, (now - 61, now - 61))
    os.utime(young, (now - 59, now - 59))
    link = state / ".credentials.toml.l1nk.tmp"  # a symlink named like one is not followed or removed
    link.symlink_to(not_temp)
    os.utime(link, (now - 61, now - 61), follow_symlinks=False)
    for i in range(40):  # many unrelated names, so the sweep cannot stop at the first that does not match
        (state / f"unrelated-{i}").write_text("")

    atomic_write(state / "credentials.toml", "[coding-plan]\n")

    assert not old.exists()
    assert young.exists() and other.exists() and not_temp.exists() and link.is_symlink()
    assert sorted(p.name for p in state.glob(".credentials.toml.*.tmp")) == [link.name, young.name]
