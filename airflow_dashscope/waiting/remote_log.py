"""Following a fine-tune job's remote log (``GET /fine-tunes/{id}/logs``): every line once.

The training API page defines the service's ``offset`` as the number of lines to skip (the
answer starts at line ``offset + 1``) and caps ``line`` at :data:`LOG_PAGE_LINES`.
"""

from __future__ import annotations

import re
from collections import deque
from typing import TYPE_CHECKING

from airflow_dashscope.waiting.events import LAST_LOGS

if TYPE_CHECKING:  # annotations only: DAG files parse without the client
    from airflow_dashscope.client import DashScopeClient
    from airflow_dashscope.client.models import JobLogs

#: Lines asked for per log page (the service's cap); a busy job catches up over a few polls.
LOG_PAGE_LINES = 1000

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

    ``offset`` counts the lines already shown, which is exactly the service's ``offset`` of
    the next request (:meth:`request_offset`), so every line of the answer is new. The count
    survives a triggerer restart through the event's ``log_offset``.
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
