"""Where state lives. `QWEN_HOME` moves all of it; the default is `~/.qwen`, shared with Qwen Code."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

PROJECT_DIR_NAME = ".qwen"


def qwen_home(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    override = env.get("QWEN_HOME")
    if override:
        return Path(override).expanduser()
    return Path(env.get("HOME") or Path.home()) / ".qwen"


def user_home(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    return Path(env.get("HOME") or Path.home())


def user_config_file(home: Path) -> Path:
    return home / "config.toml"


def credentials_file(home: Path) -> Path:
    return home / "credentials.toml"


def oauth_creds_file(home: Path) -> Path:
    return home / "oauth_creds.json"


def oauth_lock_file(home: Path) -> Path:
    return home / "oauth_creds.lock"


def find_project_config(cwd: Path, home: Path) -> Path | None:
    """The nearest `.qwen/config.toml` walking up from `cwd`, never the user's own file."""
    user_file = user_config_file(home).resolve()
    for directory in (cwd, *cwd.parents):
        candidate = directory / PROJECT_DIR_NAME / "config.toml"
        if _readable_file(candidate) and candidate.resolve() != user_file:
            return candidate
    return None


def find_dotenv(cwd: Path, home: Path, env: Mapping[str, str] | None = None) -> Path | None:
    """The first `.env` file in play (see find_dotenv_files)."""
    found = find_dotenv_files(cwd, home, env)
    return found[0] if found else None


def find_dotenv_files(cwd: Path, home: Path, env: Mapping[str, str] | None = None) -> list[Path]:
    """Qwen Code 0.24's `.env` discovery: walking up from `cwd`, the first `.qwen/.env` or `.env` found;
    then `$QWEN_HOME/.env` and `~/.env`. Each file fills only variables the earlier ones left unset."""
    found: list[Path] = []
    for directory in (cwd, *cwd.parents):
        hit = next(
            (c for c in (directory / PROJECT_DIR_NAME / ".env", directory / ".env") if _readable_file(c)), None
        )
        if hit is not None:
            found.append(hit)
            break
    seen = {os.path.realpath(p) for p in found}
    for candidate in (home / ".env", user_home(env) / ".env"):
        if _readable_file(candidate) and os.path.realpath(candidate) not in seen:
            found.append(candidate)
            seen.add(os.path.realpath(candidate))
    return found


def _readable_file(path: Path) -> bool:
    try:
        return path.is_file() and os.access(path, os.R_OK)
    except OSError:
        return False
