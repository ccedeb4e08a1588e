"""Publish a checkpoint of a finished job as a deployable model."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow_dashscope.client.errors import DashScopeError, UnsupportedOperationError
from airflow_dashscope.exceptions import DashScopeTaskError, InvalidRequestError, task_error_for
from airflow_dashscope.lineage.openlineage import ExportLineage
from airflow_dashscope.links.console import DashScopeExportedModelLink
from airflow_dashscope.operators.base import DashScopeWaitingOperator

if TYPE_CHECKING:  # the models and triggers load when a task runs, not at DAG parse
    from airflow.sdk import Context

    from airflow_dashscope.client.models import Checkpoint
    from airflow_dashscope.triggers import DashScopeCheckpointTrigger

LATEST = "latest"


class DashScopeExportCheckpointOperator(ExportLineage, DashScopeWaitingOperator):
    """Export ``checkpoint`` of fine-tune job ``job_id`` as model ``model_name`` and wait
    until it is published.

    Returns ``{"job_id", "checkpoint", "model_name", "requested_model_name", "status",
    "reused"}``. ``model_name`` is the deployable id **read back from the checkpoint list
    after the export SUCCEEDED**, which the service may publish under an id other than the
    one asked for; it is also the XCom ``model_name`` (``export.output["model_name"]``).

    Which export belongs to the task is decided in ``operators/identity.py`` (its table): a
    task tried again waits on its export under way instead of exporting twice (the service
    refuses that); a checkpoint already published (by a cleared run, or by the service itself
    for the final one) is returned at once with ``"reused": True`` and announces no model.

    :param job_id: a SUCCEEDED sft/efficient_sft job (e.g. ``finetune.output["job_id"]``).
    :param checkpoint: ``latest`` (the newest step), ``checkpoint-N`` or a checkpoint id.
    :param model_name: the name asked for the published model.
    """

    template_fields: Sequence[str] = ("job_id", "checkpoint", "model_name", "dashscope_conn_id")
    operator_extra_links = (DashScopeExportedModelLink(),)
    resource = "checkpoint"
    asset_kind = "exported"
    noun = "checkpoint"

    def __init__(
        self, *, job_id: str, model_name: str, checkpoint: str = LATEST, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.job_id = job_id
        self.checkpoint = checkpoint
        self.model_name = model_name

    def execute(self, context: Context) -> dict[str, Any]:
        from airflow_dashscope.operators.identity import match_export
        from airflow_dashscope.waiting import WaitEvent

        if not self.model_name or not str(self.model_name).strip():
            raise InvalidRequestError("model_name must name the exported model")
        checkpoints = self.calling(
            f"listing the checkpoints of job {self.job_id}",
            self.client.list_checkpoints,
            self.job_id,
        )
        target = self.resolve(checkpoints)
        match = match_export(
            target, job_id=self.job_id, asked=self.model_name, job_output=self.job_output
        )
        if match.action == "create":
            self.start_export(target)
        else:
            self.log.info("%s", match.why)
        reused = match.reused
        resumed = {"reused": reused}
        if not self.wait_for_completion:
            return self.result_of(target.to_dict(), reused=reused)
        if reused:
            event = WaitEvent(
                status="success",
                resource="checkpoint",
                id=f"{self.job_id}/{target.checkpoint}",
                result=target.to_dict(),
            )
            return self.finish(context, event, **resumed)
        return self.wait(context, f"{self.job_id}/{target.checkpoint}", resumed=resumed)

    def start_export(self, target: Checkpoint) -> None:
        """Ask for the export. A checkpoint the service says is exported already (an earlier
        try's export, still PENDING in the list) is waited on rather than failed."""
        try:
            self.client.export_checkpoint(self.job_id, target.checkpoint, self.model_name)
        except UnsupportedOperationError as error:
            if "already" not in error.message.lower():
                raise task_error_for(error, f"exporting {target.checkpoint}") from error
            self.log.info("%s is being exported already: waiting on it.", target.checkpoint)
            return
        except DashScopeError as error:
            raise task_error_for(error, f"exporting {target.checkpoint}") from error
        self.log.info(
            "Exporting %s of job %s as %s.", target.checkpoint, self.job_id, self.model_name
        )

    def job_output(self) -> str | None:
        """The job's ``finetuned_output``, read back: the id its final checkpoint has."""
        job = self.calling(
            f"getting fine-tune job {self.job_id}", self.client.get_fine_tune, self.job_id
        )
        return job.finetuned_output

    def resolve(self, checkpoints: list[Checkpoint]) -> Checkpoint:
        """``latest`` is the newest step (the list comes newest first)."""
        from airflow_dashscope.waiting import checkpoint_matches

        if not checkpoints:
            raise self.no_checkpoints_error()
        if self.checkpoint == LATEST:
            return checkpoints[0]
        for item in checkpoints:
            if checkpoint_matches(item, self.checkpoint):
                return item
        names = ", ".join(c.checkpoint for c in checkpoints)
        raise InvalidRequestError(
            f"Set checkpoint to {LATEST!r} or to one of the job's checkpoints.\n"
            f"Job {self.job_id} has no checkpoint {self.checkpoint!r}; it has: {names}"
        )

    def no_checkpoints_error(self) -> DashScopeTaskError:
        """Why the job has no checkpoint yet: retryable while it is still training (its
        fine-tune task was marked success early, or did not wait), fatal once it has ended."""
        job = self.calling(
            f"getting fine-tune job {self.job_id}", self.client.get_fine_tune, self.job_id
        )
        if not job.is_terminal:
            return DashScopeTaskError(
                f"Let fine-tune job {self.job_id} finish first: a retry of this task looks "
                "again.\n"
                f"Fine-tune job {self.job_id} is still {job.status_name}: its checkpoints exist "
                "once it has SUCCEEDED (was its fine-tune task marked success before the job "
                "ended?)."
            )
        return InvalidRequestError(
            "Export from a SUCCEEDED sft or efficient_sft job: only those have exportable "
            f"checkpoints.\nFine-tune job {self.job_id} is {job.status_name} and has no "
            "checkpoints."
        )

    def result_of(self, checkpoint: dict[str, Any], *, reused: bool) -> dict[str, Any]:
        return {
            "job_id": self.job_id,
            "checkpoint": checkpoint.get("checkpoint"),
            "model_name": checkpoint.get("model_name"),
            "requested_model_name": self.model_name,
            "status": checkpoint.get("status"),
            "reused": reused,
        }

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

    def on_success(
        self, context: Context, result: dict[str, Any], **resumed: Any
    ) -> dict[str, Any]:
        from airflow_dashscope.operators.identity import renamed

        done = self.result_of(result, reused=bool(resumed.get("reused")))
        if not done["model_name"]:
            raise InvalidRequestError(
                f"Check {done['checkpoint']} of job {self.job_id} in the console: it is exported "
                "but the service lists no model_name for it, so there is nothing to deploy."
            )
        note = renamed(
            f"{done['checkpoint']} of job {self.job_id}", self.model_name, done["model_name"]
        )
        if note:
            self.log.info("%s", note)
        self.push(context, model_name=done["model_name"])
        if not done["reused"]:
            self.emit_model(
                context, done["model_name"], job_id=self.job_id, checkpoint=done["checkpoint"]
            )
        return done
