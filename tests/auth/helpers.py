"""Shared bits for the auth tests: settings pointed at the loopback OAuth server, and seeded token files."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from qwen_cli.settings import Settings

CANARY_KEY = "sk-CANARY-4f1d2a9b7c3e8d60"
CANARY_PLAN_KEY = "sk-sp-CANARY-77aa55cc33ee11"
CANARY_ACCESS = "qat-CANARY-access-9e8d7c6b5a"
CANARY_REFRESH = "qrt-CANARY-refresh-1a2b3c4d5e"


def settings_for(oauth_server=None, **env) -> Settings:
    environ = dict(os.environ)
    if oauth_server is not None:
        environ["QWEN_OAUTH_BASE_URL"] = oauth_server.base_url
    environ.update(env)
    return Settings.load(env=environ, cwd=Path.cwd())


def seed_oauth(
    oauth_server,
    qwen_home: Path,
    expires_in: float = 3600,
    access: str | None = None,
    refresh: str | None = None,
    resource_url: str | None = "default",
) -> dict:
    """Register a token pair with the stub and write it to oauth_creds.json as Qwen Code would."""
    body = oauth_server.issue_tokens(refresh_token=refresh, access_token=access)
    data = {
        "access_token": body["access_token"],
        "refresh_token": body["refresh_token"],
        "token_type": "Bearer",
        "resource_url": oauth_server.openai.url if resource_url == "default" else resource_url,
        "expiry_date": int((time.time() + expires_in) * 1000),
    }
    if data["resource_url"] is None:
        del data["resource_url"]
    qwen_home.mkdir(parents=True, exist_ok=True, mode=0o700)
    (qwen_home / "oauth_creds.json").write_text(json.dumps(data))
    os.chmod(qwen_home / "oauth_creds.json", 0o600)
    return data


def read_creds(qwen_home: Path) -> dict:
    return json.loads((qwen_home / "oauth_creds.json").read_text())


class VirtualClock:
    """A monotonic clock that only moves when slept on: poll waits take no real time and are recorded."""

    def __init__(self, start: float = 1000.0):
        self.now = start
        self.waits: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += seconds

    def install(self, monkeypatch) -> VirtualClock:
        """Make in-process device logins (`qwen auth login` through invoke()) poll on this clock."""
        from qwen_cli.auth import qwen_oauth

        monkeypatch.setattr(qwen_oauth, "_sleep", self.sleep)
        monkeypatch.setattr(qwen_oauth, "_clock", self)
        return self
