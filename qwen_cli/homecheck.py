"""ssh's StrictModes for $QWEN_HOME: a home that someone else can change is refused, secrets others can read
are made private.

A home writable by other users (or by a group with members besides you), or owned by another user, could
have had a config.toml, a base URL or a symlink planted in it: qwen refuses it (exit 8) rather than send your
key where it says. Like Debian's ssh, a group-writable home is fine when the group is yours alone (the
user-private-group scheme behind umask 002). root's files are trusted, as ssh trusts them. A home that doesn't
exist yet is fine: qwen creates it 0700. Nothing is checked on Windows, where these modes don't exist.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from qwen_cli.errors import ConfigError

SECRET_FILES = ("credentials.toml", "oauth_creds.json")


def check(home: Path) -> list[str]:
    """Refuse an unsafe home (ConfigError), then tighten its secret files; returns one warning per file tightened."""
    refuse_unsafe(home)
    return tighten_secrets(home)


def refuse_unsafe(home: Path) -> None:
    if os.name == "nt":
        return
    try:
        info = os.stat(home)
    except OSError:
        return  # not there yet (created 0700 on first write), or unreadable: reading it reports that
    if not stat.S_ISDIR(info.st_mode):
        return  # a file where the home should be: reading it reports that, with its own hint
    problem = _problem(info)
    if problem is None:
        return
    owner_hint = "" if _trusted_owner(info.st_uid) else f"chown {_user_name(os.geteuid())} {home} && "
    raise ConfigError(
        f"refusing to use {home}: {problem}, so others could change your settings or read your keys",
        hint=f"Make it yours alone: {owner_hint}chmod 700 {home}",
    )


def _problem(info: os.stat_result) -> str | None:
    mode = stat.S_IMODE(info.st_mode)
    if not _trusted_owner(info.st_uid):
        return f"it is owned by another user ({_user_name(info.st_uid)})"
    if mode & stat.S_IWOTH:
        return f"it is writable by every user (mode {mode:04o})"
    if mode & stat.S_IWGRP and not _group_is_only(info.st_gid, info.st_uid):
        return f"it is writable by the group {_group_name(info.st_gid)} (mode {mode:04o})"
    return None


def _trusted_owner(uid: int) -> bool:
    return uid in (os.geteuid(), 0)


def _group_is_only(gid: int, uid: int) -> bool:
    """Whether the group has exactly one member and that member is `uid` (Debian ssh's rule for group-writable)."""
    import grp
    import pwd

    try:
        group = grp.getgrgid(gid)
        owner = pwd.getpwuid(uid).pw_name
    except KeyError:
        return False
    members = {entry.pw_name for entry in pwd.getpwall() if entry.pw_gid == gid} | set(group.gr_mem)
    return members == {owner}


def _user_name(uid: int) -> str:
    try:
        import pwd

        return pwd.getpwuid(uid).pw_name
    except (ImportError, KeyError):
        return f"uid {uid}"


def _group_name(gid: int) -> str:
    try:
        import grp

        return grp.getgrgid(gid).gr_name
    except (ImportError, KeyError):
        return f"gid {gid}"


def tighten_secrets(home: Path) -> list[str]:
    """chmod 0600 the secret files (their targets, when symlinked) that group or others may read."""
    if os.name == "nt":
        return []
    warnings = []
    profiles = sorted(p.name for p in Path(home).glob("oauth_creds.*.json"))  # named profiles' OAuth tokens
    for name in (*SECRET_FILES, *profiles):
        path = Path(home) / name
        try:
            info = os.stat(path)
        except OSError:
            continue
        mode = stat.S_IMODE(info.st_mode)
        if not stat.S_ISREG(info.st_mode) or not mode & 0o077:
            continue
        try:
            os.chmod(path, 0o600)
        except OSError as exc:
            warnings.append(
                f"{path} is open to group or others (mode {mode:04o}) and could not be made private: "
                f"{exc.strerror or exc}; run chmod 600 {path}"
            )
            continue
        warnings.append(f"{path} was open to group or others (mode {mode:04o}); qwen set it to 0600")
    return warnings
