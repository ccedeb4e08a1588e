"""Operators for the fine-tuning pipeline: upload -> fine-tune -> export -> deploy -> invoke,
the clean-up steps, retention (an account kept within its limits by a policy), promotion
into a serving slot (``serving_in_slot`` reads a slot's holder), and sweeps (a grid checked
before it is paid for, and its best member chosen)."""

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
    from airflow_dashscope.operators.evaluate import DashScopeEvaluateModelOperator
    from airflow_dashscope.operators.files import DashScopeUploadFileOperator
    from airflow_dashscope.operators.fine_tune import DashScopeFineTuneOperator
    from airflow_dashscope.operators.invoke import DashScopeInvokeModelOperator
    from airflow_dashscope.operators.promotion import DashScopePromoteModelOperator
    from airflow_dashscope.operators.promotion_slot import serving_in_slot
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
        "DashScopeEvaluateModelOperator": "airflow_dashscope.operators.evaluate",
        "DashScopeExportCheckpointOperator": "airflow_dashscope.operators.checkpoints",
        "DashScopeFineTuneOperator": "airflow_dashscope.operators.fine_tune",
        "DashScopeInvokeModelOperator": "airflow_dashscope.operators.invoke",
        "DashScopePromoteModelOperator": "airflow_dashscope.operators.promotion",
        "DashScopeRetentionOperator": "airflow_dashscope.operators.retention",
        "DashScopeScaleDeploymentOperator": "airflow_dashscope.operators.cleanup",
        "DashScopeSelectBestFineTuneOperator": "airflow_dashscope.operators.sweep",
        "DashScopeSweepPreflightOperator": "airflow_dashscope.operators.sweep_preflight",
        "DashScopeUploadFileOperator": "airflow_dashscope.operators.files",
        "serving_in_slot": "airflow_dashscope.operators.promotion_slot",
    },
)

__all__ = [
    "DashScopeCancelFineTuneOperator",
    "DashScopeDeleteDeploymentOperator",
    "DashScopeDeleteFileOperator",
    "DashScopeDeleteFineTuneOperator",
    "DashScopeDeployModelOperator",
    "DashScopeEvaluateModelOperator",
    "DashScopeExportCheckpointOperator",
    "DashScopeFineTuneOperator",
    "DashScopeInvokeModelOperator",
    "DashScopePromoteModelOperator",
    "DashScopeRetentionOperator",
    "DashScopeScaleDeploymentOperator",
    "DashScopeSelectBestFineTuneOperator",
    "DashScopeSweepPreflightOperator",
    "DashScopeUploadFileOperator",
    "serving_in_slot",
]
