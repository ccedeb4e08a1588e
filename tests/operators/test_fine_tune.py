"""DashScopeFineTuneOperator against the emulator: both waiting modes, every ending."""

from __future__ import annotations

import re
import threading
from typing import Any

import pytest
from airflow.sdk.exceptions import AirflowException

from airflow_dashscope.client import DashScopeClient
from airflow_dashscope.client.models import TrainingType
from airflow_dashscope.emulator.runner import RunningEmulator
from airflow_dashscope.exceptions import (
    AirflowFailException,
    DashScopeRequestRejectedError,
    InvalidRequestError,
    OverBudgetError,
    RemoteJobFailedError,
    UnknownModelError,
)
from airflow_dashscope.lineage.assets import TRAINED_ALIAS
from airflow_dashscope.operators import DashScopeFineTuneOperator
from airflow_dashscope.triggers import DashScopeFineTuneJobTrigger
from airflow_dashscope.waiting import user_action
from tests.operators.conftest import HYPER, first_event
from tests.operators.helpers import defer, execute, fine_tune, run

MODES = pytest.mark.parametrize("deferrable", [True, False], ids=["deferred", "worker"])


@MODES
def test_success_returns_the_job_and_pushes_its_id(
    deferrable: bool, file_id: str, make_context: Any, emu: RunningEmulator, clock_running: None
) -> None:
    context = make_context()
    result = run(fine_tune(file_id, deferrable=deferrable), context)
    assert result["status"] == "SUCCEEDED"
    assert result["finetuned_output"] and result["usage"]
    assert result["reused"] is False
    # A small documented dict, not the whole job object (creator, group, every field).
    assert set(result) <= {
        "job_id", "job_name", "status", "model", "base_model", "training_type",
        "finetuned_output", "usage", "estimated_tokens", "reused", "code", "message",
        "training", "billed_tokens", "billed_cost", "estimated_cost",
    }  # fmt: skip
    # The training figures read from the job's whole log (issue 9): every step trained.
    training = result["training"]
    assert training["steps"] == training["total_steps"] and training["steps"] > 0
    assert training["best_loss"] <= training["final_loss"]
    # Deferred, the trigger's log position is recorded from the start (none when waiting here).
    log_position = {"dashscope_log_offset"} if deferrable else set()
    assert set(context["ti"].xcoms) == {"job_id", "finetuned_output"} | log_position
    assert context["ti"].xcom("job_id") == result["job_id"]
    assert context["ti"].xcom("finetuned_output") == result["finetuned_output"]
    assert emu.counters()["jobs_created"] == 1
    (event,) = context["outlet_events"][TRAINED_ALIAS].asset_alias_events
    assert event.dest_asset_key.uri.endswith(f"/models/{result['finetuned_output']}")
    assert event.extra["job_id"] == result["job_id"]
    assert event.extra["kind"] == "trained"


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
        with pytest.raises(RemoteJobFailedError) as failed:
            op.execute_complete(context, first_event(trigger))
    else:
        # The job fails the moment it is created: the worker's first check sees FAILED.
        op.create = _failing(op.create, emu)  # type: ignore[method-assign]
        with pytest.raises(RemoteJobFailedError) as failed:
            execute(op, context)
    # No retry can fix a job that failed on its inputs: the task fails for good.
    assert isinstance(failed.value, AirflowFailException)
    text = str(failed.value)
    assert "FAILED" in text and "InvalidParameter" in text and "bad data at line 3" in text
    assert text.startswith("Fix the training data or the parameters")  # what to do, first


def _failing(create: Any, emu: RunningEmulator, code: str = "InvalidParameter") -> Any:
    def wrapped(*args: Any) -> Any:
        job = create(*args)
        emu.fail_job(job.job_id, code, "bad data at line 3")
        return job

    return wrapped


def test_a_job_failed_on_the_service_side_stays_retryable(
    file_id: str, make_context: Any, emu: RunningEmulator
) -> None:
    op = fine_tune(file_id, deferrable=False)
    op.create = _failing(op.create, emu, "InternalError")  # type: ignore[method-assign]
    with pytest.raises(AirflowException) as failed:
        execute(op, make_context())
    assert not isinstance(failed.value, AirflowFailException)
    assert "InternalError" in str(failed.value)


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
    create = op.create

    def create_then_cancel(*args: Any) -> Any:
        job = create(*args)
        client.cancel_fine_tune(job.job_id)
        return job

    op.create = create_then_cancel  # type: ignore[method-assign]
    if fail_on_cancel:
        with pytest.raises(AirflowException, match="CANCELED"):
            run(op, context)
    else:
        result = run(op, context)
        assert result["status"] == "CANCELED" and "creator" not in result  # the small dict


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


def _wait_on_worker_in_thread(op: Any, context: dict[str, Any]) -> tuple[Any, list[Any]]:
    """Start a worker-side wait in a thread; returns once the job id is pushed."""
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
    return thread, outcome


