"""Upload training data: check it locally first, so a bad line never costs a paid job."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow_dashscope.checks import catalog
from airflow_dashscope.checks.parameters import as_number
from airflow_dashscope.exceptions import InvalidRequestError, InvalidTrainingDataError
from airflow_dashscope.lineage.openlineage import UploadLineage
from airflow_dashscope.operators.base import DashScopeBaseOperator

if TYPE_CHECKING:
    from airflow.sdk import Context, ObjectStoragePath

    from airflow_dashscope.client.models import DashScopeFile


def as_upload_source(file_path: str | os.PathLike[str] | ObjectStoragePath) -> Any:
    """A local path stays a path; a URL string (``s3://...``) becomes an ObjectStoragePath."""
    if isinstance(file_path, str) and "://" in file_path:
        from airflow.sdk import ObjectStoragePath

        return ObjectStoragePath(file_path)
    return file_path


class DashScopeUploadFileOperator(UploadLineage, DashScopeBaseOperator):
    """Validate a training file, then upload it to Model Studio; returns the file id.

    Validation (``airflow_dashscope.training_data.validate_training_file``) streams the file once
    and fails the task for good (``InvalidTrainingDataError``, no retry) with the report's
    ``file:line`` problems before anything is uploaded; a good file's statistics (examples,
    estimated tokens) are logged, and its estimated tokens per epoch are pushed as the XCom
    ``training_tokens`` (for the fine-tune operator's cost estimate and budget).

    :param file_path: a local path or an ``ObjectStoragePath`` (or its URL).
    :param purpose: the Files API purpose (``fine-tune``).
    :param description: optional description stored with the file.
    :param validate: check the data first (default True).
    :param training_type: the type of data to check the file as (``sft``, ``dpo_full``...).
    :param thinking: SFT data for a thinking model (``<think>`` rules).
    :param n_epochs: to estimate billed tokens (tokens x epochs) in the log.
    :param model: the model this data will train: an unknown one fails before uploading.
    :param max_billed_tokens: fail before uploading when tokens x ``n_epochs`` exceed it.
    :param reuse_identical_file: return the id of a stored file with the same size, MD5 and
        purpose instead of uploading it again (default True): a cleared run with the same data
        then gets the same file id, so its fine-tune finds its job again instead of paying
        for a second one. The XCom ``reused`` says which happened.
    :param check_job_slot: for a ``fine-tune`` file, refuse to upload it while the account has
        no free fine-tune job slot (``[dashscope] max_fine_tune_jobs``): the fine-tune after it
        would fail, and the file would only take a place among the account's files. Turn it
        off when the upload's fine-tune replaces a job of its own in progress (it cancels that
        one first) at a full account.
    """

    template_fields: Sequence[str] = (
        "file_path",
        "purpose",
        "description",
        "training_type",
        "n_epochs",
        "model",
        "max_billed_tokens",
        "dashscope_conn_id",
    )

    def __init__(
        self,
        *,
        file_path: str | os.PathLike[str] | ObjectStoragePath,
        purpose: str = "fine-tune",
        description: str | None = None,
        validate: bool = True,
        training_type: Any = "sft",
        thinking: bool = False,
        n_epochs: Any = None,
        model: str | None = None,
        max_billed_tokens: Any = None,
        reuse_identical_file: bool = True,
        check_job_slot: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.file_path = file_path
        self.purpose = purpose
        self.description = description
        self.validate = validate
        self.training_type = training_type
        self.thinking = thinking
        self.n_epochs = n_epochs
        self.model = model
        self.max_billed_tokens = max_billed_tokens
        self.reuse_identical_file = reuse_identical_file
        self.check_job_slot = check_job_slot

    def execute(self, context: Context) -> str:
        from airflow_dashscope.checks.quotas import check_file_quota, check_job_quota, size_of
        from airflow_dashscope.operators.fine_tune_request import enum_value

        self.training_type = enum_value(self.training_type)
        if self.training_type not in catalog.TRAINING_TYPES:
            raise InvalidRequestError(
                f"training_type must be one of {', '.join(catalog.TRAINING_TYPES)}, "
                f"got {self.training_type!r}"
            )
        source = as_upload_source(self.file_path)
        tokens = self.check_data(source) if self.validate else None
        if self.model:
            self.check_model()
        # One listing serves the content reuse and the file quota.
        files = self.calling("listing the files", self.client.list_files)
        stored = self.identical_file(source, files) if self.reuse_identical_file else None
        if stored is not None:
            self.push(context, training_tokens=tokens, reused=True)
            return str(stored.file_id)
        check_file_quota(files, size_of(source))
        if self.check_job_slot and self.purpose == "fine-tune":
            jobs = self.calling("listing the fine-tune jobs", self.client.list_fine_tunes)
            check_job_quota(jobs)
        file_id = self.calling(
            "uploading the training data",
            self.client.upload_file,
            source,
            purpose=self.purpose,
            description=self.description,
        )
        self.log.info("Uploaded %s as file %s.", source, file_id)
        self.push(context, training_tokens=tokens, reused=False)
        return str(file_id)

    def identical_file(self, source: Any, files: list[DashScopeFile]) -> DashScopeFile | None:
        """The stored file among ``files`` (the service's list, every page) holding these
        bytes for this purpose (one more streamed read of the data for its size and MD5)."""
        from airflow_dashscope.client.request import UploadPart, fingerprint, upload_filename
        from airflow_dashscope.operators.content import identical_file

        size, digest = fingerprint(UploadPart(source, upload_filename(source)))
        stored = identical_file(files, size=size, digest=digest, purpose=self.purpose)
        if stored is not None:
            self.log.info(
                "Not uploading %s: file %s (%s, uploaded %s) holds the same bytes (size %s, "
                "same MD5); reusing its id (reuse_identical_file=False uploads anyway).",
                source,
                stored.file_id,
                stored.name,
                stored.gmt_create,
                size,
            )
        return stored

    def check_data(self, source: Any) -> int:
        """Validate; returns the estimated tokens of one epoch."""
        from airflow_dashscope.checks.budget import check_budget, per_epoch
        from airflow_dashscope.training_data import validate_training_file

        n_epochs = as_number(self.n_epochs)
        if n_epochs is not None and (not isinstance(n_epochs, int) or n_epochs < 1):
            raise InvalidRequestError(f"n_epochs must be a positive integer, got {n_epochs!r}")
        report = validate_training_file(
            source, self.training_type, thinking=self.thinking, n_epochs=n_epochs, model=self.model
        )
        if not report.ok:
            raise InvalidTrainingDataError(
                f"Not uploading invalid training data (fix these lines; a retry would find "
                f"the same):\n{report.summary()}"
            )
        self.log.info("Training data checked:\n%s", report.summary())
        tokens = int(report.stats.estimated_tokens)
        self.log.info(
            "Estimated training tokens: %s.", per_epoch(tokens, self.model, report.stats.counted_by)
        )
        estimate = check_budget(tokens, n_epochs, self.max_billed_tokens, model=self.model)
        if estimate is not None:
            self.log.info("Estimated billed tokens: %s.", estimate)
        return tokens

    def check_model(self) -> None:
        """A base model supporting the training type, or an earlier job's output."""
        from airflow_dashscope.checks.models import deployable_lookup, known_model

        model, region = str(self.model), self.client.config.region
        if catalog.is_known_base_model(model, region):
            if not catalog.supports(model, self.training_type, region):
                allowed = ", ".join(catalog.supported_training_types(model, region))
                raise InvalidRequestError(
                    f"training_type {self.training_type!r} is not supported for model "
                    f"{model!r}; it supports: {allowed}"
                )
            return
        jobs = self.calling("listing the fine-tune jobs", self.client.list_fine_tunes)
        known_model(
            model, self.training_type, jobs, region=region, deployable=deployable_lookup(self)
        )
