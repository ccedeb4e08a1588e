"""Which fine-tune job belongs to a task, over the wire: a retry reattaches, a clear reuses
what succeeded, changed inputs train again (the rules: ``operators/identity.py``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from airflow_dashscope.client import DashScopeClient
from airflow_dashscope.emulator.runner import RunningEmulator
from airflow_dashscope.lineage.assets import TRAINED_ALIAS
from tests.operators.conftest import HYPER, first_event
from tests.operators.helpers import defer, execute, fine_tune


def test_a_new_try_reattaches_to_the_running_job(
    file_id: str, make_context: Any, emu: RunningEmulator, clock_running: None
) -> None:
    first = make_context()
    trigger = defer(fine_tune(file_id), first)  # the worker "crashes" after deferring
    job_id = first["ti"].xcom("job_id")
    second = make_context()  # a new try: XComs cleared
    assert "job_id" not in second["ti"].xcoms
    op = fine_tune(file_id)
    again = defer(op, second)
    assert second["ti"].xcom("job_id") == job_id
    assert again.serialize()[1]["job_id"] == trigger.serialize()[1]["job_id"]
    assert op.execute_complete(second, first_event(again))["job_id"] == job_id
    # A third try after success (same run, not cleared) finishes without waiting, and
    # announces the model: the try that saw it succeed never recorded its event.
    third = make_context()
    result = execute(fine_tune(file_id), third)
    assert result["status"] == "SUCCEEDED" and result["reused"] is False
    assert len(third["outlet_events"][TRAINED_ALIAS].asset_alias_events) == 1
    assert emu.counters()["jobs_created"] == 1


def test_a_crash_between_create_and_defer_does_not_create_twice(
    file_id: str, make_context: Any, emu: RunningEmulator
) -> None:
    from airflow_dashscope.operators.identity import JobIdentity

    context = make_context()
    crashed = fine_tune(file_id)
    crashed.check_request()
    crashed.create(JobIdentity.of(context, None, crashed.inputs()).name, [])  # then the crash
    defer(fine_tune(file_id), make_context())
    assert emu.counters()["jobs_created"] == 1


def test_other_task_instances_get_their_own_jobs(
    file_id: str, make_context: Any, emu: RunningEmulator
) -> None:
    defer(fine_tune(file_id), make_context(run_id="run_a"))
    defer(fine_tune(file_id), make_context(run_id="run_b"))
    assert emu.counters()["jobs_created"] == 2


def test_clear_with_new_data_retrains_on_the_new_file(
    client: DashScopeClient,
    training_path: Path,
    make_context: Any,
    emu: RunningEmulator,
    clock_running: None,
) -> None:
    old_file = client.upload_file(str(training_path))
    first = execute(fine_tune(old_file, deferrable=False), make_context())
    new_file = client.upload_file(str(training_path))  # the cleared run's upload: a new id
    cleared = make_context(clears=1)
    second = execute(fine_tune(new_file, deferrable=False), cleared)
    assert second["job_id"] != first["job_id"] and second["reused"] is False
    assert client.get_fine_tune(second["job_id"]).training_file_ids == [new_file]
    assert emu.counters()["jobs_created"] == 2
    assert len(cleared["outlet_events"][TRAINED_ALIAS].asset_alias_events) == 1


def test_clear_with_the_same_inputs_reuses_quietly(
    file_id: str, make_context: Any, emu: RunningEmulator, clock_running: None
) -> None:
    first = execute(fine_tune(file_id, deferrable=False), make_context())
    cleared = make_context(clears=1)
    again = execute(fine_tune(file_id), cleared)  # deferrable, but nothing to wait for
    assert again["job_id"] == first["job_id"] and again["reused"] is True
    assert cleared["outlet_events"][TRAINED_ALIAS].asset_alias_events == []
    assert emu.counters()["jobs_created"] == 1


@pytest.mark.parametrize(
    "change",
    [
        {"hyper_parameters": {**HYPER, "n_epochs": 2}},
        {"model_name": "renamed"},
        {"reuse": "never"},
    ],
    ids=["hyperparameters", "model-name", "reuse-never"],
)
def test_changed_inputs_or_reuse_never_retrain(
    change: dict[str, Any],
    file_id: str,
    make_context: Any,
    emu: RunningEmulator,
    clock_running: None,
) -> None:
    first = execute(fine_tune(file_id, deferrable=False), make_context())
    again = execute(fine_tune(file_id, deferrable=False, **change), make_context(clears=1))
    assert again["job_id"] != first["job_id"] and again["reused"] is False
    assert emu.counters()["jobs_created"] == 2


def test_clear_of_a_running_job_reattaches(
    file_id: str, make_context: Any, emu: RunningEmulator
) -> None:
    defer(fine_tune(file_id), make_context())
    trigger = defer(fine_tune(file_id), make_context(clears=1))
    assert emu.counters()["jobs_created"] == 1
    assert trigger.serialize()[1]["job_id"]


def test_a_retry_after_a_failed_job_trains_again(
    file_id: str, make_context: Any, emu: RunningEmulator
) -> None:
    """A FAILED job of this task is never picked up again: a retry exists to try once more."""
    first = make_context()
    defer(fine_tune(file_id), first)
    emu.fail_job(first["ti"].xcom("job_id"), "InternalError", "node lost")
    retry = make_context()
    defer(fine_tune(file_id), retry)
    assert retry["ti"].xcom("job_id") != first["ti"].xcom("job_id")
    assert emu.counters()["jobs_created"] == 2


def test_a_model_name_the_service_replaced_is_explained_once(
    file_id: str,
    make_context: Any,
    client: DashScopeClient,
    clock_running: None,
    task_log: pytest.LogCaptureFixture,
) -> None:
    result = execute(fine_tune(file_id, deferrable=False, model_name="my-model"), make_context())
    output = result["finetuned_output"]
    assert output and output != "my-model"
    assert client.get_fine_tune(result["job_id"]).finetuned_output == output  # read back
    said = [r.getMessage() for r in task_log.records if "asked for" in r.getMessage()]
    assert said == [
        f"Fine-tune job {result['job_id']}: asked for my-model, the service named it {output} "
        "(the id to use from here)."
    ]


def test_no_rename_is_reported_when_no_model_name_was_asked(
    file_id: str, make_context: Any, clock_running: None, task_log: pytest.LogCaptureFixture
) -> None:
    execute(fine_tune(file_id, deferrable=False), make_context())
    assert "asked for" not in task_log.text
    assert "billed" in task_log.text  # the task log is captured: the absence means something
