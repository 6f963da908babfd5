"""The pool: up to `parallel` requests in flight on worker threads, lines written in input order.

Workers take the next item from a queue and answer it; the main thread writes each finished line as soon as
every line before it is written (every line ready by then in one write), and draws the progress. A worker
wakes the main thread only for the line it is waiting for: at hundreds of answers a second, a wake-up for
each would cost the workers the interpreter lock as often. Stopping (a quota error, or Ctrl-C in the main
thread, which is the only one Python delivers SIGINT to) means no new request starts: the ones in flight
finish and their lines are written; items never sent get no line, so `--resume` asks them next time.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from qwen_cli.errors import QuotaError, QwenError
from qwen_cli.fanout import lines
from qwen_cli.fanout.inputs import Item

Answer = tuple[str, dict[str, Any] | None]  # content, usage


@dataclass
class Outcome:
    """How the run went so far: counts, the failures' exit codes, and why it stopped, if it did."""

    answered: int = 0
    failed: int = 0
    not_sent: int = 0
    tokens: int = 0
    failure_codes: list[int] = field(default_factory=list)
    stopped_by: QwenError | None = None  # the quota error that stopped the run
    interrupted: bool = False
    started: float = field(default_factory=time.monotonic)

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started


class Pool:
    def __init__(
        self,
        ask: Callable[[Item], Answer],
        write: Callable[[list[dict[str, Any]]], None],
        parallel: int,
        on_stop: Callable[[], None] = lambda: None,
        progress: Callable[[Outcome], None] | None = None,
    ) -> None:
        self._ask = ask
        self._write = write
        self._parallel = parallel
        self._on_stop = on_stop
        self._progress = progress
        self._stop = threading.Event()
        self._done = threading.Condition()
        self._finished: dict[int, dict[str, Any]] = {}
        self._in_flight = 0
        self._position = 0  # how many items of the input order are written (or known never to be)
        self._awaited = -1  # the index the main thread waits for
        self.outcome = Outcome()

    def run(self, items: list[Item]) -> Outcome:
        todo: queue.SimpleQueue[Item] = queue.SimpleQueue()
        for item in items:
            todo.put(item)
        workers = [
            threading.Thread(target=self._work, args=(todo,), name=f"each-{n}", daemon=True)
            for n in range(min(self._parallel, len(items)))
        ]
        for worker in workers:
            worker.start()
        order = [item.index for item in items]
        try:
            self._write_in_order(order, workers)
        except KeyboardInterrupt:
            self.outcome.interrupted = True
            self.stop()
            self._write_in_order(order, workers)  # the lines in flight finish and are written
        self.outcome.not_sent = len(items) - self.outcome.answered - self.outcome.failed
        return self.outcome

    def stop(self) -> None:
        if not self._stop.is_set():
            self._stop.set()
            self._on_stop()
            with self._done:
                self._done.notify_all()

    def _write_in_order(self, order: list[int], workers: list[threading.Thread]) -> None:
        while self._position < len(order):
            with self._done:
                index = self._awaited = order[self._position]
                while index not in self._finished:
                    if self._stop.is_set() and self._in_flight == 0 and not any(w.is_alive() for w in workers):
                        break
                    self._done.wait(0.1)
                    if self._progress is not None:
                        self._progress(self.outcome)
                ready = self._ready(order)
            if ready:
                self._write(ready)
                if self._progress is not None:
                    self._progress(self.outcome)

    def _ready(self, order: list[int]) -> list[dict[str, Any]]:
        """The lines that can be written now, in order (called holding the lock): the awaited one, which may
        be missing after a stop (never sent: no line; later ones that finished still go), and every one
        after it that has finished."""
        line = self._finished.pop(order[self._position], None)
        self._position += 1
        ready = [] if line is None else [line]
        while self._position < len(order) and order[self._position] in self._finished:
            ready.append(self._finished.pop(order[self._position]))
            self._position += 1
        return ready

    def _work(self, todo: queue.SimpleQueue[Item]) -> None:
        while not self._stop.is_set():
            try:
                item = todo.get_nowait()
            except queue.Empty:
                return
            with self._done:
                if self._stop.is_set():
                    return
                self._in_flight += 1
            line = self._answer(item)
            with self._done:
                self._in_flight -= 1
                self._finished[item.index] = line
                if item.index == self._awaited or self._stop.is_set():
                    self._done.notify_all()

    def _answer(self, item: Item) -> dict[str, Any]:
        try:
            content, usage = self._ask(item)
        except QwenError as error:
            self._count(error=error)
            if isinstance(error, QuotaError):
                self.outcome.stopped_by = self.outcome.stopped_by or error
                self.stop()
            return lines.failed(item.index, item.id, error)
        except Exception as exc:  # noqa: BLE001 - one line's bug must not take the other lines with it
            bug = QwenError(f"internal error ({type(exc).__name__}) on this line", hint="Rerun with --debug.")
            self._count(error=bug)
            return lines.failed(item.index, item.id, bug)
        self._count(usage=usage)
        return lines.answered(item.index, item.id, content, usage)

    def _count(self, error: QwenError | None = None, usage: dict[str, Any] | None = None) -> None:
        with self._done:
            if error is not None:
                self.outcome.failed += 1
                self.outcome.failure_codes.append(int(error.exit_code))
            else:
                self.outcome.answered += 1
                total = (usage or {}).get("total_tokens")
                self.outcome.tokens += total if isinstance(total, int) else 0
