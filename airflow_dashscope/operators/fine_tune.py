"""Fine-tune a model: check the request, start (or find again) the job, wait for it."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow_dashscope import catalog
from airflow_dashscope.client.errors import DashScopeError, UnsupportedOperationError
from airflow_dashscope.links import DashScopeFineTuneJobLink
from airflow_dashscope.operators.base import DashScopeWaitingOperator
from airflow_dashscope.parameters import validate_fine_tune_parameters
from airflow_dashscope.waiting import WaitEvent, classify_job

if TYPE_CHECKING:  # the models and triggers load when a task runs, not at DAG parse
    from airflow.sdk import Context

    from airflow_dashscope.client import DashScopeClient
    from airflow_dashscope.client.models import FineTuneJob
    from airflow_dashscope.triggers import DashScopeFineTuneJobTrigger

#: Jobs in these statuses are still ours to wait on when a task is tried again.
IN_PROGRESS = frozenset({"PENDING", "QUEUING", "RUNNING"})


def run_scoped_job_name(context: Context, prefix: str | None) -> str:
    """``{prefix}-{10 hex}``, the same for every try of one task instance (map index included).

    Airflow clears a task's XComs when it is tried again, so the job name is what lets a
    new try find the job an earlier try started instead of paying for a second one.
    """
    ti = context["ti"]
    key = f"{ti.dag_id}|{ti.task_id}|{ti.run_id}|{getattr(ti, 'map_index', -1)}"
    digest = hashlib.sha256(key.encode()).hexdigest()[:10]
    return f"{prefix or 'airflow'}-{digest}"


def as_id_list(value: str | Sequence[str] | None) -> list[str]:
    """One id (e.g. an upload task's ``.output``) or several, as a list."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return [str(item) for item in value]


def find_earlier_job(client: DashScopeClient, model: str) -> FineTuneJob | None:
    """The SUCCEEDED job whose output is ``model`` (continuing a fine-tune), if any."""
    for job in client.list_fine_tunes():
        if job.finetuned_output == model and job.status_name == "SUCCEEDED":
            return job
    return None


class DashScopeFineTuneOperator(DashScopeWaitingOperator):
    """Start a fine-tune job on Model Studio and (by default) wait until it finishes.

    The request is checked before anything is sent (training type, the model's support for
    it, required hyperparameters); a model that is an earlier job's output is checked against
    that job's base model and LoRA settings. A task tried again after a crash finds its job
    by its run-scoped name and waits on it (or reuses it if it succeeded) rather than
    starting a second paid job. The job id is pushed to XCom (key ``job_id``) as soon as the
    job exists.

    Returns the final job as a dict (``job_id``, ``status``, ``finetuned_output``,
    ``usage``...), usable as ``task.output["finetuned_output"]``.

    :param model: a base model id, or an earlier job's ``finetuned_output``.
    :param training_file_ids: file id(s) from :class:`DashScopeUploadFileOperator`.
    :param validation_file_ids: optional validation file id(s).
    :param training_type: ``sft`` (default), ``efficient_sft``, ``cpt``, ``dpo_full``, ``dpo_lora``.
    :param hyper_parameters: must include ``n_epochs``, ``batch_size`` and ``max_length``.
    :param job_name: prefix of the job name (default ``airflow``); a digest of the task
        instance is appended.
    :param model_name: display name of the resulting model.
    :param fail_on_cancel: fail the task when the job ends CANCELED (default True).
    """

    template_fields: Sequence[str] = (
        "model",
        "training_file_ids",
        "validation_file_ids",
        "training_type",
        "hyper_parameters",
        "job_name",
        "model_name",
        "dashscope_conn_id",
    )
    template_fields_renderers = {"hyper_parameters": "json"}
    operator_extra_links = (DashScopeFineTuneJobLink(),)
    resource = "fine_tune"
    emits_model_asset = True
    noun = "fine-tune job"

    def __init__(
        self,
        *,
        model: str,
        training_file_ids: str | Sequence[str],
        validation_file_ids: str | Sequence[str] | None = None,
        training_type: str = "sft",
        hyper_parameters: dict[str, Any] | None = None,
        job_name: str | None = None,
        model_name: str | None = None,
        fail_on_cancel: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.model = model
        self.training_file_ids = training_file_ids
        self.validation_file_ids = validation_file_ids
        self.training_type = training_type
        self.hyper_parameters = hyper_parameters
        self.job_name = job_name
        self.model_name = model_name
        self.fail_on_cancel = fail_on_cancel
        self._job_id: str | None = None

    def execute(self, context: Context) -> dict[str, Any]:
        self.check_request()
        job = self.find_or_create_job(run_scoped_job_name(context, self.job_name))
        self._job_id = job.job_id
        context["ti"].xcom_push(key="job_id", value=job.job_id)
        if not self.wait_for_completion:
            return job.to_dict()
        if classify_job(job) == "success":
            return self.finish(context, self.event_for(job))
        return self.wait(context, job.job_id)

    def check_request(self) -> None:
        """Fail before any paid request; looks up the earlier job only for a non-base model."""
        if not as_id_list(self.training_file_ids):
            raise ValueError("training_file_ids must name at least one uploaded file")
        validate_fine_tune_parameters(self.model, self.training_type, self.hyper_parameters)
        if catalog.is_known_base_model(self.model):
            return
        earlier = find_earlier_job(self.client, self.model)
        if earlier is None:
            self.log.info("Model %s is not a catalog base model nor a job output.", self.model)
            return
        self.log.info("Model %s is the output of job %s.", self.model, earlier.job_id)
        lora_job = getattr(earlier.training_type, "value", earlier.training_type) in (
            catalog.EFFICIENT_TRAINING_TYPES
        )
        hyper = earlier.hyper_parameters.to_dict() if earlier.hyper_parameters else {}
        validate_fine_tune_parameters(
            self.model,
            self.training_type,
            self.hyper_parameters,
            base_model=earlier.base_model,
            earlier_job_hyper_parameters=hyper if lora_job else None,
        )

    def find_or_create_job(self, job_name: str) -> FineTuneJob:
        """This task instance's job: one still running or succeeded, else a new one."""
        for job in self.client.find_fine_tunes_by_name(job_name):
            if job.status_name in IN_PROGRESS:
                self.log.info("Reattaching to job %s (%s).", job.job_id, job.status_name)
                return job
            if job.status_name == "SUCCEEDED":
                self.log.info("Job %s of this task already succeeded: reusing it.", job.job_id)
                return job
        job = self.client.create_fine_tune(
            self.model,
            as_id_list(self.training_file_ids),
            validation_file_ids=as_id_list(self.validation_file_ids) or None,
            training_type=self.training_type,
            hyper_parameters=self.hyper_parameters,
            job_name=job_name,
            model_name=self.model_name,
        )
        self.log.info("Created fine-tune job %s (%s).", job.job_id, job_name)
        return job

    def event_for(self, job: FineTuneJob) -> WaitEvent:
        return WaitEvent(
            status="success", resource="fine_tune", id=job.job_id, result=job.to_dict()
        )

    # --- waiting ----------------------------------------------------------------------------

    def trigger_for(
        self, resource_id: str, *, end_time: float | None, log_offset: int
    ) -> DashScopeFineTuneJobTrigger:
        from airflow_dashscope.triggers import DashScopeFineTuneJobTrigger

        return DashScopeFineTuneJobTrigger(
            resource_id,
            dashscope_conn_id=self.dashscope_conn_id,
            poll_interval=self.poll_interval,
            end_time=end_time,
            log_offset=log_offset,
            max_consecutive_errors=self.max_consecutive_errors,
        )

    def accepts_cancel(self) -> bool:
        return not self.fail_on_cancel

    def on_success(self, context: Context, result: dict[str, Any]) -> dict[str, Any]:
        if result.get("finetuned_output"):
            self.emit_model(
                context,
                result["finetuned_output"],
                job_id=result.get("job_id"),
                base_model=result.get("base_model"),
            )
        return result

    def on_timeout(self, event: WaitEvent) -> None:
        self.cancel_job(event.id, why="the wait timed out")

    def on_kill(self) -> None:
        """Cancel the job a worker-side wait was following (the task was killed or cleared)."""
        if self._job_id is not None:
            self.cancel_job(self._job_id, why="the task was killed")

    def cancel_job(self, job_id: str, *, why: str) -> None:
        """Best effort: a job that already ended cannot be cancelled, and that is fine."""
        try:
            self.client.cancel_fine_tune(job_id)
            self.log.warning("Cancelled fine-tune job %s because %s.", job_id, why)
        except UnsupportedOperationError:
            self.log.info("Fine-tune job %s had already ended; nothing to cancel.", job_id)
        except DashScopeError as error:
            self.log.error("Could not cancel fine-tune job %s (%s): %s", job_id, why, error)
