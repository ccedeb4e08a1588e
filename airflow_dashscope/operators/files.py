"""Upload training data: check it locally first, so a bad line never costs a paid job."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow_dashscope.openlineage import UploadLineage
from airflow_dashscope.operators._compat import AirflowException
from airflow_dashscope.operators.base import DashScopeBaseOperator

if TYPE_CHECKING:
    from airflow.sdk import Context, ObjectStoragePath


def as_upload_source(file_path: str | os.PathLike[str] | ObjectStoragePath) -> Any:
    """A local path stays a path; a URL string (``s3://...``) becomes an ObjectStoragePath."""
    if isinstance(file_path, str) and "://" in file_path:
        from airflow.sdk import ObjectStoragePath

        return ObjectStoragePath(file_path)
    return file_path


class DashScopeUploadFileOperator(UploadLineage, DashScopeBaseOperator):
    """Validate a training file, then upload it to Model Studio; returns the file id.

    Validation (``airflow_dashscope.datasets.validate_training_file``) streams the file once
    and fails the task with the report before anything is uploaded; a good file's statistics
    (examples, estimated tokens) are logged.

    :param file_path: a local path or an ``ObjectStoragePath`` (or its URL).
    :param purpose: the Files API purpose (``fine-tune``).
    :param description: optional description stored with the file.
    :param validate: check the data first (default True).
    :param training_type: the type of data to check the file as (``sft``, ``dpo_full``...).
    :param thinking: SFT data for a thinking model (``<think>`` rules).
    :param n_epochs: to estimate billed tokens in the logged statistics.
    """

    template_fields: Sequence[str] = (
        "file_path",
        "purpose",
        "description",
        "training_type",
        "n_epochs",
        "dashscope_conn_id",
    )

    def __init__(
        self,
        *,
        file_path: str | os.PathLike[str] | ObjectStoragePath,
        purpose: str = "fine-tune",
        description: str | None = None,
        validate: bool = True,
        training_type: str = "sft",
        thinking: bool = False,
        n_epochs: int | None = None,
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

    def execute(self, context: Context) -> str:
        source = as_upload_source(self.file_path)
        if self.validate:
            self.check_data(source)
        file_id = self.client.upload_file(
            source, purpose=self.purpose, description=self.description
        )
        self.log.info("Uploaded %s as file %s.", source, file_id)
        return file_id

    def check_data(self, source: Any) -> None:
        from airflow_dashscope.datasets import validate_training_file

        # A template renders to text unless the DAG renders native objects.
        n_epochs = int(self.n_epochs) if isinstance(self.n_epochs, str) else self.n_epochs
        report = validate_training_file(
            source, self.training_type, thinking=self.thinking, n_epochs=n_epochs
        )
        if not report.ok:
            raise AirflowException(f"Not uploading invalid training data:\n{report.summary()}")
        self.log.info("Training data checked:\n%s", report.summary())
