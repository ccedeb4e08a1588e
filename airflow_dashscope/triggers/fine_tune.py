"""Waiting for a fine-tune job, following its remote training log."""

from __future__ import annotations

from typing import Any

from airflow_dashscope.hooks.dashscope import DashScopeHook
from airflow_dashscope.triggers.base import DEFAULT_CONN_ID, DashScopeBaseTrigger
from airflow_dashscope.waiting.user_action import aended_as_failed, key_of
from airflow_dashscope.waiting.watches import JobWatch


class DashScopeFineTuneJobTrigger(DashScopeBaseTrigger):
    """Waits until fine-tune job ``job_id`` is SUCCEEDED, FAILED or CANCELED.

    Once the job runs, each poll also reads its new remote log lines (from ``log_offset``,
    the number of lines already shown: the service's ``offset`` skips that many) into the
    triggerer log, timestamps converted to UTC, so the training progress shows in the
    task's log while it is deferred. A job that is still PENDING or QUEUING has no log: one
    request per poll then. The event's ``log_offset`` lets a resumed wait continue where
    this one stopped, and its ``last_logs`` quote the end of the log when the job fails.

    :param cancel_on_kill: cancel the remote job when a user marks the deferred task failed
        (``on_kill``, Airflow >= 3.3; see ``airflow_dashscope.waiting.user_action``). A clear,
        a mark success or a triggerer restart leave it running.
    """

    def __init__(
        self,
        job_id: str,
        *,
        dashscope_conn_id: str = DEFAULT_CONN_ID,
        poll_interval: float = 30.0,
        end_time: float | None = None,
        log_offset: int = 0,
        max_consecutive_errors: int = 5,
        cancel_on_kill: bool = True,
    ) -> None:
        super().__init__(
            dashscope_conn_id=dashscope_conn_id,
            poll_interval=poll_interval,
            end_time=end_time,
            max_consecutive_errors=max_consecutive_errors,
        )
        self.job_id = job_id
        self.log_offset = int(log_offset)
        self.cancel_on_kill = bool(cancel_on_kill)

    def resource_kwargs(self) -> dict[str, Any]:
        return {
            "job_id": self.job_id,
            "log_offset": self.log_offset,
            "cancel_on_kill": self.cancel_on_kill,
        }

    def make_watch(self, log: Any) -> JobWatch:
        return JobWatch(self.job_id, log, log_offset=self.log_offset)

    async def on_user_action(self) -> None:
        """Cancel the remote job if the user's action ended the task as failed.

        Airflow >= 3.3 calls ``on_kill`` (which runs this) when a user clears, marks success
        or marks failed a deferred task (never on a triggerer restart). Only the task
        instance's state tells these apart: a cleared task's new try reattaches to the job, a
        task marked success needs it, so only ``failed`` cancels
        (``airflow_dashscope.waiting.user_action``); a new try whose inputs changed cancels
        it itself (the fine-tune operator's ``cancel_superseded``).
        """
        if not self.cancel_on_kill:
            return
        ti = getattr(self, "task_instance", None)
        if ti is None or not await aended_as_failed(key_of(ti)):
            self.log.info(
                "Deferred task stopped without being marked failed: fine-tune job %s keeps "
                "running: a new try with the same inputs reattaches to it; one with changed "
                "inputs cancels it first.",
                self.job_id,
            )
            return
        hook = DashScopeHook(self.dashscope_conn_id)
        try:
            client = await hook.aget_conn()
            job = await client.get_fine_tune(self.job_id)
            if job.is_terminal:
                self.log.info("Fine-tune job %s is already %s.", self.job_id, job.status_name)
                return
            await client.cancel_fine_tune(self.job_id)
            self.log.info("Cancelled fine-tune job %s (task marked failed).", self.job_id)
        except Exception as error:  # logged, never raised: Airflow would only log it elsewhere
            self.log.warning("Could not cancel fine-tune job %s: %s", self.job_id, error)
        finally:
            await hook.aclose()
