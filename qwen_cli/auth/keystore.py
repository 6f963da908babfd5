"""Stored logins for the key-based methods: `$QWEN_HOME/credentials.toml` (0600, atomic) or the OS keyring.

Layout, one entry per method/provider:

    [coding-plan]
    region = "global"
    model = "qwen3.5-plus"
    key = "sk-sp-..."            # absent when store = "keyring" or the key comes from the environment

    [api-key.openrouter]
    model = "qwen/qwen3-coder"
    base_url = "https://..."     # only when overridden at login
    store = "keyring"

    [api-key."openrouter@work"]  # the same provider's login in the profile `work` (auth/profiles.py)
    ["coding-plan@work"]
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qwen_cli import paths
from qwen_cli.auth.profiles import split, suffix
from qwen_cli.errors import AuthError, ConfigError, UsageError

KEYRING_SERVICE = "qwen-cli"
KEYRING_MISSING = "the OS keyring needs the optional extra: pip install 'qwen-cli[keyring]'"


@dataclass
class Entry:
    """One stored login in credentials.toml or the keyring: its method, provider, profile and stored fields."""

    method: str
    provider: str | None  # for a per-provider method (API keys); None otherwise
    data: dict[str, Any] = field(default_factory=dict)
    profile: str | None = None  # None: the default profile (no suffix, as stored before profiles)

    @property
    def store(self) -> str:
        return "keyring" if self.data.get("store") == "keyring" else "file"

    @property
    def id(self) -> str:
        """The login's name, also the keyring's: `coding-plan`, `api-key:openai`, `api-key:openai@work`."""
        return (self.method if self.provider is None else f"{self.method}:{self.provider}") + suffix(self.profile)

    @property
    def table(self) -> str:
        """The name of its table in credentials.toml (the provider's, for a per-provider method)."""
        return (self.method if self.provider is None else self.provider) + suffix(self.profile)

    @property
    def store_name(self) -> str:
        return "the OS keyring" if self.store == "keyring" else "credentials.toml"


def path_for(home: Path) -> Path:
    return paths.credentials_file(home)


def load(home: Path) -> dict[str, Any]:
    from qwen_cli.settings import read_toml

    data = read_toml(path_for(home))
    return data if isinstance(data, dict) else {}


STRING_FIELDS = ("key", "region", "model", "base_url", "store")


def _checked(home: Path, entry: Entry) -> Entry:
    """A hand-edited file can hold any TOML type; the fields we use must be strings (else exit 8, not a crash)."""
    for name in STRING_FIELDS:
        value = entry.data.get(name)
        if value is not None and not isinstance(value, str):
            where = entry.table if entry.provider is None else f"{entry.method}.{entry.table}"
            raise ConfigError(
                f"{path_for(home)}: [{where}] {name} must be a string, got {type(value).__name__}",
                hint="Fix that line, or delete the entry and log in again with `qwen auth login`.",
            )
    return entry


def _per_provider(method: str) -> bool:
    from qwen_cli.auth import methods

    return method in methods.METHODS and methods.get(method).takes_provider


def entries(home: Path) -> list[Entry]:
    """Every stored entry of every profile, in the registry's order of methods; a per-provider method's in
    file order. The table of a method is named by its id: `[coding-plan]`, `[api-key.<provider>]`; a named
    profile's gets `@<profile>` after the method (or the provider)."""
    from qwen_cli.auth import methods

    data = load(home)
    found: list[Entry] = []
    for method in methods.ids():
        if not _per_provider(method):
            for name, table in data.items():
                base, profile = split(name)
                if base == method and isinstance(table, dict):
                    found.append(_checked(home, Entry(method, None, dict(table), profile)))
            continue
        table = data.get(method)
        if not isinstance(table, dict):
            continue
        for name, entry in table.items():
            if isinstance(entry, dict):
                provider, profile = split(name)
                found.append(_checked(home, Entry(method, provider, dict(entry), profile)))
    return found


def get(home: Path, method: str, provider: str | None = None, profile: str | None = None) -> Entry | None:
    keyed = _per_provider(method)
    for entry in entries(home):
        if entry.method == method and entry.profile == profile and (not keyed or entry.provider == provider):
            return entry
    return None


def _write(home: Path, data: dict[str, Any]) -> None:
    import tomli_w

    from qwen_cli.fsutil import atomic_write

    atomic_write(path_for(home), tomli_w.dumps(data))


def save(home: Path, entry: Entry, secret: str | None, store: str = "file") -> None:
    """Store (replacing) one entry. With store="keyring" the secret goes to the OS keyring, not the file.
    The file is read, changed and written under its lock, so concurrent logins all keep their entries."""
    from qwen_cli.fsutil import locked_update

    record = {k: v for k, v in entry.data.items() if v is not None and k not in ("key", "store")}
    if secret:
        if store == "keyring":
            keyring_set(entry.id, secret)
            record["store"] = "keyring"
        else:
            record["key"] = secret
    with locked_update(path_for(home)):
        data = load(home)
        if entry.provider is None:
            data[entry.table] = record
        else:
            data.setdefault(entry.method, {})[entry.table] = record
        old = get(home, entry.method, entry.provider, entry.profile)
        _write(home, data)
    if old is not None and old.store == "keyring" and record.get("store") != "keyring":
        keyring_delete(entry.id, missing_ok=True)
    entry.data = record


def remove(home: Path, method: str, provider: str | None = None, profile: str | None = None) -> bool:
    from qwen_cli.fsutil import locked_update

    if get(home, method, provider, profile) is None:
        return False  # nothing to remove: don't create a lock (or $QWEN_HOME) just to find that out
    with locked_update(path_for(home)):
        old = get(home, method, provider, profile)
        if old is None:
            return False
        data = load(home)
        if not _per_provider(method):
            data.pop(old.table, None)
        else:
            table = data.get(method, {})
            table.pop(old.table, None)
            if not table:
                data.pop(method, None)
        _write(home, data)
    if old.store == "keyring":
        keyring_delete(old.id, missing_ok=True)
    return True


def secret_of(entry: Entry) -> tuple[str | None, str]:
    """(secret, source) for a stored entry; source is "credentials.toml" or "keyring"."""
    if entry.store == "keyring":
        return keyring_get(entry.id), "keyring"
    key = entry.data.get("key")
    return (key if isinstance(key, str) and key else None), "credentials.toml"


def _keyring(for_reading: bool = False) -> Any:
    try:
        import keyring
    except ImportError:
        if for_reading:
            raise AuthError(
                "a key is stored in the OS keyring, but " + KEYRING_MISSING,
                hint="Install the extra, or log in again with --store file.",
            ) from None
        raise UsageError(KEYRING_MISSING, hint="Or keep the key in $QWEN_HOME/credentials.toml: --store file") from None
    return keyring


def require_keyring() -> None:
    _keyring()


def keyring_set(name: str, secret: str) -> None:
    kr = _keyring()
    try:
        kr.set_password(KEYRING_SERVICE, name, secret)
    except Exception as exc:  # noqa: BLE001 - keyring backends raise many kinds
        raise UsageError(
            f"the OS keyring refused to store the key ({type(exc).__name__})",
            hint="Use --store file to keep it in $QWEN_HOME/credentials.toml (mode 0600).",
        ) from None


def keyring_get(name: str) -> str | None:
    kr = _keyring(for_reading=True)
    try:
        found = kr.get_password(KEYRING_SERVICE, name)
        return found if isinstance(found, str) else None
    except Exception as exc:  # noqa: BLE001
        raise AuthError(
            f"cannot read the key from the OS keyring ({type(exc).__name__})",
            hint="Unlock your keyring, or log in again with --store file.",
        ) from None


def keyring_delete(name: str, missing_ok: bool = False) -> None:
    try:
        kr = _keyring()
    except UsageError:
        if missing_ok:
            return
        raise
    try:
        kr.delete_password(KEYRING_SERVICE, name)
    except Exception:  # noqa: BLE001 - already gone, or no backend: nothing more to remove
        pass
