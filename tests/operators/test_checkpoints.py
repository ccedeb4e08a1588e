"""Export: resolve "latest", export once, wait until published, in both modes."""

from __future__ import annotations

from typing import Any

import pytest
from airflow.sdk.exceptions import AirflowException

from airflow_dashscope.client import DashScopeClient
from airflow_dashscope.client.models import FineTuneJob
from airflow_dashscope.emulator.runner import RunningEmulator
from airflow_dashscope.exceptions import AirflowFailException, InvalidRequestError
from airflow_dashscope.lineage.assets import EXPORTED_ALIAS
from airflow_dashscope.operators import DashScopeExportCheckpointOperator
from tests.operators.conftest import HYPER, first_event
from tests.operators.helpers import defer, execute, run_deferred

MODES = pytest.mark.parametrize("deferrable", [True, False], ids=["deferred", "worker"])


def export(job_id: str, **options: Any) -> DashScopeExportCheckpointOperator:
    options.setdefault("deferrable", True)
    options.setdefault("poll_interval", 0.01)
    options.setdefault("model_name", "my-model-v1")
    return DashScopeExportCheckpointOperator(task_id="export", job_id=job_id, **options)


@pytest.fixture
def two_epoch_job(client: DashScopeClient, emu: RunningEmulator, training_path: Any) -> FineTuneJob:
    """A SUCCEEDED job with two checkpoints: the final one published, the first PENDING."""
    file_id = client.upload_file(str(training_path))
    hyper = {**HYPER, "n_epochs": 2, "save_strategy": "epoch"}
    job = client.create_fine_tune("qwen3-8b", [file_id], hyper_parameters=hyper)
    emu.advance(3600)
    done = client.get_fine_tune(job.job_id)
    assert done.status_name == "SUCCEEDED"
    assert [c.status_name for c in client.list_checkpoints(job.job_id)] == [
        "SUCCEEDED",
        "PENDING",
    ]
    return done


def exports_sent(emu: RunningEmulator) -> int:
    requests = emu.counters()["requests"]
    return sum(n for route, n in requests.items() if "/export/" in route)


@MODES
def test_a_pending_checkpoint_is_exported_and_its_id_read_back(
    deferrable: bool,
    two_epoch_job: FineTuneJob,
    make_context: Any,
    client: DashScopeClient,
    emu: RunningEmulator,
    clock_running: None,
) -> None:
    earlier = client.list_checkpoints(two_epoch_job.job_id)[-1]
    op = export(two_epoch_job.job_id, checkpoint=earlier.checkpoint, deferrable=deferrable)
    context = make_context()
    result = run_deferred(op, context) if deferrable else execute(op, context)
    published = client.list_checkpoints(two_epoch_job.job_id)[-1]
    assert published.status_name == "SUCCEEDED"
    assert result["model_name"] == published.model_name  # what the service lists
    assert result["requested_model_name"] == "my-model-v1"
    assert result["checkpoint"] == earlier.checkpoint and result["reused"] is False
    assert context["ti"].xcom("model_name") == published.model_name
    (event,) = context["outlet_events"][EXPORTED_ALIAS].asset_alias_events
    assert event.extra["kind"] == "exported"
    assert exports_sent(emu) == 1


def test_the_published_final_checkpoint_is_returned_without_an_export(
    succeeded_job: FineTuneJob, make_context: Any, emu: RunningEmulator
) -> None:
    """The final checkpoint is published when the job succeeds (finetuned_output is its
    model_name): nothing to export, no deferral, no new model event."""
    context = make_context()
    result = execute(export(succeeded_job.job_id), context)
    assert result["model_name"] == succeeded_job.finetuned_output
    assert result["status"] == "SUCCEEDED" and result["reused"] is True
    assert exports_sent(emu) == 0
    assert context["outlet_events"][EXPORTED_ALIAS].asset_alias_events == []


def test_a_named_checkpoint_is_exported(
    two_epoch_job: FineTuneJob, make_context: Any, client: DashScopeClient, clock_running: None
) -> None:
    name = client.list_checkpoints(two_epoch_job.job_id)[-1].checkpoint
    result = execute(
        export(two_epoch_job.job_id, checkpoint=name, deferrable=False), make_context()
    )
    assert result["checkpoint"] == name


def test_an_unknown_checkpoint_fails_naming_the_existing_ones(
    succeeded_job: FineTuneJob, make_context: Any
) -> None:
    with pytest.raises(
        InvalidRequestError, match="has no checkpoint 'checkpoint-999'; it has"
    ) as e:
        execute(export(succeeded_job.job_id, checkpoint="checkpoint-999"), make_context())
    assert isinstance(e.value, AirflowFailException)
    assert str(e.value).startswith("Set checkpoint to 'latest' or to one of the job's")


