"""When to poll the token endpoint during a device login: RFC 8628 §3.2 and §3.5, as plain arithmetic.

    schedule = PollSchedule(device.interval)   # None -> 5 s; below the floor -> the floor
    wait = schedule.wait(remaining)            # seconds to sleep before the next poll
    schedule.answered() / slow_down() / failed()

- No `interval` in the device reply: 5 s (§3.2: "If no value is provided, clients MUST use 5").
- Never faster than the floor (5 s), whatever the server says: `interval: 0` must not become a busy loop.
- `slow_down`: the interval grows by 5 s, "for this and all subsequent requests" (§3.5).
- A connection failure or timeout (and a 5xx): the wait doubles per failure in a row (§3.5: the client
  MUST reduce its polling frequency), up to BACKOFF_MAX or the interval if that is longer; any OAuth
  answer resets it.
- The only cap on a wait is the device code's remaining lifetime: never poll faster than asked.
"""

from __future__ import annotations

DEFAULT_INTERVAL = 5.0
INTERVAL_FLOOR = 5.0
SLOW_DOWN_STEP = 5.0
BACKOFF_MAX = 60.0


class PollSchedule:
    def __init__(self, interval: float | None):
        self.interval = max(DEFAULT_INTERVAL if interval is None else interval, INTERVAL_FLOOR)
        self.failures = 0

    def answered(self) -> None:
        self.failures = 0

    def slow_down(self) -> None:
        self.interval += SLOW_DOWN_STEP
        self.failures = 0

    def failed(self) -> None:
        self.failures += 1

    def wait(self, remaining: float) -> float:
        wait = self.interval
        if self.failures:
            wait = min(self.interval * 2 ** min(self.failures, 16), max(BACKOFF_MAX, self.interval))
        return max(0.0, min(wait, remaining))

    def __repr__(self) -> str:
        return f"PollSchedule(interval={self.interval:g}, failures={self.failures})"
