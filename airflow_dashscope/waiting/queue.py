"""The single training slot: a job waits its turn, and that wait is not its own slowness.

The service trains one job at a time per account (the rest are QUEUING), so a sweep's last
member spends most of its life behind the others. A fine-tune's ``timeout`` is meant for one
job's training: the wait is allowed ``timeout`` for the job itself plus ``timeout`` for each
job ahead of it in the queue when the wait starts (:func:`queue_deadline`). The deadline is
still one absolute time, fixed when the wait starts, so a trigger that moves to another
triggerer keeps it (``waiting/polling.py``).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from airflow_dashscope.waiting.polling import deadline

#: Statuses of a job that has not reached the slot yet.
WAITING_FOR_SLOT = frozenset({"PENDING", "QUEUING"})
#: Statuses of the jobs that take (or will take) the slot before a waiting one.
AHEAD = frozenset({"PENDING", "QUEUING", "RUNNING"})


def jobs_ahead(job: Any, jobs: Iterable[Any]) -> int:
    """How many jobs of the account will train before ``job``: the others in progress that
    were created before it, or in the same second (the service's times have no fraction),
    or at an unknown time: a doubt lengthens the wait, never shortens it. 0 once ``job``
    runs or has ended."""
    if job.status_name not in WAITING_FOR_SLOT:
        return 0
    mine = job.create_time
    return sum(
        1
        for other in jobs
        if other.job_id != job.job_id
        and other.status_name in AHEAD
        and (mine is None or other.create_time is None or other.create_time <= mine)
    )


def queue_deadline(
    timeout: float | timedelta | None, ahead: int, *, now: float | None = None
) -> float | None:
    """``timeout`` for the job plus ``timeout`` per job ahead of it, from now (absolute
    epoch seconds; None without a timeout)."""
    if timeout is None:
        return None
    seconds = timeout.total_seconds() if isinstance(timeout, timedelta) else float(timeout)
    return deadline(seconds * (1 + max(0, ahead)), now=now)
