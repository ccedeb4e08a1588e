"""Pure helpers for waiting on DashScope resources, shared by triggers, sensors and operators.

One definition of "is this finished, and how", so that a deferred operator, a worker-side
poll and a sensor can never disagree:

* :class:`WaitEvent` is the one payload a trigger fires (``to_dict``) and an operator or
  sensor reads back (``from_dict``, which rejects malformed events with a clear error rather
  than a ``KeyError`` deep in ``execute_complete``).
* ``classify_*`` map a fine-tune job, a checkpoint or a deployment to an :data:`Outcome`.
  A status this code does not know yet is *pending* (the service adds statuses; waiting on is
  safer than failing a paid job) and is logged once per call.
* :func:`deadline` turns a timeout into an absolute wall-clock time: a trigger that is moved
  to another triggerer (or restarted) keeps the original deadline instead of starting over.
* :class:`LogFollower` turns pages of ``GET /fine-tunes/{id}/logs`` into new lines.

No I/O here besides the ``logging`` warning for unknown statuses.
"""

from __future__ import annotations

import logging
import re
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Literal, cast

from airflow_dashscope.client.errors import DashScopeError

if TYPE_CHECKING:  # annotations only: DAG files parse without the pydantic models
    from airflow_dashscope.client import DashScopeClient
    from airflow_dashscope.client.models import Checkpoint, Deployment, FineTuneJob, JobLogs

log = logging.getLogger(__name__)

#: Where a resource stands.
Outcome = Literal["success", "failed", "canceled", "pending"]
#: How a wait ended: a terminal outcome, the deadline, or too many errors in a row.
EventStatus = Literal["success", "failed", "canceled", "timeout", "error"]
Resource = Literal["fine_tune", "checkpoint", "deployment"]

EVENT_STATUSES: frozenset[str] = frozenset({"success", "failed", "canceled", "timeout", "error"})
RESOURCES: frozenset[str] = frozenset({"fine_tune", "checkpoint", "deployment"})
#: How many of the last remote log lines an event carries (for failure messages).
LAST_LOGS = 20

_JOB_OUTCOMES: dict[str, Outcome] = {
    "PENDING": "pending",
    "QUEUING": "pending",
    "RUNNING": "pending",
    "CANCELING": "pending",
    "SUCCEEDED": "success",
    "FAILED": "failed",
    "CANCELED": "canceled",
}
_CHECKPOINT_OUTCOMES: dict[str, Outcome] = {
    # PENDING also means "not exported yet": it stays so until someone exports it.
    "PENDING": "pending",
    "PROCESSING": "pending",
    "SUCCEEDED": "success",
    "FAILED": "failed",
}
_DEPLOYMENT_OUTCOMES: dict[str, Outcome] = {
    # The documented statuses: PENDING, UPDATING, RUNNING, STOPPED, DELETING, FAILED.
    "PENDING": "pending",
    "UPDATING": "pending",
    "RUNNING": "success",
    # None of these comes back to RUNNING on its own, so waiting longer cannot help.
    "STOPPED": "failed",
    "FAILED": "failed",
    "DELETING": "failed",
}


class MalformedEventError(ValueError):
    """A trigger event that is not a :class:`WaitEvent` payload."""


def _outcome(table: Mapping[str, Outcome], kind: str, name: str, status: str) -> Outcome:
    outcome = table.get(status)
    if outcome is None:
        log.warning("Unknown status %r of DashScope %s %s: still waiting.", status, kind, name)
        return "pending"
    return outcome


def classify_job(job: FineTuneJob) -> Outcome:
    return _outcome(_JOB_OUTCOMES, "fine-tune job", job.job_id, job.status_name)


def classify_checkpoint(checkpoint: Checkpoint) -> Outcome:
    return _outcome(
        _CHECKPOINT_OUTCOMES, "checkpoint", checkpoint.checkpoint, checkpoint.status_name
    )


def classify_deployment(deployment: Deployment) -> Outcome:
    return _outcome(
        _DEPLOYMENT_OUTCOMES, "deployment", deployment.deployed_model, deployment.status_name
    )


def checkpoint_matches(checkpoint: Checkpoint, name: str) -> bool:
    """Export accepts ``checkpoint-N`` or the ``checkpoint_id``: so does waiting on one."""
    return name in (checkpoint.checkpoint, checkpoint.checkpoint_id, checkpoint.full_name)


def is_transient(error: BaseException) -> bool:
    """Worth polling again: no answer, throttling or a server-side failure.

    Anything else (bad key, unknown id, invalid parameter) will not heal by waiting.
    """
    return isinstance(error, DashScopeError) and error.retryable


def job_failure_reason(job: FineTuneJob) -> str:
    """``code: message`` of a failed job, as the service reports it."""
    parts = [part for part in (job.code, job.message) if part]
    return ": ".join(parts) if parts else "no reason given by the service"


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


