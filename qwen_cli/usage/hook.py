"""The one place a request is recorded in the usage ledger: `recorded_stream()` sends through the adapter and
passes its events through unchanged, and when the stream ends (finished, failed, cut or abandoned) appends one
record. `qwen ask` and `qwen chat` both send through it.

It must not slow `qwen ask` (the one-shot budget is tight): nothing is imported here that the request path
hasn't loaded already, and the record is one small append (`ask --each` collects its records in a Batch and
appends them together). A ledger that can't be written never fails the request: one warning per invocation
at most.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator
from types import EllipsisType
from typing import TYPE_CHECKING, Any

from qwen_cli.errors import QuotaError, QwenError
from qwen_cli.providers.events import Finish, Usage

if TYPE_CHECKING:
    from qwen_cli.auth.credentials import Credentials
    from qwen_cli.context import AppContext
    from qwen_cli.providers.events import ChatRequest, Event, NetworkOptions

WARNED = "usage-ledger-unwritable"  # in app.shown_once: the warning is printed once per invocation


class Batch:
    """Records kept in memory and appended together, one locked write per flush: `ask --each` installs one
    as `batch` for its run (its workers finish hundreds of requests a second), ticks it from the thread that
    writes the output lines (a flush every FLUSH_EVERY seconds at most) and closes it when the run ends."""

    FLUSH_EVERY = 0.1

    def __init__(self, app: AppContext) -> None:
        from qwen_cli.usage import ledger

        self._app = app
        self._lock = threading.Lock()
        self._records: list[dict[str, Any]] = []
        self._flushed_at = time.monotonic()
        self._closed = False
        self.enabled = ledger.enabled(app.settings)  # the same for every request of the run: asked once
        self._regions: dict[tuple[str | None, str | None], str | None] = {}

    def region_of(self, credentials: Credentials) -> str | None:
        """region_of(), worked out once per login of the run (it reads only these two fields and settings)."""
        key = (credentials.base_url_source, credentials.method)
        if key not in self._regions:
            self._regions[key] = region_of(self._app, credentials)
        return self._regions[key]

    def add(self, record: dict[str, Any]) -> None:
        with self._lock:
            if not self._closed:
                self._records.append(record)
                return
        self._append([record])  # a request that ended after the run's last flush is still recorded

    def tick(self) -> None:
        if time.monotonic() - self._flushed_at >= self.FLUSH_EVERY:
            self.flush()

    def close(self) -> None:
        with self._lock:
            self._closed = True
        self.flush()

    def flush(self) -> None:
        with self._lock:
            records, self._records = self._records, []
            self._flushed_at = time.monotonic()
        if records:
            self._append(records)

    def _append(self, records: list[dict[str, Any]]) -> None:
        try:
            from qwen_cli.usage import ledger

            settings = self._app.settings
            ledger.append_all(settings.home, records, settings.get("usage.max_bytes"))
        except Exception as exc:  # noqa: BLE001 - the ledger must never fail the request
            _warn_unwritable(self._app, exc)


# Set by a caller that sends from several threads at once (`ask --each`), like providers.http.pacer.
batch: Batch | None = None


def recorded_stream(
    app: AppContext,
    credentials: Credentials,
    request: ChatRequest,
    network: NetworkOptions,
    notify: Callable[[str], None] | None = None,
) -> Iterator[Event]:
    """The adapter's events for `request`, recorded when they end. Retry notes go to `notify` (default: a
    warning line; `--each` passes a no-op, so they don't break its progress bar)."""
    from qwen_cli.providers import openai_compat

    events = openai_compat.stream(credentials, request, network, notify=notify or app.out.warn)
    return _recorded(app, credentials, request.model or credentials.model, events)


