"""Looking at one resource once, without I/O: a fine-tune job, a checkpoint, a deployment.

A watch's :meth:`Watch.observe` is a waiting flow (``waiting/steps.py``) that fetches what it
needs and returns an :class:`Observation`; it also knows how to word that resource's
messages and events. The trigger, the worker-side wait and a sensor's poke all look through
the same watch, so they cannot disagree on what they see.
"""

from __future__ import annotations

import json
import logging
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, cast

from airflow_dashscope.client.endpoints import deployments, fine_tunes
from airflow_dashscope.client.request import ApiRequest, output_of, single
from airflow_dashscope.waiting.events import EventStatus, Resource, WaitEvent
from airflow_dashscope.waiting.progress import RecallShown, RecordShown
from airflow_dashscope.waiting.remote_log import LOG_PAGE_LINES, LogFollower, remote_log_line
from airflow_dashscope.waiting.statuses import (
    JOB_OUTCOMES,
    Outcome,
    checkpoint_matches,
    classify_checkpoint,
    classify_deployment,
    classify_job,
    job_failure_reason,
)
from airflow_dashscope.waiting.steps import Steps, fetch

if TYPE_CHECKING:
    from airflow_dashscope.client.models import FineTuneJob

#: Job statuses without a training log yet: looks then ask for the job only.
NO_LOG_YET = frozenset({"PENDING", "QUEUING"})


@dataclass(frozen=True, slots=True)
class Observation:
    """What one look saw: the raw status (for logs), its outcome and the object itself."""

    status: str
    outcome: Outcome
    result: dict[str, Any] | None
    #: Why it ended, for failed/canceled outcomes (e.g. a failed job's code and message).
    reason: str = ""
    #: The answer's payload as JSON text, when ``result`` was not built from it (a pending
    #: job: the model is only built if an event quotes it, see :meth:`Watch.result_of`).
    #: Text, not the decoded containers: the last look is kept across the pause, and a
    #: string is one object the garbage collector never walks.
    raw: str | None = None


class Watch(ABC):
    """One resource being waited for; ``log`` is its owner's (trigger, sensor) logger."""

    resource: ClassVar[Resource]
    #: The noun used in log lines and messages.
    noun: ClassVar[str]

    def __init__(self, log: logging.Logger | Any) -> None:
        self.log = log

    @property
    @abstractmethod
    def resource_id(self) -> str:
        """The id in events and messages."""

    @abstractmethod
    def observe(self) -> Steps[Observation]:
        """Look once (the client's errors are thrown into the flow and pass through)."""

    def event_extras(self) -> dict[str, Any]:
        """Extra :class:`WaitEvent` fields (the fine-tune watch adds its log position)."""
        return {}

    def describe(self) -> str:
        return f"DashScope {self.noun} {self.resource_id}"

    def outcome_message(self, seen: Observation) -> str:
        reason = f": {seen.reason}" if seen.reason else ""
        return f"{self.describe()} ended {seen.status}{reason}"

    def result_of(self, seen: Observation) -> dict[str, Any] | None:
        """The object an event quotes for ``seen`` (watches that keep ``raw`` convert it)."""
        return seen.result

    def event(
        self, status: EventStatus, message: str, seen: Observation | None = None
    ) -> WaitEvent:
        return WaitEvent(
            status=status,
            resource=self.resource,
            id=self.resource_id,
            message=message,
            result=self.result_of(seen) if seen else None,
            **self.event_extras(),
        )

    def ended(self, seen: Observation) -> WaitEvent:
        """The event of a terminal observation."""
        return self.event(cast(EventStatus, seen.outcome), self.outcome_message(seen), seen)


