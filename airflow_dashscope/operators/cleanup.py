"""Tidy up after a pipeline: stop or delete jobs, files and deployments, or resize one.

Deleting something that is already gone succeeds with a log line, so a clean-up task can be
retried or run twice without failing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow_dashscope.checks.parameters import as_number
from airflow_dashscope.client.errors import (
    DashScopeError,
    NotFoundError,
    UnsupportedOperationError,
    is_gone,
)
from airflow_dashscope.exceptions import InvalidRequestError
from airflow_dashscope.operators.base import DashScopeBaseOperator
from airflow_dashscope.operators.deployments import DashScopeDeploymentWaitOperator

if TYPE_CHECKING:
    from airflow.sdk import Context


class DashScopeCancelFineTuneOperator(DashScopeBaseOperator):
    """Cancel fine-tune job ``job_id``; a job that already ended is left as it is."""

    template_fields: Sequence[str] = ("job_id", "dashscope_conn_id")

    def __init__(self, *, job_id: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.job_id = job_id

    def execute(self, context: Context) -> None:
        try:
            self.client.cancel_fine_tune(self.job_id)
        except UnsupportedOperationError:
            job = self.client.get_fine_tune(self.job_id)
            if not job.is_terminal:
                raise
            self.log.info("Fine-tune job %s already ended %s.", self.job_id, job.status_name)
            return
        self.log.info("Cancelling fine-tune job %s.", self.job_id)


class DashScopeDeleteFineTuneOperator(DashScopeBaseOperator):
    """Delete finished fine-tune job ``job_id`` (frees one of the account's 20 job slots)."""

    template_fields: Sequence[str] = ("job_id", "dashscope_conn_id")

    def __init__(self, *, job_id: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.job_id = job_id

    def execute(self, context: Context) -> None:
        try:
            self.client.delete_fine_tune(self.job_id)
        except NotFoundError:
            self.log.info("Fine-tune job %s does not exist (already deleted).", self.job_id)
            return
        self.log.info("Deleted fine-tune job %s.", self.job_id)


class DashScopeDeleteFileOperator(DashScopeBaseOperator):
    """Delete uploaded file ``file_id``."""

    template_fields: Sequence[str] = ("file_id", "dashscope_conn_id")

    def __init__(self, *, file_id: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.file_id = file_id

    def execute(self, context: Context) -> None:
        try:
            self.client.delete_file(self.file_id)
        except DashScopeError as error:
            if not is_gone(error):
                raise
            self.log.info("File %s does not exist (already deleted).", self.file_id)
            return
        self.log.info("Deleted file %s.", self.file_id)


class DashScopeScaleDeploymentOperator(DashScopeDeploymentWaitOperator):
    """Set the capacity of ``deployed_model`` and (by default) wait until it is RUNNING again."""

    template_fields: Sequence[str] = ("deployed_model", "capacity", "dashscope_conn_id")

    def __init__(self, *, deployed_model: str, capacity: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.deployed_model = deployed_model
        self.capacity = capacity

    def execute(self, context: Context) -> dict[str, Any]:
        self.capacity = as_number(self.capacity)
        if (
            isinstance(self.capacity, bool)
            or not isinstance(self.capacity, int)
            or self.capacity < 1
        ):
            raise InvalidRequestError(f"capacity must be a positive integer, got {self.capacity!r}")
        deployment = self.calling(
            f"scaling {self.deployed_model}",
            self.client.scale_deployment,
            self.deployed_model,
            self.capacity,
        )
        self.log.info("Scaling %s to capacity %d.", self.deployed_model, self.capacity)
        return self.settle(context, deployment)


class DashScopeDeleteDeploymentOperator(DashScopeBaseOperator):
    """Delete deployment ``deployed_model`` (stops its billing)."""

    template_fields: Sequence[str] = ("deployed_model", "dashscope_conn_id")

    def __init__(self, *, deployed_model: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.deployed_model = deployed_model

    def execute(self, context: Context) -> None:
        try:
            self.client.delete_deployment(self.deployed_model)
        except NotFoundError:
            self.log.info("Deployment %s does not exist (already deleted).", self.deployed_model)
            return
        self.log.info("Deleting deployment %s.", self.deployed_model)
