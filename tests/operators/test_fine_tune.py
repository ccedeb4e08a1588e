"""DashScopeFineTuneOperator against the emulator: both waiting modes, every ending."""

from __future__ import annotations

import re
import threading
from pathlib import Path
from typing import Any

import pytest
from airflow.sdk.exceptions import AirflowException

from airflow_dashscope.assets import MODELS_ALIAS
from airflow_dashscope.client import DashScopeClient
from airflow_dashscope.emulator.runner import RunningEmulator
from airflow_dashscope.operators import DashScopeFineTuneOperator
from airflow_dashscope.parameters import JobParameterError
from airflow_dashscope.triggers import DashScopeFineTuneJobTrigger
from tests.operators.conftest import HYPER, first_event
from tests.operators.helpers import defer, execute, run_deferred

MODES = pytest.mark.parametrize("deferrable", [True, False], ids=["deferred", "worker"])


@pytest.fixture
def file_id(client: DashScopeClient, training_path: Path) -> str:
    return client.upload_file(str(training_path))


def fine_tune(file_id: str, **options: Any) -> DashScopeFineTuneOperator:
    options.setdefault("deferrable", True)
    options.setdefault("poll_interval", 0.01)
    return DashScopeFineTuneOperator(
        task_id=options.pop("task_id", "finetune"),
        model=options.pop("model", "qwen3-8b"),
        training_file_ids=file_id,
        hyper_parameters=options.pop("hyper_parameters", HYPER),
        **options,
    )


def run(op: DashScopeFineTuneOperator, context: dict[str, Any]) -> Any:
    return run_deferred(op, context) if op.deferrable else execute(op, context)


@MODES
def test_success_returns_the_job_and_pushes_its_id(
    deferrable: bool, file_id: str, make_context: Any, emu: RunningEmulator, clock_running: None
) -> None:
    context = make_context()
    result = run(fine_tune(file_id, deferrable=deferrable), context)
    assert result["status"] == "SUCCEEDED"
    assert result["finetuned_output"] and result["usage"]
    assert context["ti"].xcom("job_id") == result["job_id"]
    assert emu.counters()["jobs_created"] == 1
    (event,) = context["outlet_events"][MODELS_ALIAS].asset_alias_events
    assert event.dest_asset_key.uri.endswith(f"/models/{result['finetuned_output']}")
    assert event.extra["job_id"] == result["job_id"]


def test_the_deferral_carries_an_absolute_deadline_and_no_secret(
    file_id: str, make_context: Any, emu: RunningEmulator
) -> None:
    import time

    context = make_context()
    trigger = defer(fine_tune(file_id, timeout=600), context)
    assert isinstance(trigger, DashScopeFineTuneJobTrigger)
    _, kwargs = trigger.serialize()
    assert kwargs["job_id"] == context["ti"].xcom("job_id")
    assert time.time() < kwargs["end_time"] <= time.time() + 600
    assert emu.api_key not in repr(kwargs)


def test_worker_wait_logs_status_changes_and_remote_log_lines(
    file_id: str, make_context: Any, clock_running: None, capsys: pytest.CaptureFixture[str]
) -> None:
    execute(fine_tune(file_id, deferrable=False), make_context())
    log = capsys.readouterr().out
    assert "is RUNNING" in log and "is SUCCEEDED" in log
    remote = re.findall(r"\[ft-\d{12}-[0-9a-f]{4}\] (.*)", log)
    assert any("step 1/" in line for line in remote)
    assert len(remote) == len(set(remote))  # each remote line once


@MODES
def test_failed_job_fails_the_task_with_code_message_and_logs(
    deferrable: bool,
    file_id: str,
    make_context: Any,
    emu: RunningEmulator,
    client: DashScopeClient,
) -> None:
    context = make_context()
    op = fine_tune(file_id, deferrable=deferrable)
    if deferrable:
        trigger = defer(op, context)
        emu.advance(2)  # running, with some log lines
        emu.fail_job(context["ti"].xcom("job_id"), "InvalidParameter", "bad data at line 3")
        with pytest.raises(AirflowException) as failed:
            op.execute_complete(context, first_event(trigger))
    else:
        # The job fails the moment it is created: the worker's first check sees FAILED.
        op.find_or_create_job = _failing(op.find_or_create_job, emu)  # type: ignore[method-assign]
        with pytest.raises(AirflowException) as failed:
            execute(op, context)
    text = str(failed.value)
    assert "FAILED" in text and "InvalidParameter" in text and "bad data at line 3" in text


def _failing(create: Any, emu: RunningEmulator) -> Any:
    def wrapped(name: str) -> Any:
        job = create(name)
        emu.fail_job(job.job_id, "InvalidParameter", "bad data at line 3")
        return job

    return wrapped


@MODES
@pytest.mark.parametrize("fail_on_cancel", [True, False])
def test_canceled_job(
    deferrable: bool,
    fail_on_cancel: bool,
    file_id: str,
    make_context: Any,
    client: DashScopeClient,
    clock_running: None,
) -> None:
    context = make_context()
    op = fine_tune(file_id, deferrable=deferrable, fail_on_cancel=fail_on_cancel)
    create = op.find_or_create_job

    def create_then_cancel(name: str) -> Any:
        job = create(name)
        client.cancel_fine_tune(job.job_id)
        return job

    op.find_or_create_job = create_then_cancel  # type: ignore[method-assign]
    if fail_on_cancel:
        with pytest.raises(AirflowException, match="CANCELED"):
            run(op, context)
    else:
        assert run(op, context)["status"] == "CANCELED"