class JobWatch(Watch):
    """A fine-tune job; once it runs, each look also shows its new remote log lines (each
    once, timestamps in UTC), resuming after the lines a previous trigger already showed."""

    resource = "fine_tune"
    noun = "fine-tune job"

    def __init__(self, job_id: str, log: Any, *, log_offset: int = 0) -> None:
        super().__init__(log)
        self.job_id = job_id
        self.logs = LogFollower(log_offset)
        self._recalled = False
        # The job's GET, exactly as its endpoint sends it, built once for every look.
        flow = fine_tunes.get_fine_tune(job_id)
        self._get_job = cast(ApiRequest, next(flow))
        flow.close()

    @property
    def resource_id(self) -> str:
        return self.job_id

    def event_extras(self) -> dict[str, Any]:
        return {"log_offset": self.logs.offset, "last_logs": list(self.logs.tail)}

    def observe(self) -> Steps[Observation]:
        # Most looks see a job still pending: its status is all they read, so the model
        # (validation of every field, then to_dict) is built only when it has ended, when
        # its status is not one this code knows, or when an event quotes it.
        output = yield from fetch(single(self._get_job, output_of))
        status = output.get("status") if isinstance(output, dict) else None
        if isinstance(status, str) and JOB_OUTCOMES.get(status) == "pending":
            if status not in NO_LOG_YET:
                yield from self.follow_logs()
            return Observation(status, "pending", None, raw=json.dumps(output))
        job = _job_model(output)
        if job.status_name not in NO_LOG_YET:
            yield from self.follow_logs()
        outcome = classify_job(job)
        reason = job_failure_reason(job) if outcome == "failed" else ""
        return Observation(job.status_name, outcome, job.to_dict(), reason)

    def result_of(self, seen: Observation) -> dict[str, Any] | None:
        if seen.result is None and seen.raw is not None:
            return _job_model(json.loads(seen.raw)).to_dict()
        return seen.result

    def follow_logs(self) -> Steps[None]:
        if not self._recalled:
            self._recalled = True
            shown = yield RecallShown()
            if shown is not None and shown > self.logs.offset:
                self.log.info("Resuming the remote log after line %d.", shown)
                self.logs.offset = shown
        page = yield from fetch(
            fine_tunes.get_fine_tune_logs(
                self.job_id, offset=self.logs.request_offset(), line=LOG_PAGE_LINES
            )
        )
        new = self.logs.feed(page, page_size=LOG_PAGE_LINES)
        for line in new:
            self.log.info("[%s] %s", self.job_id, remote_log_line(line))
        if new:
            yield RecordShown(self.logs.offset)


def _job_model(output: Any) -> FineTuneJob:
    """The job model from a ``GET /fine-tunes/{id}`` payload (as its endpoint parses it)."""
    from airflow_dashscope.client.models import FineTuneJob

    return FineTuneJob.model_validate(output)


class CheckpointWatch(Watch):
    """A checkpoint export. A checkpoint missing from the list is awaited while the job may
    still save it; once the job is finished without it the wait fails (a typo would
    otherwise wait until the deadline)."""

    resource = "checkpoint"
    noun = "checkpoint"

    def __init__(self, job_id: str, checkpoint: str, log: Any) -> None:
        super().__init__(log)
        self.job_id = job_id
        self.checkpoint = checkpoint

    @property
    def resource_id(self) -> str:
        return f"{self.job_id}/{self.checkpoint}"

    def observe(self) -> Steps[Observation]:
        checkpoints = yield from fetch(fine_tunes.list_checkpoints(self.job_id))
        for item in checkpoints:
            if checkpoint_matches(item, self.checkpoint):
                return Observation(item.status_name, classify_checkpoint(item), item.to_dict())
        job = yield from fetch(fine_tunes.get_fine_tune(self.job_id))
        if not job.is_terminal:
            return Observation("ABSENT", "pending", None)
        names = ", ".join(c.checkpoint for c in checkpoints) or "none"
        return Observation(
            "ABSENT",
            "failed",
            None,
            f"job {self.job_id} is {job.status_name} and has no such checkpoint "
            f"(checkpoints: {names})",
        )


class DeploymentWatch(Watch):
    """A deployment: RUNNING is success, FAILED/STOPPED/DELETING failed."""

    resource = "deployment"
    noun = "deployment"

    def __init__(self, deployed_model: str, log: Any) -> None:
        super().__init__(log)
        self.deployed_model = deployed_model

    @property
    def resource_id(self) -> str:
        return self.deployed_model

    def observe(self) -> Steps[Observation]:
        deployment = yield from fetch(deployments.get_deployment(self.deployed_model))
        return Observation(
            deployment.status_name, classify_deployment(deployment), deployment.to_dict()
        )
