"""Which project folders the user has trusted, pinned to a SHA-256 of each file (like direnv's `allow`).

A project file (a `.qwen/config.toml`, a `.env` or Qwen Code's `.qwen/settings.json` found by the walk up from
the cwd) is untrusted unless `qwen trust DIR` recorded its exact content. Editing the file makes it untrusted
again until re-trusted.
The user's own files (`$QWEN_HOME/*`, `~/.qwen/*`, `~/.env`) are always trusted.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from qwen_cli import paths

STORE_NAME = "trusted_folders.toml"

# What `qwen trust DIR` pins, relative to DIR.
PROJECT_FILES = (
    f"{paths.PROJECT_DIR_NAME}/config.toml",
    f"{paths.PROJECT_DIR_NAME}/.env",
    ".env",
    f"{paths.PROJECT_DIR_NAME}/settings.json",  # Qwen Code's workspace settings (qwen_code_source.py)
)
# Project templates (`qwen ask -t`) are pinned one by one too: DIR/.qwen/templates/NAME.toml.
TEMPLATES_DIR = f"{paths.PROJECT_DIR_NAME}/templates"


def digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def store_path(home: Path) -> Path:
    return home / STORE_NAME


@dataclass
class Folder:
    path: str
    files: dict[str, str] = field(default_factory=dict)  # relative path -> digest
    trusted_at: str = ""

    def state(self) -> dict[str, str]:
        """Each pinned file's state now: trusted, changed (edited since) or missing."""
        out = {}
        for rel, pinned in self.files.items():
            try:
                now = digest((Path(self.path) / rel).read_bytes())
            except OSError:
                out[rel] = "missing"
                continue
            out[rel] = "trusted" if now == pinned else "changed"
        return out


def load(home: Path) -> dict[str, Folder]:
    from qwen_cli.settings import read_toml

    data = read_toml(store_path(home))
    folders: dict[str, Folder] = {}
    for entry in data.get("folder", []) if isinstance(data.get("folder"), list) else []:
        if not isinstance(entry, dict) or not isinstance(entry.get("path"), str):
            continue
        files = cast("dict[Any, Any]", entry.get("files")) if isinstance(entry.get("files"), dict) else {}
        folders[entry["path"]] = Folder(
            entry["path"],
            {str(k): str(v) for k, v in files.items() if isinstance(v, str)},
            str(entry.get("trusted_at") or ""),
        )
    return folders


def _save(home: Path, folders: Mapping[str, Folder]) -> None:
    import tomli_w

    from qwen_cli.fsutil import atomic_write

    rows = [{"path": f.path, "trusted_at": f.trusted_at, "files": dict(f.files)} for f in folders.values()]
    atomic_write(store_path(home), tomli_w.dumps({"folder": rows}))


def owner_dir(file: Path) -> Path:
    """The folder a project file belongs to: `/p/.qwen/config.toml` and `/p/.env` both belong to `/p`."""
    parent = file.parent
    if parent.name == "templates" and parent.parent.name == paths.PROJECT_DIR_NAME:
        return parent.parent.parent
    return parent.parent if parent.name == paths.PROJECT_DIR_NAME else parent


def canonical(directory: Path) -> str:
    return str(real(Path(directory).expanduser()))


def real(path: Path) -> Path:
    """The path with symlinks resolved; a symlink loop resolves as far as it can instead of raising."""
    return Path(os.path.realpath(path))


def is_user_file(file: Path, home: Path, env: Mapping[str, str] | None = None) -> bool:
    """The user's own files: anything in $QWEN_HOME or ~/.qwen, and ~/.env."""
    found = real(file)
    user_home = paths.user_home(env)
    if found.parent in (real(home), real(user_home / paths.PROJECT_DIR_NAME)):
        return True
    return found == real(user_home / ".env")


def is_trusted(home: Path, file: Path, data: bytes, folders: Mapping[str, Folder] | None = None) -> bool:
    """Whether this project file, with exactly this content, was trusted by the user."""
    folders = load(home) if folders is None else folders
    directory = owner_dir(real(file))
    folder = folders.get(str(directory))
    if folder is None:
        return False
    rel = real(file).relative_to(directory).as_posix()
    return folder.files.get(rel) == digest(data)


def project_files(directory: Path) -> dict[str, bytes]:
    """The project files present in `directory`, by relative path."""
    found = {}
    templates = sorted((Path(directory) / TEMPLATES_DIR).glob("*.toml"))
    for rel in (*PROJECT_FILES, *(f"{TEMPLATES_DIR}/{t.name}" for t in templates)):
        candidate = Path(directory) / rel
        try:
            if candidate.is_file():
                found[rel] = candidate.read_bytes()
        except OSError:
            continue
    return found


def trust(home: Path, directory: Path) -> Folder:
    """Pin the current content of the project files in `directory`. Raises UsageError when there are none."""
    from qwen_cli.errors import UsageError

    path = canonical(directory)
    if not Path(path).is_dir():
        raise UsageError(f"{path} is not a directory", hint="Give the project folder: qwen trust DIR")
    files = project_files(Path(path))
    if not files:
        raise UsageError(
            f"{path} has no project files to trust ({', '.join(PROJECT_FILES)}, {TEMPLATES_DIR}/*.toml)",
            hint="Run `qwen trust` in the folder that holds them, or give it: qwen trust DIR",
        )
    from qwen_cli.fsutil import locked_update

    folder = Folder(path, {rel: digest(data) for rel, data in files.items()}, time.strftime("%Y-%m-%dT%H:%M:%S%z"))
    with locked_update(store_path(home)):  # a concurrent `qwen trust` of another folder keeps its entry
        folders = load(home)
        folders[path] = folder
        _save(home, folders)
    return folder


def revoke(home: Path, directory: Path) -> bool:
    from qwen_cli.fsutil import locked_update

    if canonical(directory) not in load(home):
        return False
    with locked_update(store_path(home)):
        folders = load(home)
        removed = folders.pop(canonical(directory), None)
        if removed is not None:
            _save(home, folders)
    return removed is not None


def trust_command(file: Path) -> str:
    """The exact command that trusts the folder `file` belongs to."""
    import shlex

    return f"qwen trust {shlex.quote(str(owner_dir(real(file))))}"
