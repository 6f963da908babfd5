"""A project file qwen cannot read (no permission, a disk error) is left out of what `qwen trust` pins; the
other project files in the folder still count. Staged in-process: the tests run as root, which reads all."""

from __future__ import annotations

import errno
from pathlib import Path

from qwen_cli import paths, trust


def test_an_unreadable_project_file_is_left_out_and_the_others_still_count(isolated, monkeypatch):
    project = isolated.work
    config = project / paths.PROJECT_DIR_NAME / "config.toml"
    config.parent.mkdir()
    config.write_text("[general]\nmodel = 'x'\n")
    (project / ".env").write_text("A=1\n")
    real = Path.read_bytes

    def refuse_config(self):
        if self == config:
            raise PermissionError(errno.EACCES, "Permission denied", str(self))
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", refuse_config)
    assert trust.project_files(project) == {".env": b"A=1\n"}