@MODES
def test_timeout_cancels_the_remote_job(
    deferrable: bool, file_id: str, make_context: Any, client: DashScopeClient
) -> None:
    context = make_context()
    op = fine_tune(file_id, deferrable=deferrable, timeout=0.05)
    with pytest.raises(AirflowException, match="Timed out"):
        run(op, context)
    job = client.get_fine_tune(context["ti"].xcom("job_id"))
    assert job.status_name in ("CANCELING", "CANCELED")


def test_on_kill_cancels_the_job_a_worker_waits_on(
    file_id: str, make_context: Any, client: DashScopeClient, emu: RunningEmulator
) -> None:
    context = make_context()
    op = fine_tune(file_id, deferrable=False)
    outcome: list[BaseException] = []

    def task() -> None:
        try:
            execute(op, context)
        except BaseException as exc:
            outcome.append(exc)

    thread = threading.Thread(target=task)
    thread.start()
    pushed = threading.Event()
    for _ in range(1000):  # wait (bounded) for the job id: the task is then waiting
        if "job_id" in context["ti"].xcoms:
            pushed.set()
            break
        pushed.wait(0.005)
    assert pushed.is_set()
    op.on_kill()
    job_id = context["ti"].xcom("job_id")
    assert client.get_fine_tune(job_id).status_name in ("CANCELING", "CANCELED")
    emu.advance(60)
    thread.join(timeout=10)
    assert not thread.is_alive()
    assert outcome and "CANCELED" in str(outcome[0])


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
    # A third try after success reuses the job without waiting.
    third = make_context()
    assert execute(fine_tune(file_id), third)["status"] == "SUCCEEDED"
    assert emu.counters()["jobs_created"] == 1


def test_a_crash_between_create_and_defer_does_not_create_twice(
    file_id: str, make_context: Any, emu: RunningEmulator
) -> None:
    from airflow_dashscope.operators.fine_tune import run_scoped_job_name

    context = make_context()
    crashed = fine_tune(file_id)
    crashed.find_or_create_job(run_scoped_job_name(context, None))  # created, then the crash
    defer(fine_tune(file_id), make_context())
    assert emu.counters()["jobs_created"] == 1


def test_other_task_instances_get_their_own_jobs(
    file_id: str, make_context: Any, emu: RunningEmulator
) -> None:
    defer(fine_tune(file_id), make_context(run_id="run_a"))
    defer(fine_tune(file_id), make_context(run_id="run_b"))
    assert emu.counters()["jobs_created"] == 2


@pytest.mark.parametrize(
    ("options", "problem"),
    [
        ({"training_type": "rlhf"}, "training_type must be one of"),
        ({"model": "qwen3-8b", "training_type": "cpt"}, "not supported for model 'qwen3-8b'"),
        ({"hyper_parameters": {"n_epochs": 1}}, "batch_size is required"),
        ({"hyper_parameters": {**HYPER, "lora_rank": 8}}, "lora_rank only applies"),
    ],
)
def test_bad_arguments_fail_before_any_request(
    options: dict[str, Any], problem: str, make_context: Any, emu: RunningEmulator
) -> None:
    with pytest.raises(JobParameterError, match=problem):
        execute(fine_tune("file-1", **options), make_context())
    assert emu.counters()["requests_total"] == 0


def test_continuing_an_earlier_lora_job_checks_its_settings(
    file_id: str, client: DashScopeClient, emu: RunningEmulator, make_context: Any
) -> None:
    lora = {**HYPER, "lora_rank": 16, "lora_alpha": 32}
    earlier = client.create_fine_tune(
        "qwen3-8b", [file_id], training_type="efficient_sft", hyper_parameters=lora
    )
    emu.advance(3600)
    output = client.get_fine_tune(earlier.job_id).finetuned_output
    op = fine_tune(file_id, model=output, training_type="efficient_sft", hyper_parameters=HYPER)
    with pytest.raises(JobParameterError, match="lora_rank must equal the earlier job's value"):
        execute(op, make_context())
    assert emu.counters()["jobs_created"] == 1
    ok = fine_tune(file_id, model=output, training_type="efficient_sft", hyper_parameters=lora)
    defer(ok, make_context())
    assert emu.counters()["jobs_created"] == 2


def test_wait_for_completion_false_returns_the_new_job(file_id: str, make_context: Any) -> None:
    result = execute(fine_tune(file_id, wait_for_completion=False), make_context())
    assert result["status"] == "PENDING"


def test_template_fields_and_links() -> None:
    from airflow_dashscope.links import DashScopeFineTuneJobLink

    fields = set(DashScopeFineTuneOperator.template_fields)
    assert {"model", "training_file_ids", "hyper_parameters", "job_name"} <= fields
    assert any(
        isinstance(link, DashScopeFineTuneJobLink)
        for link in DashScopeFineTuneOperator.operator_extra_links
    )
