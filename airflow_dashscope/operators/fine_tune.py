"""Fine-tune a model: check the request, start (or find again) the job, wait for it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow_dashscope.checks import catalog
from airflow_dashscope.checks.ids import as_id_list
from airflow_dashscope.checks.parameters import (
    JobParameterError,
    normalize_hyper_parameters,
    validate_fine_tune_parameters,
)
from airflow_dashscope.exceptions import InvalidRequestError
from airflow_dashscope.lineage.openlineage import FineTuneLineage
from airflow_dashscope.links.console import DashScopeFineTuneJobLink
from airflow_dashscope.operators.base import DashScopeWaitingOperator
from airflow_dashscope.operators.fine_tune_request import check_literal_request, enum_value

if TYPE_CHECKING:  # the models and triggers load when a task runs, not at DAG parse
    from airflow.sdk import Context

    from airflow_dashscope.client.models import FineTuneJob
    from airflow_dashscope.operators.identity import Match
    from airflow_dashscope.triggers import DashScopeFineTuneJobTrigger
    from airflow_dashscope.waiting import WaitEvent
    from airflow_dashscope.waiting.user_action import TaskInstanceKey


class DashScopeFineTuneOperator(FineTuneLineage, DashScopeWaitingOperator):
    """Start a fine-tune job on Model Studio and (by default) wait until it finishes.

    Before anything is paid for, the request is checked: parameters (numeric text from
    templates is accepted), the model (a supported base model or an earlier job's output;
    anything else fails at once), the budget (``max_billed_tokens``). Errors no retry can fix
    raise ``AirflowFailException`` subclasses (see ``airflow_dashscope.exceptions``).

    The job belongs to the task instance and its inputs (the table in ``operators/identity.py``):
    a retry reattaches, a clear with identical inputs reuses the job that succeeded (returned
    with ``"reused": True``, no asset event), changed inputs start a new job.

    Returns ``{"job_id", "status", "model", "finetuned_output", "usage", "estimated_tokens",
    "reused", ...}``. ``job_id`` (as soon as the job exists) and ``finetuned_output`` are also
    XComs of their own: ``task.output["job_id"]``.

    :param model: a base model id, or an earlier job's ``finetuned_output``.
    :param training_file_ids: file id(s) from :class:`DashScopeUploadFileOperator`.
    :param validation_file_ids: optional validation file id(s).
    :param training_type: ``sft`` (default), ``efficient_sft``, ``cpt``, ``dpo_full``,
        ``dpo_lora`` (or a ``TrainingType``).
    :param hyper_parameters: must include ``n_epochs``, ``batch_size`` and ``max_length``.
    :param job_name: prefix of the job name (default ``airflow``); digests of the task
        instance and the inputs are appended.
    :param model_name: the name asked for the resulting model; the service may name it
        otherwise (``finetuned_output`` is the id to use; the log says so).
    :param reuse: ``"identical"`` (default): reuse a job of an earlier run or clear that
        succeeded with identical inputs; ``"never"``: train again.
    :param training_tokens: estimated tokens of one pass over the training data (e.g. the
        upload's ``upload.output["training_tokens"]``; several files: a list, summed). The
        estimate ``training_tokens x n_epochs`` is logged and returned as ``estimated_tokens``.
    :param max_billed_tokens: fail before creating the job when the estimate exceeds it.
    :param max_cost: the same budget in yuan, at the model's training price (``checks/prices``).
    :param fail_on_cancel: fail the task when the job ends CANCELED (default True).
    :param cancel_superseded: cancel this task instance's job still in progress for other
        (older) inputs before starting the one for its inputs now (default True): after a
        clear with changed data nobody waits for it, yet it trains and bills.

    Literal arguments (not templates) are checked when the DAG file is parsed: missing
    required hyperparameters are a DAG import error naming the task, before any upload.
    """

    template_fields: Sequence[str] = (
        "model",
        "training_file_ids",
        "validation_file_ids",
        "training_type",
        "hyper_parameters",
        "job_name",
        "model_name",
        "training_tokens",
        "max_billed_tokens",
        "max_cost",
        "reuse",
        "dashscope_conn_id",
    )
    template_fields_renderers = {"hyper_parameters": "json"}
    operator_extra_links = (DashScopeFineTuneJobLink(),)
    resource = "fine_tune"
    asset_kind = "trained"
    noun = "fine-tune job"

    def __init__(
        self,
        *,
        model: str,
        training_file_ids: str | Sequence[str],
        validation_file_ids: str | Sequence[str] | None = None,
        training_type: Any = "sft",
        hyper_parameters: dict[str, Any] | None = None,
        job_name: str | None = None,
        model_name: str | None = None,
        reuse: str = "identical",
        training_tokens: Any = None,
        max_billed_tokens: Any = None,
        max_cost: Any = None,
        fail_on_cancel: bool = True,
        cancel_superseded: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        check_literal_request(self.task_id, model, training_type, hyper_parameters)
        self.model = model
        self.training_file_ids = training_file_ids
        self.validation_file_ids = validation_file_ids
        self.training_type = training_type
        self.hyper_parameters = hyper_parameters
        self.job_name = job_name
        self.model_name = model_name
        self.reuse = reuse
        self.training_tokens = training_tokens
        self.max_billed_tokens = max_billed_tokens
        self.max_cost = max_cost
        self.fail_on_cancel = fail_on_cancel
        self.cancel_superseded = cancel_superseded
        self._job_id: str | None = None
        self._ahead = 0
        self._task_instance: TaskInstanceKey | None = None

    # --- the steps --------------------------------------------------------------------------

    def execute(self, context: Context) -> dict[str, Any]:
        from airflow_dashscope.checks.quotas import check_job_quota
        from airflow_dashscope.operators.fine_tune_outcome import cancel_job, job_event, summary
        from airflow_dashscope.operators.identity import JobIdentity, match_job, superseded_jobs
        from airflow_dashscope.waiting import classify_job
        from airflow_dashscope.waiting.queue import jobs_ahead
        from airflow_dashscope.waiting.user_action import task_instance_key

        self.check_request()
        estimate = self.check_budget()
        jobs = self.calling("listing the fine-tune jobs", self.client.list_fine_tunes)
        self.check_model(jobs)
        identity = JobIdentity.of(context, self.job_name, self.inputs())
        match = match_job(identity, jobs, self.reuse)
        if match.action == "create" and self.reuse != "never":
            match = self.match_lineage(jobs)
        superseded = superseded_jobs(identity, jobs) if self.cancel_superseded else []
        for old in superseded:
            self.log.warning(
                "Cancelling job %s (older inputs) before starting job %s.",
                old.job_id,
                match.found.job_id if match.found else identity.name,
            )
            cancel_job(self.client, old.job_id, why="its task's inputs changed", log=self.log)
        if match.action == "create":
            if match.why:
                self.log.info("%s", match.why)
            # A cancelled superseded job no longer holds a slot.
            check_job_quota([job for job in jobs if job not in superseded])
            job = self.create(identity.name, jobs)
        else:
            job = match.found
            self.log.info("%s", match.why)
        self._job_id, self._ahead = job.job_id, jobs_ahead(job, jobs)
        self._task_instance = task_instance_key(context)
        self.push(context, job_id=job.job_id)
        resumed = {"estimated_tokens": estimate, "reused": match.reused}
        if not self.wait_for_completion:
            return {**summary(job.to_dict()), **resumed}
        if classify_job(job) != "pending":
            return self.finish(context, job_event(job), **resumed)
        if self.deferrable:
            # The trigger reads (and keeps up to date) how much of the remote log was shown;
            # recording the start here spares every deferral a "not found" lookup.
            from airflow_dashscope.waiting.progress import LOG_OFFSET_KEY

            context["ti"].xcom_push(key=LOG_OFFSET_KEY, value=0)
        return self.wait(context, job.job_id, resumed=resumed)

    def check_request(self) -> None:
        """Normalise template text and check the parameters: no request sent yet."""
        from airflow_dashscope.operators.identity import check_reuse

        self.training_type = enum_value(self.training_type)
        self.hyper_parameters = normalize_hyper_parameters(self.hyper_parameters)
        check_reuse(self.reuse)
        if not as_id_list(self.training_file_ids):
            raise InvalidRequestError("training_file_ids must name at least one uploaded file")
        try:
            validate_fine_tune_parameters(self.model, self.training_type, self.hyper_parameters)
        except JobParameterError as error:
            raise InvalidRequestError(f"Invalid fine-tune request: {error}") from error

    def check_budget(self) -> int | None:
        """Log the estimated billed tokens; fail when they exceed ``max_billed_tokens``."""
        from airflow_dashscope.checks.budget import check_budget

        epochs = (self.hyper_parameters or {}).get("n_epochs")
        estimate = check_budget(
            self.training_tokens,
            epochs,
            self.max_billed_tokens,
            model=self.model,
            max_cost=self.max_cost,
        )
        if estimate is not None:
            self.log.info("Estimated billed tokens: %s.", estimate)
        return None if estimate is None else estimate.total

    def check_model(self, jobs: list[FineTuneJob]) -> None:
        """The model is a base model, or the output of an earlier SUCCEEDED job (then that
        job's base model and LoRA settings are checked)."""
        from airflow_dashscope.checks.models import known_model

        earlier = known_model(
            self.model,
            self.training_type,
            jobs,
            region=self.client.config.region,
            deployable=self.deployable_models,
        )
        if earlier is None:
            return
        self.log.info("Model %s is the output of job %s.", self.model, earlier.job_id)
        lora_job = enum_value(earlier.training_type) in catalog.EFFICIENT_TRAINING_TYPES
        hyper = earlier.hyper_parameters.to_dict() if earlier.hyper_parameters else {}
        try:
            validate_fine_tune_parameters(
                self.model,
                self.training_type,
                self.hyper_parameters,
                base_model=earlier.base_model,
                earlier_job_hyper_parameters=hyper if lora_job else None,
            )
        except JobParameterError as error:
            raise InvalidRequestError(f"Invalid fine-tune request: {error}") from error

    def match_lineage(self, jobs: list[FineTuneJob]) -> Match:
        """Reuse the job that made ``model`` when its lineage already learned every training
        file (by content: the rule is ``operators/content.py``); I/O only when ``model`` is
        an earlier job's output."""
        from airflow_dashscope.operators.content import match_lineage, model_makers
        from airflow_dashscope.operators.identity import Match

        makers = model_makers(self.model, jobs, {})
        if not makers and not catalog.is_known_base_model(self.model, self.client.config.region):
            makers = model_makers(self.model, jobs, self.exported_models(jobs))
        if not makers:
            return Match("create")
        files = self.calling("listing the files", self.client.list_files)
        return match_lineage(self.model, as_id_list(self.training_file_ids), makers, files)

    def exported_models(self, jobs: list[FineTuneJob]) -> dict[str, str]:
        """Exported checkpoint model -> job id, read from the SUCCEEDED jobs' checkpoints."""
        exported: dict[str, str] = {}
        for job in jobs:
            if job.status_name != "SUCCEEDED":
                continue
            checkpoints = self.calling(
                f"listing the checkpoints of job {job.job_id}",
                self.client.list_checkpoints,
                job.job_id,
            )
            exported.update({c.model_name: job.job_id for c in checkpoints if c.model_name})
        return exported

    def deployable_models(self) -> list[str]:
        from airflow_dashscope.checks.models import deployable_lookup

        return deployable_lookup(self)()

    def inputs(self) -> dict[str, Any]:
        """What the job is asked to do: its fingerprint decides reattach/reuse vs a new job."""
        from airflow_dashscope.operators.identity import fine_tune_inputs

        return fine_tune_inputs(
            model=self.model,
            training_type=self.training_type,
            training_file_ids=as_id_list(self.training_file_ids),
            validation_file_ids=as_id_list(self.validation_file_ids),
            hyper_parameters=self.hyper_parameters,
            model_name=self.model_name,
        )

    def create(self, job_name: str, jobs: list[FineTuneJob]) -> FineTuneJob:
        job = self.calling(
            "creating the fine-tune job",
            self.client.create_fine_tune,
            self.model,
            as_id_list(self.training_file_ids),
            validation_file_ids=as_id_list(self.validation_file_ids) or None,
            training_type=self.training_type,
            hyper_parameters=self.hyper_parameters,
            job_name=job_name,
            model_name=self.model_name,
            known_jobs=jobs,
        )
        self.log.info("Created fine-tune job %s (%s).", job.job_id, job_name)
        return job

    def wait_deadline(self) -> float | None:
        """``timeout`` for this job, plus one per job ahead of it for the single training slot
        (``waiting/queue.py``): a sweep's members queue behind each other."""
        from airflow_dashscope.waiting.queue import queue_deadline

        if self._ahead and self.wait_timeout is not None:
            self.log.info(
                "Job %s is behind %d job(s) for the training slot: the wait allows %d x timeout.",
                self._job_id,
                self._ahead,
                self._ahead + 1,
            )
        return queue_deadline(self.wait_timeout, self._ahead)

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

    def on_success(
        self, context: Context, result: dict[str, Any], **resumed: Any
    ) -> dict[str, Any]:
        from airflow_dashscope.operators.fine_tune_outcome import success_lines, training_summary

        done = self.compact(result, **resumed)
        for line in success_lines(result, done["estimated_tokens"], asked=self.model_name):
            self.log.info("%s", line)
        if result.get("job_id"):
            done["training"] = training_summary(self.client, result["job_id"], self.log)
        self.push(context, finetuned_output=result.get("finetuned_output"))
        if result.get("finetuned_output") and not done.get("reused"):
            self.emit_model(
                context,
                result["finetuned_output"],
                job_id=result.get("job_id"),
                base_model=result.get("base_model"),
            )
        return done

    def compact(self, result: dict[str, Any], **resumed: Any) -> dict[str, Any]:
        # dag.test() resumes a deferred task with the trigger's event only, not the kwargs it
        # deferred with: the estimate is recomputed from the (re-rendered) fields instead.
        from airflow_dashscope.operators.fine_tune_outcome import costs, summary

        done = {**summary(result), "reused": False, **resumed}
        done["estimated_tokens"] = self.estimated_total()
        return {**done, **costs(result, done["estimated_tokens"])}

    def estimated_total(self) -> int | None:
        """Tokens x epochs from ``training_tokens`` and ``n_epochs`` (None if either is unknown)."""
        from airflow_dashscope.checks.budget import check_budget

        epochs = (self.hyper_parameters or {}).get("n_epochs")
        estimate = check_budget(self.training_tokens, epochs, None)
        return None if estimate is None else estimate.total

    def failure(self, event: WaitEvent) -> Exception:
        from airflow_dashscope.operators.fine_tune_outcome import job_failure

        return job_failure(event.explain(), event.status, (event.result or {}).get("code"))

    def on_timeout(self, event: WaitEvent) -> None:
        from airflow_dashscope.operators.fine_tune_outcome import cancel_job

        cancel_job(self.client, event.id, why="the wait timed out", log=self.log)

    def on_kill(self) -> None:
        """A worker-side wait was stopped: cancel the job only if the user ended the task as
        failed (mark failed). A clear (a new try reattaches), a mark success or an
        ``execution_timeout`` (a retry reattaches) leave the paid job running."""
        from airflow_dashscope.operators.fine_tune_outcome import cancel_job
        from airflow_dashscope.waiting.user_action import ended_as_failed

        if self._job_id is None:
            return
        if self._task_instance is not None and ended_as_failed(self._task_instance):
            cancel_job(self.client, self._job_id, why="the task was marked failed", log=self.log)
        else:
            self.log.info(
                "Task stopped; fine-tune job %s keeps running: a new try with the same "
                "inputs reattaches to it; one with changed inputs cancels it first (only a "
                "task marked failed cancels it now).",
                self._job_id,
            )
