"""Invoke a deployed model; the clean-up operators, idempotent where it makes sense."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from airflow_dashscope.client import DashScopeClient
from airflow_dashscope.client.models import FineTuneJob
from airflow_dashscope.emulator.runner import RunningEmulator
from airflow_dashscope.exceptions import InvalidRequestError
from airflow_dashscope.operators import (
    DashScopeCancelFineTuneOperator,
    DashScopeDeleteDeploymentOperator,
    DashScopeDeleteFineTuneOperator,
    DashScopeInvokeModelOperator,
    DashScopeScaleDeploymentOperator,
)
from tests.operators.conftest import HYPER
from tests.operators.helpers import execute

MESSAGES = [{"role": "user", "content": "Hello?"}]


@pytest.fixture
def deployed(succeeded_job: FineTuneJob, client: DashScopeClient, emu: RunningEmulator) -> str:
    deployment = client.create_deployment(str(succeeded_job.finetuned_output))
    emu.advance(60)
    assert client.get_deployment(deployment.deployed_model).status_name == "RUNNING"
    return deployment.deployed_model


def test_invoke_returns_text_usage_model_and_request_id(deployed: str, make_context: Any) -> None:
    op = DashScopeInvokeModelOperator(
        task_id="invoke", model=deployed, messages=MESSAGES, parameters={"max_tokens": 20}
    )
    context = make_context()
    result = execute(op, context)
    assert result["text"] and result["model"] == deployed and result["request_id"]
    assert result["usage"]["total_tokens"] > 0
    assert context["ti"].xcom("text") == result["text"]


def test_invoke_reads_the_text_answer_form_too(deployed: str, make_context: Any) -> None:
    """Some deployed models answer ``{"text": ...}``: the same result comes back."""
    op = DashScopeInvokeModelOperator(
        task_id="invoke", model=deployed, messages=MESSAGES, parameters={"result_format": "text"}
    )
    assert execute(op, make_context())["text"]


def test_cancel_a_running_job_and_then_again(
    client: DashScopeClient, training_path: Path, make_context: Any, emu: RunningEmulator
) -> None:
    job = client.create_fine_tune(
        "qwen3-8b", [client.upload_file(str(training_path))], hyper_parameters=HYPER
    )
    op = DashScopeCancelFineTuneOperator(task_id="cancel", job_id=job.job_id)
    execute(op, make_context())
    assert client.get_fine_tune(job.job_id).status_name in ("CANCELING", "CANCELED")
    emu.advance(60)
    execute(op, make_context())  # already ended: a log line, no failure


def test_delete_job_is_idempotent(
    succeeded_job: FineTuneJob, client: DashScopeClient, make_context: Any
) -> None:
    op = DashScopeDeleteFineTuneOperator(task_id="delete", job_id=succeeded_job.job_id)
    execute(op, make_context())
    assert all(j.job_id != succeeded_job.job_id for j in client.list_fine_tunes())
    execute(op, make_context())


def test_scale_waits_until_running_again(
    deployed: str, client: DashScopeClient, make_context: Any, clock_running: None
) -> None:
    op = DashScopeScaleDeploymentOperator(
        task_id="scale", deployed_model=deployed, capacity="2", deferrable=False, poll_interval=0.01
    )
    result = execute(op, make_context())
    assert result["status"] == "RUNNING" and result["capacity"] == 2


def test_scale_rejects_a_bad_capacity_before_any_request(
    make_context: Any, emu: RunningEmulator
) -> None:
    op = DashScopeScaleDeploymentOperator(task_id="scale", deployed_model="x", capacity="0")
    with pytest.raises(InvalidRequestError, match="capacity"):
        execute(op, make_context())
    assert emu.counters()["requests_total"] == 0


def test_delete_deployment_is_idempotent(
    deployed: str, client: DashScopeClient, make_context: Any, emu: RunningEmulator, capsys: Any
) -> None:
    op = DashScopeDeleteDeploymentOperator(task_id="undeploy", deployed_model=deployed)
    execute(op, make_context())
    emu.advance(60)
    execute(op, make_context())
    assert "already deleted" in capsys.readouterr().out
