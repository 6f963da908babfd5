"""What the survival suite collects across the session: every capture to scan for secrets, and the figures.

Captures are kept as (where, bytes). The figures end up in a JSON report (QWEN_SURVIVAL_REPORT, else
<tmp>/qwen-survival-report.json) and in pytest's terminal summary.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
from pathlib import Path

CANARY_KEY = "sk-sp-SURVIVALCANARY-5e0c7a1f9b3d"
CANARY_ACCESS = "qat-SURVIVALCANARY-access-2b8e6f04"
CANARY_REFRESH = "qrt-SURVIVALCANARY-refresh-c47d19a5"
CANARIES = (CANARY_KEY, CANARY_ACCESS, CANARY_REFRESH)

# Files whose job is to hold secrets (and the temp files atomic_write makes for them).
SECRET_STORES = ("credentials.toml", "oauth_creds.json")


def is_secret_store(path: Path) -> bool:
    name = path.name
    if name in SECRET_STORES:
        return True
    return any(name.startswith(f".{store}.") and name.endswith(".tmp") for store in SECRET_STORES)


class Registry:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.captures: list[tuple[str, bytes]] = []
        self.extra_secrets: set[str] = set()
        self.figures: dict[str, object] = {}
        self.ran: set[str] = set()  # node ids of the survival tests set up in this process
        # Read now: the per-test isolation clears QWEN_* variables before the report is written.
        self._report_override = os.environ.get("QWEN_SURVIVAL_REPORT")

    def capture(self, where: str, data: bytes | str) -> None:
        if isinstance(data, str):
            data = data.encode("utf-8", "replace")
        with self._lock:
            self.captures.append((where, data))

    def capture_tree(self, root: Path, label: str = "") -> int:
        """Every file under root except the secret stores; returns how many were captured."""
        count = 0
        if not root.is_dir():
            return 0
        for dirpath, _dirs, files in os.walk(root, followlinks=False):
            for name in files:
                path = Path(dirpath) / name
                if is_secret_store(path) or name == "netguard.log" or path.is_symlink() or not path.is_file():
                    continue
                try:
                    data = path.read_bytes()
                except OSError:
                    continue
                self.capture(f"file {label}{path}", data)
                count += 1
        return count

    def secret(self, value: str) -> None:
        """Another secret to look for (e.g. a token the loopback OAuth server issued)."""
        if value:
            with self._lock:
                self.extra_secrets.add(value)

    def add(self, name: str, amount: int = 1) -> None:
        with self._lock:
            self.figures[name] = int(self.figures.get(name, 0)) + amount

    def set(self, name: str, value) -> None:
        with self._lock:
            self.figures[name] = value

    def leaks(self) -> list[str]:
        needles = [c.encode() for c in CANARIES] + [c[-12:].encode() for c in CANARIES]
        needles += [s.encode() for s in sorted(self.extra_secrets)]
        found = []
        with self._lock:
            captures = list(self.captures)
        for where, data in captures:
            for needle in needles:
                if needle in data:
                    found.append(f"{needle.decode()[:14]}… in {where}")
        return found

    def report_path(self) -> Path:
        override = self._report_override
        return Path(override) if override else Path(tempfile.gettempdir()) / "qwen-survival-report.json"

    def write_report(self) -> Path | None:
        if not self.figures:
            return None
        path = self.report_path()
        try:
            path.write_text(json.dumps(self.figures, indent=2, sort_keys=True) + "\n")
        except OSError:
            return None
        return path


REGISTRY = Registry()