def _recorded(app: AppContext, credentials: Credentials, model: str, events: Iterable[Event]) -> Iterator[Event]:
    started = time.monotonic()
    usage: Usage | None = None
    status = "ok"
    try:
        for event in events:
            if isinstance(event, Usage):
                usage = event
            elif isinstance(event, Finish) and event.model:
                model = event.model
            yield event
    except QuotaError as exc:
        status = type(exc).__name__
        full = _with_ledger_window(app, credentials, exc)
        if full is not exc:
            raise full from exc
        raise
    except QwenError as exc:
        status = type(exc).__name__
        raise
    except (KeyboardInterrupt, GeneratorExit):
        status = "interrupted"
        raise
    except BaseException as exc:
        status = type(exc).__name__
        raise
    finally:
        _write(app, credentials, model, usage, status, int((time.monotonic() - started) * 1000))


def record_of(
    app: AppContext,
    credentials: Credentials,
    model: str,
    usage: Usage | None,
    status: str,
    ms: int,
    region: str | None | EllipsisType = ...,
) -> dict[str, Any]:
    """One ledger record (ledger.FIELDS) for a request that ended with `status` (`region`: region_of's, if
    the caller knows it already)."""
    from qwen_cli.usage import ledger

    return {
        "time": round(ledger.now(app.env), 3),
        "method": credentials.method,
        "provider": credentials.provider,
        "region": region_of(app, credentials) if region is ... else region,
        "model": model or "",
        "input_tokens": usage.prompt_tokens if usage else None,
        "output_tokens": usage.completion_tokens if usage else None,
        "status": status,
        "duration_ms": ms,
    }


def record_all(app: AppContext, records: list[dict[str, Any]]) -> bool:
    """Append requests that did not stream through here (a provider's batch) in one write; False when the
    ledger is off or can't be written (warned once, as for a live request)."""
    try:
        from qwen_cli.usage import ledger

        settings = app.settings
        if not ledger.enabled(settings):
            return False
        ledger.append_all(settings.home, records, settings.get("usage.max_bytes"))
        return True
    except Exception as exc:  # noqa: BLE001 - the ledger must never fail the command
        _warn_unwritable(app, exc)
        return False


def _write(app: AppContext, credentials: Credentials, model: str, usage: Usage | None, status: str, ms: int) -> None:
    try:
        if batch is not None:
            if batch.enabled:
                batch.add(record_of(app, credentials, model, usage, status, ms, batch.region_of(credentials)))
            return
        settings = app.settings
        from qwen_cli.usage import ledger

        if not ledger.enabled(settings):
            return
        ledger.append(
            settings.home, record_of(app, credentials, model, usage, status, ms), settings.get("usage.max_bytes")
        )
    except Exception as exc:  # noqa: BLE001 - the ledger must never fail the request
        _warn_unwritable(app, exc)


def _warn_unwritable(app: AppContext, exc: Exception) -> None:
    if WARNED not in app.shown_once:
        app.shown_once.add(WARNED)
        why = exc.message if isinstance(exc, QwenError) else (getattr(exc, "strerror", None) or type(exc).__name__)
        app.out.warn(f"this request was not recorded in the usage ledger ({why}); `usage.ledger = false` stops trying")


def region_of(app: AppContext, credentials: Credentials) -> str | None:
    """The catalogue region the request went to, read from where the base URL came from ("region global",
    "providers.X.regions.china.base_url"), else the Coding Plan's `auth.region`; never the URL itself."""
    source = credentials.base_url_source or ""
    if source.startswith("region "):
        return source.split(" ", 1)[1] or None
    if ".regions." in source:
        return source.split(".regions.", 1)[1].split(".", 1)[0] or None
    from qwen_cli.auth import methods

    method = methods.METHODS.get(credentials.method)
    if method is not None and method.takes_region:
        region = app.settings.get("auth.region")
        return str(region) if region else None
    return None


def _with_ledger_window(app: AppContext, credentials: Credentials, error: QuotaError) -> QuotaError:
    """A Coding Plan quota error, with the window this machine's ledger says is full next to the server's words."""
    try:
        from qwen_cli.usage import windows

        note = windows.full_window_note(app.settings, credentials.method, ledger_now(app))
    except Exception:  # noqa: BLE001 - an unreadable ledger leaves the server's message as it was
        return error
    if not note:
        return error
    return type(error)(f"{error.message} ({note})", hint=error.hint)


def ledger_now(app: AppContext) -> float:
    from qwen_cli.usage import ledger

    return ledger.now(app.env)
