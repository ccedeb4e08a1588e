"""Progress in the task log: n of N, the rate, the time left; at each tenth of the work (but
at most once a second) or every ``every_seconds``, and at the end; never every example (a
long evaluation would flood the log)."""

from __future__ import annotations

import time
from collections.abc import Callable


class Progress:
    def __init__(
        self, total: int, log: Callable[..., None], *, every_seconds: float = 10.0
    ) -> None:
        self.total = total
        self.log = log
        self.every_seconds = every_seconds
        self.step = max(1, total // 10)
        self.done = 0
        self.started = self._last = time.monotonic()

    def advance(self, n: int = 1) -> None:
        self.done += n
        now = time.monotonic()
        crossed = self.done // self.step != (self.done - n) // self.step
        since = now - self._last
        if self.done >= self.total or since >= self.every_seconds or (crossed and since >= 1):
            self._last = now
            self.log("%s", self.line(now))

    def line(self, now: float | None = None) -> str:
        elapsed = max(1e-9, (now or time.monotonic()) - self.started)
        rate = self.done / elapsed
        left = (self.total - self.done) / rate if rate else float("inf")
        return (
            f"Evaluated {self.done} of {self.total} examples ({rate:.1f}/s, "
            f"{_duration(elapsed)} elapsed, about {_duration(left)} left)"
        )


def _duration(seconds: float) -> str:
    if seconds == float("inf"):
        return "?"
    seconds = round(seconds)
    minutes, secs = divmod(seconds, 60)
    return f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"
