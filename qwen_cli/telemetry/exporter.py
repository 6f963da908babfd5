"""Export queued events as OTLP/HTTP JSON logs to `telemetry.endpoint`, and nowhere else.

- At most one automatic export a minute (a stamp file records the last attempt).
- The command never waits for it: the hook starts a detached `python -m qwen_cli.telemetry.exporter`.
- A failed send keeps the events (the queue stays bounded); `qwen telemetry flush` sends at once.
- Every sender checks, under the send lock and right before sending, that statistics are still
  allowed. `qwen telemetry off` takes the same lock, so after it returns nothing more is sent.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from qwen_cli.telemetry import spool

if TYPE_CHECKING:
    from qwen_cli.settings import Settings

INTERVAL_SECONDS = 60.0
BATCH_SIZE = 200
CONNECT_TIMEOUT = 3.0
READ_TIMEOUT = 5.0
SCOPE = "qwen_cli.telemetry"


@dataclass
class SendResult:
    sent: int = 0
    kept: int = 0
    requests: int = 0
    skipped: str | None = None  # why nothing was attempted
    error: str | None = None  # why a send failed (events kept)


def _attribute(key: str, value: object) -> dict[str, object]:
    wrapped: dict[str, object]
    if isinstance(value, bool):
        wrapped = {"boolValue": value}
    elif isinstance(value, int):
        wrapped = {"intValue": str(value)}
    elif isinstance(value, list):
        wrapped = {"arrayValue": {"values": [{"stringValue": str(v)} for v in value]}}
    else:
        wrapped = {"stringValue": str(value)}
    return {"key": key, "value": wrapped}


def otlp_payload(events: list[dict]) -> dict:
    """The exact JSON body POSTed for `events` (already allowlisted)."""
    from qwen_cli import __version__

    records = []
    for event in events:
        records.append(
            {
                "timeUnixNano": str(int(event["ts"]) * 1_000_000_000),
                "severityNumber": 17 if event["event"] == "crash" else 9,
                "severityText": "ERROR" if event["event"] == "crash" else "INFO",
                "body": {"stringValue": event["event"]},
                "attributes": [_attribute(k, v) for k, v in event.items() if k not in ("ts", "event")],
            }
        )
    return {
        "resourceLogs": [
            {
                "resource": {
                    "attributes": [
                        _attribute("service.name", "qwen-cli"),
                        _attribute("service.version", __version__),
                    ]
                },
                "scopeLogs": [{"scope": {"name": SCOPE, "version": "1"}, "logRecords": records}],
            }
        ]
    }


def due(home: Path, now: float | None = None) -> bool:
    now = time.time() if now is None else now
    try:
        last = float(spool.stamp_file(home).read_text("ascii").strip())
    except (FileNotFoundError, ValueError, UnicodeDecodeError):
        return True
    return now - last >= INTERVAL_SECONDS or last > now + INTERVAL_SECONDS


def claim(home: Path, now: float | None = None) -> bool:
    """True (and the stamp updated) when an automatic export may start now."""
    from qwen_cli.fsutil import atomic_write

    now = time.time() if now is None else now
    with spool.spool_lock(home):
        if not due(home, now):
            return False
        atomic_write(spool.stamp_file(home), f"{now:.3f}\n", mode=0o600)
    return True


def _post(settings: Settings, url: str, body: bytes) -> None:
    """POST one batch through the same HTTP layer as answers (proxy, NO_PROXY, CA bundle), briefly."""
    from dataclasses import replace

    from qwen_cli import __version__
    from qwen_cli.providers import http
    from qwen_cli.providers.events import NetworkOptions

    network = replace(
        NetworkOptions.from_settings(settings),
        connect_timeout=CONNECT_TIMEOUT,
        read_timeout=READ_TIMEOUT,
        extra_headers={},
    )
    # The short User-Agent is deliberate: no OS or CPU details go to a statistics collector.
    headers = {"Content-Type": "application/json", "User-Agent": f"qwen-cli/{__version__}"}
    # No redirects: a collector must not be able to forward the statistics elsewhere.
    response = http.send("POST", url, headers=headers, network=network, data=body, retries=0, allow_redirects=False)
    response.close()
    if not 200 <= response.status_code < 300:
        raise OSError(f"the collector answered HTTP {response.status_code}")


def send(settings: Settings, home: Path | None = None) -> SendResult:
    """Send everything queued now, in batches. Events are removed only once delivered."""
    from qwen_cli.telemetry.policy import sending_allowed

    home = Path(settings.home if home is None else home)
    result = SendResult()
    if not spool.queue_file(home).exists():
        allowed, why = sending_allowed(settings)
        result.skipped = None if allowed else why
        return result
    with spool.send_lock(home):
        allowed, why = sending_allowed(settings)
        pairs = spool.snapshot(home)
        if not allowed:
            result.skipped, result.kept = why, len(pairs)
            return result
        url = why
        for start in range(0, len(pairs), BATCH_SIZE):
            batch = pairs[start : start + BATCH_SIZE]
            body = json.dumps(otlp_payload([event for _, event in batch]), separators=(",", ":")).encode()
            try:
                result.requests += 1
                _post(settings, url, body)
            except Exception as exc:  # noqa: BLE001 - any failure keeps the events for later
                result.error = _describe(exc)
                result.kept = len(pairs) - start
                return result
            spool.remove(home, [line for line, _ in batch])
            result.sent += len(batch)
    return result


def _describe(exc: BaseException) -> str:
    """A failure reason without the URL (requests' messages repeat it)."""
    from qwen_cli.errors import NetworkError

    if isinstance(exc, OSError) and str(exc).startswith("the collector answered"):
        return str(exc)
    if isinstance(exc, NetworkError):
        timed_out = "timed out" in exc.message or "sent nothing" in exc.message
        return "the collector did not answer in time" if timed_out else "could not connect to the collector"
    return type(exc).__name__


def spawn_background(env, cwd) -> None:
    """Start a detached sender. Returns immediately; the command's exit is never delayed by the network."""
    import os
    import subprocess
    import sys

    kwargs: dict = {
        "stdin": subprocess.DEVNULL,
        "stdout": subprocess.DEVNULL,
        "stderr": subprocess.DEVNULL,
        "close_fds": True,
        "cwd": str(cwd),
        "env": dict(env),
    }
    if os.name == "nt":
        kwargs["creationflags"] = getattr(subprocess, "DETACHED_PROCESS", 0) | getattr(
            subprocess, "CREATE_NEW_PROCESS_GROUP", 0
        )
    else:
        kwargs["start_new_session"] = True
    subprocess.Popen([sys.executable, "-m", "qwen_cli.telemetry.exporter"], **kwargs)


def main() -> int:
    """Entry point of the detached sender. Silent; any failure leaves the queue as it was."""
    try:
        from qwen_cli.settings import Settings

        send(Settings.load())
    except Exception:  # noqa: BLE001 - a background sender has nobody to report to
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
