"""Where state lives. `QWEN_HOME` moves all of it; the default is `~/.qwen`, shared with Qwen Code."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

PROJECT_DIR_NAME = ".qwen"
QWEN_CODE_SETTINGS = "settings.json"  # Qwen Code's own settings, in $QWEN_HOME and in a project's .qwen/


def qwen_home(env: Mapping[str, str] | None = None) -> Path:
    """`$QWEN_HOME` (`~` expanded), else a QWEN_HOME set in `~/.qwen/.env` or `~/.env` (in that order: Qwen Code
    0.24's `preResolveHomeEnvOverrides`), else `~/.qwen`. A project `.env` never moves it."""
    env = os.environ if env is None else env
    override = env.get("QWEN_HOME") or (None if "QWEN_HOME" in env else _home_from_user_dotenv(env))
    if override:
        return Path(override).expanduser()
    return user_home(env) / PROJECT_DIR_NAME


def _home_from_user_dotenv(env: Mapping[str, str]) -> str | None:
    home = user_home(env)
    for candidate in (home / PROJECT_DIR_NAME / ".env", home / ".env"):
        value = read_dotenv_file(candidate).get("QWEN_HOME")
        if value:
            return value
    return None


def read_dotenv_file(path: Path) -> dict[str, str]:
    """The variables a `.env` file sets ({} when it is missing, unreadable or not UTF-8)."""
    try:
        data = path.read_bytes() if _readable_file(path) else b""
    except OSError:
        return {}
    return parse_dotenv(data)


def parse_dotenv(data: bytes) -> dict[str, str]:
    if not data.strip():  # most folders have no .env: python-dotenv's import (~5 ms) is not needed for nothing
        return {}
    import io

    from dotenv import dotenv_values

    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return {}
    return {k: v for k, v in dotenv_values(stream=io.StringIO(text), interpolate=False).items() if v is not None}


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


def oauth_refused_file(home: Path) -> Path:
    """qwen's own note that the server refused the stored refresh token (Qwen Code does not read it)."""
    return home / "oauth_creds.refused"


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
    """Qwen Code 0.24's `findEnvFiles`: walking up from the real `cwd`, the first `.qwen/.env` or `.env`
    found, stopping at the user's home directory (whose files are not project files); then `$QWEN_HOME/.env`
    and `~/.env`. Each file fills only variables the earlier ones left unset. A file reached twice (through a
    symlink) is listed once."""
    found: list[Path] = []
    user_dir = _real(user_home(env))
    for directory in (Path(_real(cwd)), *Path(_real(cwd)).parents):
        if str(directory) == user_dir:
            break
        hit = next((c for c in (directory / PROJECT_DIR_NAME / ".env", directory / ".env") if _readable_file(c)), None)
        if hit is not None:
            found.append(hit)
            break
    seen = {_real(p) for p in found}
    for candidate in (home / ".env", user_home(env) / ".env"):
        if _readable_file(candidate) and _real(candidate) not in seen:
            found.append(candidate)
            seen.add(_real(candidate))
    return found


def _real(path: Path) -> str:
    return os.path.realpath(path)


def _readable_file(path: Path) -> bool:
    try:
        return path.is_file() and os.access(path, os.R_OK)
    except OSError:
        return False


def qwen_code_settings_file(home: Path) -> Path:
    """Qwen Code's user settings.json in $QWEN_HOME (read-only to qwen: qwen_code_source.py)."""
    return home / QWEN_CODE_SETTINGS
