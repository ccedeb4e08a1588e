"""Waiting on DashScope resources, decided once for triggers, sensors and operators.

One definition of "is this finished, and how", so that a deferred operator, a worker-side
wait and a sensor can never disagree:

* ``events``: :class:`WaitEvent`, the one payload a trigger fires (``to_dict``) and an
  operator or sensor reads back (``from_dict``);
* ``statuses``: the status tables and ``classify_*`` (a fine-tune job, a checkpoint or a
  deployment to an :data:`Outcome`);
* ``watches``: one I/O-free "look at this resource once" flow per resource;
* ``polling``: the polling loop and one poke as I/O-free flows, the deadline, the error
  policy; ``steps`` their vocabulary and ``drive`` the sync and async drivers (the only I/O);
* ``remote_log`` and ``progress``: following a job's remote log, also across triggerer
  restarts; ``training_log``: reading it into loss curves;
* ``user_action``: whether a user's action on a waiting task cancels its remote job.

This module re-exports what the rest of the provider uses; it loads no client models, so
operators import it at DAG-parse time.
"""

from airflow_dashscope.waiting.events import (
    EVENT_STATUSES,
    LAST_LOGS,
    RESOURCES,
    EventStatus,
    MalformedEventError,
    Resource,
    WaitEvent,
)
from airflow_dashscope.waiting.polling import deadline, is_transient, time_left
from airflow_dashscope.waiting.remote_log import (
    LOG_PAGE_LINES,
    REMOTE_LOG_TIMEZONE,
    LogFollower,
    read_rest_of_log,
    remote_log_line,
)
from airflow_dashscope.waiting.statuses import (
    Outcome,
    checkpoint_matches,
    classify_checkpoint,
    classify_deployment,
    classify_job,
    job_failure_reason,
)

__all__ = [
    "EVENT_STATUSES",
    "LAST_LOGS",
    "LOG_PAGE_LINES",
    "REMOTE_LOG_TIMEZONE",
    "RESOURCES",
    "EventStatus",
    "LogFollower",
    "MalformedEventError",
    "Outcome",
    "Resource",
    "WaitEvent",
    "checkpoint_matches",
    "classify_checkpoint",
    "classify_deployment",
    "classify_job",
    "deadline",
    "is_transient",
    "job_failure_reason",
    "read_rest_of_log",
    "remote_log_line",
    "time_left",
]
