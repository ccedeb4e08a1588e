"""Publish a checkpoint of a finished job as a deployable model."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow_dashscope.operators.base import DashScopeWaitingOperator
from airflow_dashscope.waiting import checkpoint_matches

if TYPE_CHECKING:  # the models and triggers load when a task runs, not at DAG parse
    from airflow.sdk import Context

    from airflow_dashscope.client.models import Checkpoint
    from airflow_dashscope.triggers import DashScopeCheckpointTrigger

LATEST = "latest"


class DashScopeExportCheckpointOperator(DashScopeWaitingOperator):
    """Export ``checkpoint`` of fine-tune job ``job_id`` as model ``model_name`` and wait
    until it is published; returns the checkpoint as a dict, whose ``model_name`` is the
    model to deploy.

    A task tried again finds its export under way (the checkpoint already carries
    ``model_name``) and waits on it instead of exporting twice, which the service refuses.

    :param job_id: a SUCCEEDED sft/efficient_sft job (e.g. ``finetune.output["job_id"]``).
    :param checkpoint: ``latest`` (the newest step), ``checkpoint-N`` or a checkpoint id.
    :param model_name: the name of the published model.
    """

    template_fields: Sequence[str] = ("job_id", "checkpoint", "model_name", "dashscope_conn_id")
    resource = "checkpoint"
    emits_model_asset = True
    noun = "checkpoint"

    def __init__(
        self, *, job_id: str, model_name: str, checkpoint: str = LATEST, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.job_id = job_id
        self.checkpoint = checkpoint
        self.model_name = model_name

    def execute(self, context: Context) -> dict[str, Any]:
        if not self.model_name or not str(self.model_name).strip():
            raise ValueError("model_name must name the exported model")
        target = self.resolve(self.client.list_checkpoints(self.job_id))
        if target.model_name == self.model_name and target.status_name != "FAILED":
            self.log.info(
                "%s of job %s is already exported as %s (%s): waiting on that export.",
                target.checkpoint,
                self.job_id,
                self.model_name,
                target.status_name,
            )
        else:
            self.client.export_checkpoint(self.job_id, target.checkpoint, self.model_name)
            self.log.info(
                "Exporting %s of job %s as %s.", target.checkpoint, self.job_id, self.model_name
            )
        if not self.wait_for_completion:
            return target.to_dict()
        return self.wait(context, f"{self.job_id}/{target.checkpoint}")

    def resolve(self, checkpoints: list[Checkpoint]) -> Checkpoint:
        """``latest`` is the newest step (the list comes newest first)."""
        if not checkpoints:
            raise ValueError(
                f"Fine-tune job {self.job_id} has no checkpoints: only SUCCEEDED sft and "
                "efficient_sft jobs have exportable checkpoints."
            )
        if self.checkpoint == LATEST:
            return checkpoints[0]
        for item in checkpoints:
            if checkpoint_matches(item, self.checkpoint):
                return item
        names = ", ".join(c.checkpoint for c in checkpoints)
        raise ValueError(
            f"Job {self.job_id} has no checkpoint {self.checkpoint!r}; it has: {names}"
        )

    # --- waiting ----------------------------------------------------------------------------

    def trigger_for(
        self, resource_id: str, *, end_time: float | None, log_offset: int
    ) -> DashScopeCheckpointTrigger:
        from airflow_dashscope.triggers import DashScopeCheckpointTrigger

        job_id, checkpoint = resource_id.split("/", 1)
        return DashScopeCheckpointTrigger(
            job_id,
            checkpoint,
            dashscope_conn_id=self.dashscope_conn_id,
            poll_interval=self.poll_interval,
            end_time=end_time,
            max_consecutive_errors=self.max_consecutive_errors,
        )

    def on_success(self, context: Context, result: dict[str, Any]) -> dict[str, Any]:
        self.emit_model(
            context,
            result.get("model_name") or self.model_name,
            job_id=self.job_id,
            checkpoint=result.get("checkpoint"),
        )
        return result
