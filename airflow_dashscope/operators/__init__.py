"""Operators for the fine-tuning pipeline: upload -> fine-tune -> export -> deploy -> invoke,
and the clean-up steps."""

from airflow_dashscope.operators.checkpoints import DashScopeExportCheckpointOperator
from airflow_dashscope.operators.cleanup import (
    DashScopeCancelFineTuneOperator,
    DashScopeDeleteDeploymentOperator,
    DashScopeDeleteFileOperator,
    DashScopeDeleteFineTuneOperator,
    DashScopeScaleDeploymentOperator,
)
from airflow_dashscope.operators.deployments import DashScopeDeployModelOperator
from airflow_dashscope.operators.files import DashScopeUploadFileOperator
from airflow_dashscope.operators.fine_tune import DashScopeFineTuneOperator
from airflow_dashscope.operators.invoke import DashScopeInvokeModelOperator

__all__ = [
    "DashScopeCancelFineTuneOperator",
    "DashScopeDeleteDeploymentOperator",
    "DashScopeDeleteFileOperator",
    "DashScopeDeleteFineTuneOperator",
    "DashScopeDeployModelOperator",
    "DashScopeExportCheckpointOperator",
    "DashScopeFineTuneOperator",
    "DashScopeInvokeModelOperator",
    "DashScopeScaleDeploymentOperator",
    "DashScopeUploadFileOperator",
]
