"""How a wait goes, decided once for the trigger, the worker and a sensor's poke.

* :func:`wait_steps` is the polling loop: a :class:`~airflow_dashscope.waiting.steps.Pause`
  of ``poll_interval`` before the first look (whoever started the wait looked just before;
  a trigger that fires within seconds of the deferral can race the scheduler into failing
  the resumed task) and between looks, never past the deadline; transient failures (no
  answer, 429, 5xx) tolerated up to ``max_consecutive_errors`` in a row, anything else ends
  the wait at once; the single :class:`WaitEvent` that ends it is its return value.
* :func:`look_steps` is one poke: a transient failure is "not yet", anything else raises.
* :func:`deadline` turns a timeout into an absolute wall-clock time: a trigger that is moved
  to another triggerer (or restarted) keeps the original deadline instead of starting over.

Both are waiting flows (``waiting/steps.py``): no I/O here, drivers in ``waiting/drive.py``.
"""

from __future__ import annotations

import time
import zlib
from datetime import timedelta
from typing import TYPE_CHECKING

from airflow_dashscope.client.errors import DashScopeError
from airflow_dashscope.waiting.events import WaitEvent
from airflow_dashscope.waiting.steps import Pause, Steps

if TYPE_CHECKING:
    from airflow_dashscope.waiting.watches import Observation, Watch


def is_transient(error: BaseException) -> bool:
    """Worth polling again: no answer, throttling or a server-side failure.

    Anything else (bad key, unknown id, invalid parameter) will not heal by waiting.
    """
    return isinstance(error, DashScopeError) and error.retryable


def deadline(timeout: float | timedelta | None, *, now: float | None = None) -> float | None:
    """Absolute wall-clock epoch seconds ``timeout`` from now; None stays None (no deadline)."""
    if timeout is None:
        return None
    seconds = timeout.total_seconds() if isinstance(timeout, timedelta) else float(timeout)
    if seconds < 0:
        raise ValueError(f"timeout must be >= 0 seconds, got {seconds}")
    return (time.time() if now is None else now) + seconds


def time_left(end_time: float | None, *, now: float | None = None) -> float | None:
    """Seconds until ``end_time`` (negative once past), or None without a deadline."""
    if end_time is None:
        return None
    return end_time - (time.time() if now is None else now)


def pause_for(
    poll_interval: float, end_time: float | None, *, pause: Pause | None = None
) -> Pause | None:
    """One ``poll_interval``, cut short by the deadline (None once it has passed); ``pause``
    is that interval's step, made once by a wait. A step, not a flow: nothing new (no
    generator) is kept alive across a pause, so a thousand waits asleep give the
    collector nothing to promote."""
    left = time_left(end_time)
    if left is None or left >= poll_interval:
        return pause if pause is not None else Pause(poll_interval)
    return Pause(left) if left > 0 else None


def spread_first_pause(poll_interval: float, identity: str) -> float:
    """The first pause of a trigger: 0.5 to 1.5 ``poll_interval``, by a stable hash of
    ``identity``. A thousand triggers resumed together (a triggerer restart) then look over
    one interval, not in one turn of the loop, and each keeps its slot across restarts."""
    fraction = zlib.crc32(identity.encode()) / 2**32
    return poll_interval * (0.5 + fraction)


def wait_steps(
    watch: Watch,
    *,
    poll_interval: float,
    end_time: float | None,
    max_consecutive_errors: int,
    first_pause: float | None = None,
) -> Steps[WaitEvent]:
    """Look at ``watch``'s resource until it is terminal, the deadline passes or errors pile
    up; returns the one event that ends the wait. ``first_pause`` (default
    ``poll_interval``) is the wait before the first look."""
    errors = 0
    last: Observation | None = None
    between = Pause(poll_interval)
    if first := pause_for(poll_interval if first_pause is None else first_pause, end_time):
        yield first
    while True:
        try:
            seen = yield from watch.observe()
        except DashScopeError as error:
            if not is_transient(error):
                return watch.event("error", f"{watch.describe()}: {error}", last)
            errors += 1
            watch.log.warning(
                "Polling %s failed (%d of %d in a row): %s",
                watch.describe(),
                errors,
                max_consecutive_errors,
                error,
            )
            if errors >= max_consecutive_errors:
                return watch.event(
                    "error",
                    f"Gave up waiting for {watch.describe()} after {errors} failed polls "
                    f"in a row; last error: {error}",
                    last,
                )
        else:
            errors = 0
            if last is None or seen.status != last.status:
                watch.log.info("%s is %s", watch.describe(), seen.status)
            last = seen
            if seen.outcome != "pending":
                return watch.ended(seen)
        left = time_left(end_time)
        if left is not None and left <= 0:
            status = f" (last status {last.status})" if last else ""
            return watch.event(
                "timeout", f"Timed out waiting for {watch.describe()}{status}.", last
            )
        if pause := pause_for(poll_interval, end_time, pause=between):
            yield pause


def look_steps(watch: Watch) -> Steps[WaitEvent | None]:
    """One look: the ending event, or None while pending or after a transient failure.
    A permanent failure (bad key, unknown id) is raised: waiting longer cannot help."""
    try:
        seen = yield from watch.observe()
    except DashScopeError as error:
        if not is_transient(error):
            raise
        watch.log.warning("Looking at %s failed, will look again: %s", watch.describe(), error)
        return None
    watch.log.info("%s is %s", watch.describe(), seen.status)
    if seen.outcome == "pending":
        return None
    return watch.ended(seen)
