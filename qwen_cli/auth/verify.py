"""`--verify`: one cheap authenticated request (GET /models) and a record of what it showed, and when.

Records are kept per login (`api-key:openrouter`, ...) with the fingerprint of the key that was checked;
`last()` returns one only for the same key, so a result never stands next to a different key."""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qwen_cli.auth.credentials import Credentials
from qwen_cli.errors import AuthError, QuotaError, QwenError, RateLimitError

if TYPE_CHECKING:
    from qwen_cli.settings import Settings

STATE_FILE = "auth_verified.json"


@dataclass
class Verification:
    ok: bool
    what: str  # the request that was made
    at: float  # epoch seconds
    detail: str
    exit_code: int = 0
    models: int | None = None
    fingerprint: str | None = None  # of the key that was checked (see methods.base.fingerprint)


def key_of(creds: Credentials) -> str:
    from qwen_cli.auth import methods

    return methods.login_id(creds.method, creds.provider, creds.profile)


def verify(settings: Settings, creds: Credentials, region: str | None = None) -> Verification:
    """Call GET {base_url}/models with the credentials. Never raises for a provider's answer: it is reported.
    The detail is kept in auth_verified.json and shown by `auth status`, so a key the provider echoes is masked."""
    from qwen_cli.auth.methods.base import fingerprint
    from qwen_cli.secrets import redact

    result = _verify(settings, creds, region)
    result.detail = redact(result.detail, [creds.token] if creds.token else [])
    result.fingerprint = fingerprint(creds.token)
    return result


def _verify(settings: Settings, creds: Credentials, region: str | None) -> Verification:
    from qwen_cli.providers import openai_compat
    from qwen_cli.providers.events import NetworkOptions

    network = NetworkOptions.from_settings(settings, creds.provider)
    what = f"GET {creds.base_url.rstrip('/')}/models"
    at = time.time()
    try:
        models = openai_compat.list_models(creds, network, retries=1)
    except AuthError as exc:
        detail = "the credentials were rejected: " + exc.message
        return Verification(False, what, at, detail, int(exc.exit_code))
    except QuotaError as exc:
        return Verification(
            False, what, at, "the credentials work, but the quota is exhausted: " + exc.message, int(exc.exit_code)
        )
    except RateLimitError as exc:
        return Verification(
            False,
            what,
            at,
            "the credentials work, but the request was rate limited: " + exc.message,
            int(exc.exit_code),
        )
    except QwenError as exc:
        return Verification(False, what, at, exc.message, int(exc.exit_code))
    from qwen_cli.auth import methods

    where = f" in the {region} region" if region else ""
    subject = methods.get(creds.method).verified_subject if creds.token else "the server"
    return Verification(True, what, at, f"{subject} works{where}: {len(models)} models listed", 0, len(models))


def _path(home: Path) -> Path:
    return home / STATE_FILE


def record(home: Path, key: str, result: Verification) -> None:
    """Keep `result` as the latest check of the login `key`."""
    from qwen_cli.fsutil import atomic_write, locked_update

    with locked_update(_path(home)):
        data = load_all(home)
        data[key] = asdict(result)
        atomic_write(_path(home), json.dumps(data, indent=2) + "\n")


def load_all(home: Path) -> dict[str, Any]:
    try:
        data = json.loads(_path(home).read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def last(home: Path, key: str, fingerprint: str | None) -> Verification | None:
    """The latest check of the login `key`, when it was made with the key whose fingerprint is given."""
    entry = load_all(home).get(key)
    if not isinstance(entry, dict):
        return None
    try:
        found = Verification(**entry)
    except TypeError:
        return None
    return found if fingerprint is not None and found.fingerprint == fingerprint else None


def forget(home: Path, key: str) -> None:
    if key not in load_all(home):
        return
    from qwen_cli.fsutil import atomic_write, locked_update

    with locked_update(_path(home)):
        data = load_all(home)
        if key in data:
            del data[key]
            atomic_write(_path(home), json.dumps(data, indent=2) + "\n")