def test_a_job_still_training_is_a_retryable_error_an_ended_one_a_fatal_one(
    client: DashScopeClient, emu: RunningEmulator, training_path: Any, make_context: Any
) -> None:
    """A fine-tune task marked success while its job still trains leaves the export nothing
    to export yet: a retry (after the job ends) fixes that, so the task is not failed."""
    file_id = client.upload_file(str(training_path))
    job = client.create_fine_tune(
        "qwen3-8b", [file_id], training_type="sft", hyper_parameters=HYPER
    )
    with pytest.raises(
        AirflowException, match=f"{job.job_id} is still (PENDING|QUEUING|RUNNING)"
    ) as e:
        execute(export(job.job_id), make_context())
    assert not isinstance(e.value, AirflowFailException)
    assert str(e.value).startswith(f"Let fine-tune job {job.job_id} finish first")
    client.cancel_fine_tune(job.job_id)
    emu.advance(3600)
    with pytest.raises(InvalidRequestError, match="is CANCELED and has no checkpoints") as e:
        execute(export(job.job_id), make_context())
    assert str(e.value).startswith("Export from a SUCCEEDED sft or efficient_sft job")
    assert exports_sent(emu) == 0


def test_a_new_try_waits_on_the_export_already_started(
    two_epoch_job: FineTuneJob, make_context: Any, emu: RunningEmulator
) -> None:
    job_id, first = two_epoch_job.job_id, "checkpoint-2"
    defer(export(job_id, checkpoint=first), make_context())  # exported, then the worker died
    op, context = export(job_id, checkpoint=first), make_context()
    trigger = defer(op, context)  # would be a 400 "already exported" if sent again
    emu.advance(60)
    assert op.execute_complete(context, first_event(trigger))["status"] == "SUCCEEDED"
    assert exports_sent(emu) == 1


def test_timeout(two_epoch_job: FineTuneJob, make_context: Any) -> None:
    op = export(two_epoch_job.job_id, checkpoint="checkpoint-2", deferrable=False, timeout=0.05)
    with pytest.raises(AirflowException, match="Timed out"):
        execute(op, make_context())