@pytest.mark.parametrize(
    ("state", "cancelled"),
    [("failed", True), ("success", False), ("restarting", False), (None, False)],
    ids=["mark-failed", "mark-success", "clear", "state-unknown"],
)
def test_on_kill_cancels_only_a_task_marked_failed(
    state: str | None,
    cancelled: bool,
    file_id: str,
    make_context: Any,
    client: DashScopeClient,
    emu: RunningEmulator,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The task instance's state (read from the API server in a real run) tells the user's
    actions apart; here it is given, the rest (wait, cancel) is real."""
    seen: list[Any] = []
    monkeypatch.setattr(user_action, "current_state", lambda key: seen.append(key) or state)
    context = make_context()
    op = fine_tune(file_id, deferrable=False)
    thread, outcome = _wait_on_worker_in_thread(op, context)
    op.on_kill()
    assert seen and seen[0].task_id == "task" and seen[0].run_id == "manual__1"
    job_id = context["ti"].xcom("job_id")
    status = client.get_fine_tune(job_id).status_name
    assert (status in ("CANCELING", "CANCELED")) is cancelled
    emu.advance(3600)
    thread.join(timeout=10)
    assert not thread.is_alive()
    if cancelled:
        assert outcome and "CANCELED" in str(outcome[0])
    else:
        assert not outcome and client.get_fine_tune(job_id).status_name == "SUCCEEDED"


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
    with pytest.raises(InvalidRequestError, match=problem) as failed:
        execute(fine_tune("file-1", **options), make_context())
    assert isinstance(failed.value, AirflowFailException)  # no retry
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
    with pytest.raises(InvalidRequestError, match="lora_rank must equal the earlier job's value"):
        execute(op, make_context())
    assert emu.counters()["jobs_created"] == 1
    # The same file again: reuse="never", or the model's lineage already holds this data.
    ok = fine_tune(
        file_id, model=output, training_type="efficient_sft", hyper_parameters=lora, reuse="never"
    )
    defer(ok, make_context())
    assert emu.counters()["jobs_created"] == 2


def test_wait_for_completion_false_returns_the_new_job(file_id: str, make_context: Any) -> None:
    result = execute(fine_tune(file_id, wait_for_completion=False), make_context())
    assert result["status"] == "PENDING"


def test_template_fields_and_links() -> None:
    from airflow_dashscope.links.console import DashScopeFineTuneJobLink

    fields = set(DashScopeFineTuneOperator.template_fields)
    assert {"model", "training_file_ids", "hyper_parameters", "job_name"} <= fields
    assert any(
        isinstance(link, DashScopeFineTuneJobLink)
        for link in DashScopeFineTuneOperator.operator_extra_links
    )


def test_one_listing_per_create(file_id: str, make_context: Any, emu: RunningEmulator) -> None:
    before = emu.counters()["requests"]
    defer(fine_tune(file_id), make_context())
    after = emu.counters()["requests"]
    sent = {route: after[route] - before.get(route, 0) for route in after}
    listings = {route: n for route, n in sent.items() if route.endswith("GET /api/v1/fine-tunes")}
    assert list(listings.values()) == [1], sent
    assert sum(sent.values()) == 2, sent  # the listing and the create: the trigger polls later


# --- templated numbers, enums, pre-flight checks, cost ------------------------------------------


def test_templated_numbers_and_public_enums_are_accepted(
    file_id: str, make_context: Any, client: DashScopeClient
) -> None:
    op = fine_tune(
        file_id,
        training_type=TrainingType.SFT,
        hyper_parameters={"n_epochs": "2", "batch_size": " 8", "max_length": "1024"},
        wait_for_completion=False,
    )
    result = execute(op, make_context())
    job = client.get_fine_tune(result["job_id"])
    assert job.hyper_parameters is not None and job.hyper_parameters.n_epochs == 2
    assert getattr(job.training_type, "value", job.training_type) == "sft"


def test_an_unknown_model_fails_after_only_the_lookups(
    make_context: Any, emu: RunningEmulator
) -> None:
    with pytest.raises(UnknownModelError, match="qwen-max") as failed:
        execute(fine_tune("file-1", model="qwen-max"), make_context())
    assert isinstance(failed.value, AirflowFailException)
    assert "qwen3-8b" in str(failed.value)  # the supported models are named
    # Is it an earlier job's output, or a model the service lists? Nothing else is sent.
    assert emu.counters()["requests"] == {
        "GET /api/v1/fine-tunes": 1,
        "GET /api/v1/deployments/models": 1,
    }


def test_a_rejected_key_fails_without_retry(
    file_id: str, make_context: Any, emu: RunningEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json
    import os

    conn = json.loads(os.environ["AIRFLOW_CONN_DASHSCOPE_DEFAULT"])
    monkeypatch.setenv(
        "AIRFLOW_CONN_DASHSCOPE_DEFAULT", json.dumps({**conn, "password": "sk-wrong"})
    )
    before = emu.counters()["requests_total"]
    with pytest.raises(DashScopeRequestRejectedError, match="401") as failed:
        execute(fine_tune(file_id), make_context())
    assert isinstance(failed.value, AirflowFailException)
    assert emu.counters()["requests_total"] == before + 1
    assert "sk-wrong" not in str(failed.value)


def test_budget_fails_before_any_request(make_context: Any, emu: RunningEmulator) -> None:
    op = fine_tune(
        "file-1",
        hyper_parameters={**HYPER, "n_epochs": "3"},
        training_tokens="1000",
        max_billed_tokens="2999",
    )
    with pytest.raises(OverBudgetError, match=r"3000 = 1000 tokens x 3 epochs"):
        execute(op, make_context())
    assert emu.counters()["requests_total"] == 0


def test_cost_estimate_and_billed_usage_are_logged_and_returned(
    file_id: str,
    make_context: Any,
    clock_running: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    op = fine_tune(file_id, deferrable=False, training_tokens=[100, 20], max_billed_tokens=120)
    result = execute(op, make_context())
    assert result["estimated_tokens"] == 120 and result["usage"]
    log = capsys.readouterr().out
    assert "Estimated billed tokens: 120" in log
    assert re.search(r"billed \d+ tokens \(estimated: 120\)", log)
