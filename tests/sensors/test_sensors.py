"""The sensors in poke, reschedule and deferrable mode, against the emulator."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest
from airflow.sdk import PokeReturnValue

from airflow_dashscope.client import DashScopeClient
from airflow_dashscope.client.models import FineTuneJob
from airflow_dashscope.emulator.runner import RunningEmulator
from airflow_dashscope.sensors import (
    DashScopeCheckpointSensor,
    DashScopeDeploymentSensor,
    DashScopeFineTuneJobSensor,
    DashScopeWaitError,
)
from airflow_dashscope.triggers import (
    DashScopeDeploymentTrigger,
    DashScopeFineTuneJobTrigger,
)

try:
    from airflow.sdk.exceptions import AirflowRescheduleException, TaskDeferred
except ImportError:  # pragma: no cover - Airflow 3.1
    from airflow.exceptions import AirflowRescheduleException, TaskDeferred  # type: ignore

NewJob = Callable[..., FineTuneJob]


def context() -> dict[str, Any]:
    """What BaseSensorOperator.execute reads in reschedule mode: the first reschedule date."""
    return {"ti": SimpleNamespace(get_first_reschedule_date=lambda _context: None)}


def test_poke_mode_returns_the_job(emu: RunningEmulator, new_job: NewJob) -> None:
    job = new_job()
    sensor = DashScopeFineTuneJobSensor(task_id="s", job_id=job.job_id, poke_interval=0.01)
    assert sensor.poke(context()) is False
    emu.advance(60)
    done = sensor.poke(context())
    assert isinstance(done, PokeReturnValue) and done.is_done
    assert done.xcom_value["job_id"] == job.job_id and done.xcom_value["status"] == "SUCCEEDED"
    assert sensor.execute(context())["status"] == "SUCCEEDED"


def test_failed_job_raises_with_code_message_and_logs(
    emu: RunningEmulator, new_job: NewJob
) -> None:
    job = new_job()
    emu.fail_job(job.job_id, "DataError", "Bad line 7")
    sensor = DashScopeFineTuneJobSensor(task_id="s", job_id=job.job_id, poke_interval=0.01)
    with pytest.raises(DashScopeWaitError, match="DataError: Bad line 7") as raised:
        sensor.execute(context())
    assert "Last remote log lines" in str(raised.value)


def test_canceled_job_raises(
    emu: RunningEmulator, new_job: NewJob, client: DashScopeClient
) -> None:
    job = new_job()
    client.cancel_fine_tune(job.job_id)
    emu.advance(5)
    sensor = DashScopeFineTuneJobSensor(task_id="s", job_id=job.job_id)
    with pytest.raises(DashScopeWaitError, match="CANCELED"):
        sensor.poke(context())


def test_transient_errors_are_not_yet_and_permanent_ones_fail(
    emu: RunningEmulator, new_job: NewJob
) -> None:
    job = new_job()
    emu.advance(60)
    emu.inject_fault(kind="error", status=503, count=1, path="/fine-tunes/")
    sensor = DashScopeFineTuneJobSensor(task_id="s", job_id=job.job_id)
    assert sensor.poke(context()) is False
    assert isinstance(sensor.poke(context()), PokeReturnValue)
    with pytest.raises(DashScopeWaitError, match=r"(?s)ft-0000.*NotFound"):
        DashScopeFineTuneJobSensor(task_id="x", job_id="ft-0000").poke(context())


def test_reschedule_mode_gives_the_slot_back(emu: RunningEmulator, new_job: NewJob) -> None:
    job = new_job()
    sensor = DashScopeFineTuneJobSensor(
        task_id="s", job_id=job.job_id, mode="reschedule", poke_interval=5
    )
    with pytest.raises(AirflowRescheduleException):
        sensor.execute(context())
    emu.advance(60)
    assert sensor.execute(context())["status"] == "SUCCEEDED"


def test_deferrable_defers_to_the_trigger_then_completes(
    emu: RunningEmulator, new_job: NewJob
) -> None:
    job = new_job()
    sensor = DashScopeFineTuneJobSensor(
        task_id="s", job_id=job.job_id, deferrable=True, timeout=600, poke_interval=0.01
    )
    with pytest.raises(TaskDeferred) as deferred:
        sensor.execute(context())
    trigger = deferred.value.trigger
    assert isinstance(trigger, DashScopeFineTuneJobTrigger)
    assert deferred.value.method_name == "execute_complete"
    _, kwargs = trigger.serialize()
    assert kwargs["job_id"] == job.job_id and kwargs["cancel_on_kill"] is False
    assert kwargs["end_time"] == pytest.approx(time.time() + 600, abs=30)
    emu.advance(60)
    events = asyncio.run(collect(trigger))
    assert sensor.execute_complete(context(), events[0])["status"] == "SUCCEEDED"
    with pytest.raises(DashScopeWaitError, match="boom"):
        sensor.execute_complete(
            context(), {**events[0], "status": "failed", "message": "boom", "result": None}
        )
    with pytest.raises(ValueError, match="Malformed"):
        sensor.execute_complete(context(), {"status": "weird"})


def test_deferrable_finishes_at_once_when_already_done(
    emu: RunningEmulator, new_job: NewJob
) -> None:
    job = new_job()
    emu.advance(60)
    sensor = DashScopeFineTuneJobSensor(task_id="s", job_id=job.job_id, deferrable=True)
    assert sensor.execute(context())["status"] == "SUCCEEDED"


def test_checkpoint_and_deployment_sensors(
    emu: RunningEmulator, new_job: NewJob, client: DashScopeClient
) -> None:
    job = new_job()
    emu.advance(60)
    done = client.get_fine_tune(job.job_id)
    oldest = client.list_checkpoints(job.job_id)[-1]
    client.export_checkpoint(job.job_id, oldest.checkpoint, "exported-v1")
    checkpoint_sensor = DashScopeCheckpointSensor(
        task_id="c", job_id=job.job_id, checkpoint=oldest.checkpoint
    )
    assert checkpoint_sensor.poke(context()) is False
    assert done.finetuned_output
    deployment = client.create_deployment(done.finetuned_output)
    deployment_sensor = DashScopeDeploymentSensor(
        task_id="d", deployed_model=deployment.deployed_model, deferrable=True
    )
    with pytest.raises(TaskDeferred) as deferred:
        deployment_sensor.execute(context())
    assert isinstance(deferred.value.trigger, DashScopeDeploymentTrigger)
    emu.advance(60)
    assert checkpoint_sensor.execute(context())["model_name"] == "exported-v1"
    assert deployment_sensor.execute(context())["status"] == "RUNNING"


def test_template_fields() -> None:
    assert set(DashScopeCheckpointSensor.template_fields) == {
        "job_id",
        "checkpoint",
        "dashscope_conn_id",
    }
    assert "deployed_model" in DashScopeDeploymentSensor.template_fields
    assert "job_id" in DashScopeFineTuneJobSensor.template_fields


async def collect(trigger: Any) -> list[dict[str, Any]]:
    return [event.payload async for event in trigger.run()]
