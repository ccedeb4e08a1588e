"""Operators for the fine-tuning pipeline: upload -> fine-tune -> export -> deploy -> invoke,
the clean-up steps, retention (an account kept within its limits by a policy), and sweeps
(a grid checked before it is paid for, and its best member chosen)."""

from typing import TYPE_CHECKING

from airflow_dashscope import lazy_exports

if TYPE_CHECKING:
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
    from airflow_dashscope.operators.retention import DashScopeRetentionOperator
    from airflow_dashscope.operators.sweep import DashScopeSelectBestFineTuneOperator
    from airflow_dashscope.operators.sweep_preflight import DashScopeSweepPreflightOperator

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "DashScopeCancelFineTuneOperator": "airflow_dashscope.operators.cleanup",
        "DashScopeDeleteDeploymentOperator": "airflow_dashscope.operators.cleanup",
        "DashScopeDeleteFileOperator": "airflow_dashscope.operators.cleanup",
        "DashScopeDeleteFineTuneOperator": "airflow_dashscope.operators.cleanup",
        "DashScopeDeployModelOperator": "airflow_dashscope.operators.deployments",
        "DashScopeExportCheckpointOperator": "airflow_dashscope.operators.checkpoints",
        "DashScopeFineTuneOperator": "airflow_dashscope.operators.fine_tune",
        "DashScopeInvokeModelOperator": "airflow_dashscope.operators.invoke",
        "DashScopeRetentionOperator": "airflow_dashscope.operators.retention",
        "DashScopeScaleDeploymentOperator": "airflow_dashscope.operators.cleanup",
        "DashScopeSelectBestFineTuneOperator": "airflow_dashscope.operators.sweep",
        "DashScopeSweepPreflightOperator": "airflow_dashscope.operators.sweep_preflight",
        "DashScopeUploadFileOperator": "airflow_dashscope.operators.files",
    },
)

__all__ = [
    "DashScopeCancelFineTuneOperator",
    "DashScopeDeleteDeploymentOperator",
    "DashScopeDeleteFileOperator",
    "DashScopeDeleteFineTuneOperator",
    "DashScopeDeployModelOperator",
    "DashScopeExportCheckpointOperator",
    "DashScopeFineTuneOperator",
    "DashScopeInvokeModelOperator",
    "DashScopeRetentionOperator",
    "DashScopeScaleDeploymentOperator",
    "DashScopeSelectBestFineTuneOperator",
    "DashScopeSweepPreflightOperator",
    "DashScopeUploadFileOperator",
]
