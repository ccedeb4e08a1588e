"""Checkpoint and deployment triggers, and the serialize round trip of every trigger."""

from __future__ import annotations

import asyncio
import importlib
import json
import time
from collections.abc import Callable
from typing import Any

import pytest
from airflow.triggers.base import BaseTrigger

from airflow_dashscope.client import DashScopeClient
from airflow_dashscope.client.models import FineTuneJob
from airflow_dashscope.emulator.runner import RunningEmulator
from airflow_dashscope.triggers import (
    DashScopeCheckpointTrigger,
    DashScopeDeploymentTrigger,
    DashScopeFineTuneJobTrigger,
)
from airflow_dashscope.waiting import WaitEvent

from .conftest import finish_job, polled, run_trigger

NewJob = Callable[..., FineTuneJob]
POLL = 0.01


async def event_of(trigger: BaseTrigger) -> WaitEvent:
    return WaitEvent.from_dict(await run_trigger(trigger))


async def event_after(
    emu: RunningEmulator, trigger: BaseTrigger, endpoint: str, act: Callable[[], Any]
) -> WaitEvent:
    task = asyncio.create_task(run_trigger(trigger))
    await polled(emu, endpoint, times=2)
    assert not task.done()
    act()
    return WaitEvent.from_dict(await asyncio.wait_for(task, timeout=30))


@pytest.fixture
def finished_job(emu: RunningEmulator, new_job: NewJob, client: DashScopeClient) -> FineTuneJob:
    job = new_job()
    finish_job(emu)
    return client.get_fine_tune(job.job_id)


async def test_checkpoint_export_succeeds(
    emu: RunningEmulator, finished_job: FineTuneJob, client: DashScopeClient
) -> None:
    oldest = client.list_checkpoints(finished_job.job_id)[-1]
    client.export_checkpoint(finished_job.job_id, oldest.checkpoint, "my-model-v1")
    trigger = DashScopeCheckpointTrigger(finished_job.job_id, oldest.checkpoint, poll_interval=POLL)
    event = await event_after(
        emu, trigger, "GET /api/v1/fine-tunes/{job_id}/checkpoints", lambda: emu.advance(30)
    )
    assert event.status == "success" and event.resource == "checkpoint"
    assert event.id == f"{finished_job.job_id}/{oldest.checkpoint}"
    assert event.result is not None and event.result["model_name"] == "my-model-v1"


async def test_checkpoint_by_id_and_timeout_while_unexported(
    emu: RunningEmulator, finished_job: FineTuneJob, client: DashScopeClient
) -> None:
    oldest = client.list_checkpoints(finished_job.job_id)[-1]
    assert oldest.checkpoint_id
    trigger = DashScopeCheckpointTrigger(
        finished_job.job_id, oldest.checkpoint_id, poll_interval=POLL, end_time=time.time()
    )
    event = await event_of(trigger)
    assert event.status == "timeout" and "PENDING" in event.message


async def test_absent_checkpoint_of_a_finished_job_fails(finished_job: FineTuneJob) -> None:
    trigger = DashScopeCheckpointTrigger(finished_job.job_id, "checkpoint-999", poll_interval=POLL)
    event = await event_of(trigger)
    assert event.status == "failed" and "no such checkpoint" in event.message


async def test_absent_checkpoint_of_a_running_job_is_awaited(
    emu: RunningEmulator, new_job: NewJob
) -> None:
    job = new_job()
    trigger = DashScopeCheckpointTrigger(job.job_id, "checkpoint-999", poll_interval=POLL)
    event = await event_after(
        emu, trigger, "GET /api/v1/fine-tunes/{job_id}/checkpoints", lambda: finish_job(emu)
    )
    assert event.status == "failed" and "SUCCEEDED" in event.message


async def test_deployment_becomes_running(
    emu: RunningEmulator, finished_job: FineTuneJob, client: DashScopeClient
) -> None:
    assert finished_job.finetuned_output
    deployment = client.create_deployment(finished_job.finetuned_output)
    trigger = DashScopeDeploymentTrigger(deployment.deployed_model, poll_interval=POLL)
    event = await event_after(
        emu, trigger, "GET /api/v1/deployments/{deployed_model}", lambda: emu.advance(30)
    )
    assert event.status == "success" and event.id == deployment.deployed_model
    assert event.result is not None and event.result["status"] == "RUNNING"


async def test_deployment_being_deleted_fails(
    emu: RunningEmulator, finished_job: FineTuneJob, client: DashScopeClient
) -> None:
    assert finished_job.finetuned_output
    deployment = client.create_deployment(finished_job.finetuned_output)
    trigger = DashScopeDeploymentTrigger(deployment.deployed_model, poll_interval=POLL)
    event = await event_after(
        emu,
        trigger,
        "GET /api/v1/deployments/{deployed_model}",
        lambda: client.delete_deployment(deployment.deployed_model),
    )
    assert event.status in ("failed", "error"), event


async def test_unknown_deployment_is_an_error(emu: RunningEmulator) -> None:
    event = await event_of(DashScopeDeploymentTrigger("nope-1234", poll_interval=POLL))
    assert event.status == "error" and "nope-1234" in event.message


def rebuild(trigger: BaseTrigger) -> BaseTrigger:
    classpath, kwargs = trigger.serialize()
    module, _, name = classpath.rpartition(".")
    cls = getattr(importlib.import_module(module), name)
    assert cls is type(trigger)
    return cls(**json.loads(json.dumps(kwargs)))


async def test_every_trigger_round_trips_and_runs(
    emu: RunningEmulator, finished_job: FineTuneJob, client: DashScopeClient
) -> None:
    assert finished_job.finetuned_output
    checkpoint = client.list_checkpoints(finished_job.job_id)[0]
    deployment = client.create_deployment(finished_job.finetuned_output)
    emu.advance(30)
    common: dict[str, Any] = {
        "dashscope_conn_id": "dashscope_default",
        "poll_interval": POLL,
        "end_time": time.time() + 60,
        "max_consecutive_errors": 2,
    }
    triggers: list[BaseTrigger] = [
        DashScopeFineTuneJobTrigger(
            finished_job.job_id, log_offset=3, cancel_on_kill=False, **common
        ),
        DashScopeCheckpointTrigger(finished_job.job_id, checkpoint.checkpoint, **common),
        DashScopeDeploymentTrigger(deployment.deployed_model, **common),
    ]
    for trigger in triggers:
        classpath, kwargs = trigger.serialize()
        assert classpath.startswith("airflow_dashscope.triggers.")
        assert emu.api_key not in json.dumps(kwargs)
        assert {k: v for k, v in kwargs.items() if k in common} == common
        again = rebuild(trigger)
        assert again.serialize() == (classpath, kwargs)
        event = await event_of(again)
        assert event.status == "success", event
    assert triggers[0].serialize()[1]["log_offset"] == 3
    assert triggers[0].serialize()[1]["cancel_on_kill"] is False
