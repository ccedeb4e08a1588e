"""Export: resolve "latest", export once, wait until published, in both modes."""

from __future__ import annotations

from typing import Any

import pytest
from airflow.sdk.exceptions import AirflowException

from airflow_dashscope.client import DashScopeClient
from airflow_dashscope.client.models import FineTuneJob
from airflow_dashscope.emulator.runner import RunningEmulator
from airflow_dashscope.operators import DashScopeExportCheckpointOperator
from tests.operators.conftest import first_event
from tests.operators.helpers import defer, execute, run_deferred

MODES = pytest.mark.parametrize("deferrable", [True, False], ids=["deferred", "worker"])


def export(job_id: str, **options: Any) -> DashScopeExportCheckpointOperator:
    options.setdefault("deferrable", True)
    options.setdefault("poll_interval", 0.01)
    options.setdefault("model_name", "my-model-v1")
    return DashScopeExportCheckpointOperator(task_id="export", job_id=job_id, **options)


@MODES
def test_latest_checkpoint_is_exported_and_returned(
    deferrable: bool,
    succeeded_job: FineTuneJob,
    make_context: Any,
    client: DashScopeClient,
    clock_running: None,
) -> None:
    op = export(succeeded_job.job_id, deferrable=deferrable)
    context = make_context()
    result = run_deferred(op, context) if deferrable else execute(op, context)
    newest = client.list_checkpoints(succeeded_job.job_id)[0]
    assert result["checkpoint"] == newest.checkpoint
    assert result["model_name"] == "my-model-v1" and result["status"] == "SUCCEEDED"


def test_a_named_checkpoint_is_exported(
    succeeded_job: FineTuneJob, make_context: Any, client: DashScopeClient, clock_running: None
) -> None:
    name = client.list_checkpoints(succeeded_job.job_id)[-1].checkpoint
    result = execute(
        export(succeeded_job.job_id, checkpoint=name, deferrable=False), make_context()
    )
    assert result["checkpoint"] == name


def test_an_unknown_checkpoint_fails_naming_the_existing_ones(
    succeeded_job: FineTuneJob, make_context: Any
) -> None:
    with pytest.raises(ValueError, match="has no checkpoint 'checkpoint-999'; it has"):
        execute(export(succeeded_job.job_id, checkpoint="checkpoint-999"), make_context())


def test_a_new_try_waits_on_the_export_already_started(
    succeeded_job: FineTuneJob, make_context: Any, emu: RunningEmulator
) -> None:
    defer(export(succeeded_job.job_id), make_context())  # exported, then the worker died
    op, context = export(succeeded_job.job_id), make_context()
    trigger = defer(op, context)  # would be a 400 "already exported" if sent again
    emu.advance(60)
    assert op.execute_complete(context, first_event(trigger))["status"] == "SUCCEEDED"


def test_timeout(succeeded_job: FineTuneJob, make_context: Any) -> None:
    with pytest.raises(AirflowException, match="Timed out"):
        execute(export(succeeded_job.job_id, deferrable=False, timeout=0.05), make_context())