@dataclass(frozen=True)
class WaitEvent:
    """The one trigger event payload (see the module docstring and the shared contract)."""

    status: EventStatus
    resource: Resource
    id: str
    message: str = ""
    #: The final object's ``to_dict()`` (the last one seen for timeout/error), if any.
    result: dict[str, Any] | None = None
    #: Remote log lines seen so far (fine-tune): a resumed wait starts from here.
    log_offset: int = 0
    last_logs: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status == "success"

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "resource": self.resource,
            "id": self.id,
            "message": self.message,
            "result": self.result,
            "log_offset": self.log_offset,
            "last_logs": list(self.last_logs),
        }

    @classmethod
    def from_dict(cls, payload: Any) -> WaitEvent:
        """Validate an event payload; raises :class:`MalformedEventError` naming what is wrong."""
        if not isinstance(payload, Mapping):
            raise MalformedEventError(
                f"DashScope trigger event must be a dict, got {type(payload).__name__}: "
                f"{payload!r:.200}"
            )
        problems = []
        status, resource = payload.get("status"), payload.get("resource")
        if status not in EVENT_STATUSES:
            problems.append(f"status {status!r} is not one of {sorted(EVENT_STATUSES)}")
        if resource not in RESOURCES:
            problems.append(f"resource {resource!r} is not one of {sorted(RESOURCES)}")
        if not isinstance(payload.get("id"), str) or not payload.get("id"):
            problems.append("id must be a non-empty string")
        if not isinstance(payload.get("message", ""), str):
            problems.append("message must be a string")
        result = payload.get("result")
        if result is not None and not isinstance(result, Mapping):
            problems.append("result must be a dict or null")
        offset = payload.get("log_offset", 0)
        if not isinstance(offset, int) or isinstance(offset, bool) or offset < 0:
            problems.append("log_offset must be an integer >= 0")
        last_logs = payload.get("last_logs", [])
        if not isinstance(last_logs, list) or not all(isinstance(x, str) for x in last_logs):
            problems.append("last_logs must be a list of strings")
        if problems:
            raise MalformedEventError(
                "Malformed DashScope trigger event (" + "; ".join(problems) + f"): {payload!r:.300}"
            )
        return cls(
            status=cast(EventStatus, status),
            resource=cast(Resource, resource),
            id=payload["id"],
            message=payload.get("message", ""),
            result=dict(result) if result is not None else None,
            log_offset=offset,
            last_logs=list(last_logs),
        )

    def explain(self) -> str:
        """A message for the task log or an exception: what ended, why, and the last logs."""
        text = self.message or f"DashScope {self.resource} {self.id}: {self.status}"
        if self.last_logs:
            text += "\nLast remote log lines:\n" + "\n".join(f"  {line}" for line in self.last_logs)
        return text


#: A remote log line's leading timestamp (the service writes Beijing time without a zone).
_REMOTE_STAMP = re.compile(r"^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})(?:[,.](\d{1,6}))?")
#: The zone of the service's zone-less times (as the client models read them).
REMOTE_LOG_TIMEZONE = "Asia/Shanghai"


def remote_log_line(line: str) -> str:
    """A remote log line for the task log: a leading service timestamp (Beijing time, no
    zone) is rewritten in UTC with a ``Z``, so it reads alongside Airflow's own UTC lines."""
    match = _REMOTE_STAMP.match(line)
    if match is None:
        return line
    import pendulum

    day, clock, fraction = match.groups()
    try:
        local = pendulum.parse(f"{day}T{clock}", tz=REMOTE_LOG_TIMEZONE)
    except Exception:  # pragma: no cover - the pattern only matches parseable times
        return line
    utc = local.in_timezone("UTC").strftime("%Y-%m-%dT%H:%M:%S")  # type: ignore[union-attr]
    stamp = f"{utc}.{fraction}Z" if fraction else f"{utc}Z"
    return stamp + line[match.end() :]


class LogFollower:
    """Follows a job's remote log across polls: every line once, none lost.

    ``offset`` counts the lines already shown. The training API page defines the service's
    ``offset`` as the number of lines to skip (the answer starts at line ``offset + 1``), so
    :meth:`request_offset` is exactly ``offset`` and every line of the answer is new. The
    count survives a triggerer restart through the event's ``log_offset``.
    """

    def __init__(self, offset: int = 0, *, keep: int = LAST_LOGS) -> None:
        if offset < 0:
            raise ValueError("log offset must be >= 0")
        self.offset = offset
        self.tail: deque[str] = deque(maxlen=keep)

    def request_offset(self) -> int:
        return self.offset

    def feed(self, page: JobLogs, *, page_size: int | None = None) -> list[str]:
        """The lines of ``page`` (asked from :meth:`request_offset`): all of them are new.

        A page longer than ``page_size`` (a service that ignored ``line``) is cut to it, so
        the next request starts right after the last line shown.
        """
        new = list(page.logs)[:page_size] if page_size else list(page.logs)
        self.offset += len(new)
        self.tail.extend(new)
        return new

    def behind(self, page: JobLogs) -> bool:
        """More lines are waiting than the last page held (ask again before sleeping)."""
        return page.total > self.offset


#: Lines asked for per log page (the service's cap).
LOG_PAGE_LINES = 1000


def read_rest_of_log(
    client: DashScopeClient, job_id: str, follower: LogFollower, *, max_pages: int = 20
) -> list[str]:
    """The lines of ``job_id``'s log after ``follower``'s position, page by page (at most
    ``max_pages`` pages: a job's log is a few thousand lines). The follower advances, so a
    later call reads on from there."""
    lines: list[str] = []
    for _ in range(max_pages):
        page = client.get_fine_tune_logs(
            job_id, offset=follower.request_offset(), line=LOG_PAGE_LINES
        )
        new = follower.feed(page, page_size=LOG_PAGE_LINES)
        lines.extend(new)
        if not new or not follower.behind(page):
            break
    return lines