def test_the_id_read_back_is_returned_when_the_service_publishes_under_another(
    make_context: Any, training_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Some pages say the export is published under the asked name, others show a derived
    id: an emulator that derives the id fails a client that assumes the asked name."""
    import json

    from airflow_dashscope.emulator.runner import run_emulator

    with run_emulator(manual_clock=True, export_model_id="derived") as derived:
        monkeypatch.setenv(
            "AIRFLOW_CONN_DASHSCOPE_DEFAULT",
            json.dumps(
                {"conn_type": "dashscope", "host": derived.base_url, "password": derived.api_key}
            ),
        )
        with DashScopeClient(api_key=derived.api_key, base_url=derived.base_url) as client:
            file_id = client.upload_file(str(training_path))
            hyper = {**HYPER, "n_epochs": 2, "save_strategy": "epoch"}
            job = client.create_fine_tune("qwen3-8b", [file_id], hyper_parameters=hyper)
            derived.advance(3600)
            op = export(job.job_id, checkpoint="checkpoint-2", deferrable=False, timeout=30)
            context = make_context()
            thread_result: list[Any] = []
            import threading

            worker = threading.Thread(target=lambda: thread_result.append(execute(op, context)))
            worker.start()
            while worker.is_alive():  # turn the clock until the export is published
                derived.advance(5)
                worker.join(timeout=0.05)
            (result,) = thread_result
            published = next(
                c for c in client.list_checkpoints(job.job_id) if c.checkpoint == "checkpoint-2"
            )
    assert published.model_name and published.model_name != "my-model-v1"
    assert result["model_name"] == published.model_name
    assert result["requested_model_name"] == "my-model-v1"
    assert context["ti"].xcom("model_name") == published.model_name


def test_a_failed_export_fails_the_task(
    two_epoch_job: FineTuneJob, make_context: Any, emu: RunningEmulator
) -> None:
    context = make_context()
    op = export(two_epoch_job.job_id, checkpoint="checkpoint-2")
    trigger = defer(op, context)
    emu.fail_export(two_epoch_job.job_id, "checkpoint-2", "InternalError", "export broke")
    with pytest.raises(AirflowException, match="FAILED"):
        op.execute_complete(context, first_event(trigger))


# --- which export belongs to the task: retry, clear, changed inputs, and the log ------------


def test_a_first_run_on_the_published_final_checkpoint_says_what_really_happened(
    succeeded_job: FineTuneJob, make_context: Any, task_log: pytest.LogCaptureFixture
) -> None:
    """Nothing was reused on a first run: the service published the final checkpoint
    itself when the job succeeded, and the log says so (and the rename, once)."""
    result = execute(export(succeeded_job.job_id), make_context())
    output = succeeded_job.finetuned_output
    assert result["model_name"] == output
    lines = [record.getMessage() for record in task_log.records]
    assert any(
        f"which the service published itself as {output}" in line and "nothing to export" in line
        for line in lines
    ), lines
    assert not any("reusing it" in line or "exported earlier" in line for line in lines)
    renamed = [line for line in lines if "asked for" in line]
    assert renamed == [
        f"{result['checkpoint']} of job {succeeded_job.job_id}: asked for my-model-v1, the "
        f"service named it {output} (the id to use from here)."
    ]


def test_a_cleared_run_returns_its_export_quietly(
    two_epoch_job: FineTuneJob,
    make_context: Any,
    emu: RunningEmulator,
    clock_running: None,
    task_log: pytest.LogCaptureFixture,
) -> None:
    first = run_deferred(export(two_epoch_job.job_id, checkpoint="checkpoint-2"), make_context())
    cleared = make_context(clears=1)
    again = execute(export(two_epoch_job.job_id, checkpoint="checkpoint-2"), cleared)
    assert again["model_name"] == first["model_name"] and again["reused"] is True
    assert cleared["outlet_events"][EXPORTED_ALIAS].asset_alias_events == []
    assert exports_sent(emu) == 1
    assert f"was exported earlier as {first['model_name']}" in task_log.text
    assert "published itself" not in task_log.text


def test_another_checkpoint_gets_its_own_export(
    client: DashScopeClient,
    emu: RunningEmulator,
    training_path: Any,
    make_context: Any,
    clock_running: None,
) -> None:
    """Changed inputs: a cleared run asking another checkpoint exports that one, and does
    not take the export of the first."""
    file_id = client.upload_file(str(training_path))
    hyper = {**HYPER, "n_epochs": 3, "save_strategy": "epoch"}
    job_id = client.create_fine_tune("qwen3-8b", [file_id], hyper_parameters=hyper).job_id
    emu.advance(3600)
    oldest, middle = [c.checkpoint for c in client.list_checkpoints(job_id)][:0:-1]
    first = run_deferred(export(job_id, checkpoint=oldest), make_context())
    cleared = make_context(clears=1)
    again = run_deferred(export(job_id, checkpoint=middle, model_name="my-model-v2"), cleared)
    assert (first["checkpoint"], again["checkpoint"]) == (oldest, middle)
    assert again["model_name"] != first["model_name"] and again["reused"] is False
    assert len(cleared["outlet_events"][EXPORTED_ALIAS].asset_alias_events) == 1
    assert exports_sent(emu) == 2


def test_a_new_model_name_for_a_published_checkpoint_returns_the_published_id(
    two_epoch_job: FineTuneJob, make_context: Any, emu: RunningEmulator, clock_running: None
) -> None:
    """A checkpoint is exported once: asking another name later gets the id it has."""
    first = run_deferred(export(two_epoch_job.job_id, checkpoint="checkpoint-2"), make_context())
    cleared = make_context(clears=1)
    renamed = export(two_epoch_job.job_id, checkpoint="checkpoint-2", model_name="my-model-v2")
    again = execute(renamed, cleared)
    assert again["model_name"] == first["model_name"] == "my-model-v1"
    assert again["requested_model_name"] == "my-model-v2" and again["reused"] is True
    assert cleared["ti"].xcom("model_name") == "my-model-v1"
    assert exports_sent(emu) == 1


@pytest.mark.parametrize("published_as", ["asked", "derived"])
def test_a_retry_after_a_failed_export_exports_again(
    published_as: str,
    two_epoch_job: FineTuneJob,
    make_context: Any,
    client: DashScopeClient,
    emu: RunningEmulator,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Whatever name the service lists for the failed export (the pages disagree), a retry
    exports again instead of waiting on the failure."""
    monkeypatch.setattr(emu.emulator.settings, "export_model_id", published_as)
    job_id = two_epoch_job.job_id
    op, context = export(job_id, checkpoint="checkpoint-2"), make_context()
    trigger = defer(op, context)
    emu.fail_export(job_id, "checkpoint-2", "InternalError", "export broke")
    with pytest.raises(AirflowException, match="FAILED"):
        op.execute_complete(context, first_event(trigger))
    retry, again = export(job_id, checkpoint="checkpoint-2"), make_context()
    trigger = defer(retry, again)
    emu.advance(60)
    result = retry.execute_complete(again, first_event(trigger))
    published = next(c for c in client.list_checkpoints(job_id) if c.checkpoint == "checkpoint-2")
    assert result["status"] == "SUCCEEDED" and result["model_name"] == published.model_name
    assert exports_sent(emu) == 2
