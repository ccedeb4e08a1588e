"""Retention over the wire: what a policy deletes, and what it never deletes (the deployed
model's job, a lineage's base, a job in progress), against the emulator."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from airflow_dashscope.client import DashScopeClient
from airflow_dashscope.client.models import FineTuneJob
from airflow_dashscope.emulator.runner import RunningEmulator
from airflow_dashscope.exceptions import InvalidRequestError
from airflow_dashscope.operators import DashScopeRetentionOperator, retention
from tests.operators.helpers import execute, fine_tune


@pytest.fixture(autouse=True)
def emulator_time(emu: RunningEmulator, monkeypatch: pytest.MonkeyPatch) -> None:
    """Ages are measured on the emulator's clock (it stands still unless a test turns it)."""
    monkeypatch.setattr(
        retention, "utc_now", lambda: datetime.fromtimestamp(emu.clock.now(), timezone.utc)
    )


def trained(
    emu: RunningEmulator, make_context: Any, file_id: str, runs: int, **options: Any
) -> list[FineTuneJob]:
    """``runs`` SUCCEEDED jobs of DAG ``dag``, one per run, oldest first."""
    jobs = []
    for run in range(runs):
        op = fine_tune(file_id, wait_for_completion=False, **options)
        execute(op, make_context(run_id=f"week_{len(jobs)}_{run}_{options.get('model', '')}"))
        emu.advance(3600)
        jobs.append(op.client.get_fine_tune(op._job_id))
    assert all(job.status_name == "SUCCEEDED" for job in jobs)
    return jobs


def retain(make_context: Any, **policy: Any) -> dict[str, Any]:
    op = DashScopeRetentionOperator(task_id="retention", **policy)
    return execute(op, make_context())


def job_ids(client: DashScopeClient) -> set[str]:
    return {job.job_id for job in client.list_fine_tunes()}


def ids(result: dict[str, Any], bucket: str, resource: str) -> set[str]:
    return {entry["id"] for entry in result[bucket] if entry["resource"] == resource}


def deployed(client: DashScopeClient, emu: RunningEmulator, model: str, **options: Any) -> str:
    deployment = client.create_deployment(model, **options)
    emu.advance(600)
    assert client.get_deployment(deployment.deployed_model).status_name == "RUNNING"
    return deployment.deployed_model


def test_keep_zero_never_deletes_the_deployed_models_job_so_training_continues(
    client: DashScopeClient, emu: RunningEmulator, file_id: str, make_context: Any
) -> None:
    old, serving, newest = trained(emu, make_context, file_id, 3)
    deployed(client, emu, str(serving.finetuned_output))
    result = retain(make_context, keep_models=0)
    assert job_ids(client) == {serving.job_id}
    assert ids(result, "deleted", "job") == {old.job_id, newest.job_id}
    why = {entry["id"]: entry["why"] for entry in result["kept"]}
    assert why[serving.job_id].startswith("its model is deployed as")
    # The next week continues from the model in service: its base is still there.
    (next_week,) = trained(emu, make_context, file_id, 1, model=serving.finetuned_output)
    assert next_week.base_model == serving.base_model


def test_a_deployed_exported_checkpoint_keeps_its_job(
    client: DashScopeClient, emu: RunningEmulator, file_id: str, make_context: Any
) -> None:
    (job,) = trained(
        emu,
        make_context,
        file_id,
        1,
        hyper_parameters={
            "n_epochs": 2,
            "batch_size": 8,
            "max_length": 1024,
        },
    )
    first = client.list_checkpoints(job.job_id)[-1]
    client.export_checkpoint(job.job_id, first.checkpoint, model_name="exported-first")
    emu.advance(600)
    exported = next(
        c for c in client.list_checkpoints(job.job_id) if c.checkpoint == first.checkpoint
    )
    deployed(client, emu, str(exported.model_name))
    retain(make_context, keep_models=0)
    assert job_ids(client) == {job.job_id}


def test_the_newest_k_trained_models_are_kept_and_other_dags_jobs_untouched(
    client: DashScopeClient, emu: RunningEmulator, file_id: str, make_context: Any
) -> None:
    jobs = trained(emu, make_context, file_id, 4)
    other = client.create_fine_tune(
        "qwen3-8b",
        [file_id],
        hyper_parameters={"n_epochs": 1, "batch_size": 8, "max_length": 1024},
        job_name="airflow-000000-0000000000-00000000-c0",  # another DAG's name
    )
    emu.advance(3600)
    result = retain(make_context, keep_models=2)
    assert job_ids(client) == {jobs[2].job_id, jobs[3].job_id, other.job_id}
    assert ids(result, "deleted", "job") == {jobs[0].job_id, jobs[1].job_id}
    assert result["refused"] == [] and result["dry_run"] is False
    # Idempotent: a second run (a retry) finds nothing more to delete.
    assert retain(make_context, keep_models=2)["deleted"] == []


def test_a_continued_lineage_keeps_its_newest_job_and_the_base_of_a_job_in_progress(
    client: DashScopeClient, emu: RunningEmulator, file_id: str, make_context: Any
) -> None:
    (first,) = trained(emu, make_context, file_id, 1)
    # The same data continued into a lineage is a reuse unless asked otherwise (lifecycle).
    again = {"reuse": "never"}
    (second,) = trained(emu, make_context, file_id, 1, model=first.finetuned_output, **again)
    running = fine_tune(file_id, wait_for_completion=False, model=second.finetuned_output, **again)
    execute(running, make_context(run_id="in_progress"))
    result = retain(make_context, keep_models=0, lineage_of=first.job_id)
    assert job_ids(client) == {second.job_id, str(running._job_id)}
    why = {entry["id"]: entry["why"] for entry in result["kept"]}
    assert why[second.job_id] == f"the base of job {running._job_id} in progress"
    assert why[str(running._job_id)].endswith("in progress")
    emu.advance(3600)  # the job in progress ends: the newest of the lineage is now kept
    retain(make_context, keep_models=0, lineage_of=running._job_id)  # named by a job that exists
    assert job_ids(client) == {str(running._job_id)}


def test_cancel_in_progress_cancels_only_when_asked(
    client: DashScopeClient, emu: RunningEmulator, file_id: str, make_context: Any
) -> None:
    op = fine_tune(file_id, wait_for_completion=False)
    execute(op, make_context())
    retain(make_context, keep_models=0)
    assert client.get_fine_tune(str(op._job_id)).status_name in ("PENDING", "RUNNING")
    result = retain(make_context, keep_models=0, cancel_in_progress=True)
    assert ids(result, "cancelled", "job") == {op._job_id}
    emu.advance(60)
    assert client.get_fine_tune(str(op._job_id)).status_name == "CANCELED"
    retain(make_context, keep_models=0)  # a later run deletes the ended job
    assert job_ids(client) == set()


def test_unused_old_files_are_deleted_and_used_or_new_ones_kept(
    client: DashScopeClient, emu: RunningEmulator, training_path: Path, make_context: Any
) -> None:
    unused = client.upload_file(str(training_path))
    used = client.upload_file(str(training_path))
    (job,) = trained(emu, make_context, used, 1)
    emu.advance(2 * 86400)
    fresh = client.upload_file(str(training_path))
    result = retain(make_context, files_older_than=timedelta(days=1))
    assert {f.file_id for f in client.list_files()} == {used, fresh}
    assert ids(result, "deleted", "file") == {unused}
    why = {entry["id"]: entry["why"] for entry in result["kept"]}
    assert why[used] == f"used by job {job.job_id}, which stays"
    assert why[fresh].startswith("newer than")
    # Once its job is deleted, the file is no longer used.
    retain(make_context, keep_models=0, files_older_than=timedelta(days=1))
    assert {f.file_id for f in client.list_files()} == {fresh}


def test_left_over_deployments_are_deleted_and_the_kept_ones_stay(
    client: DashScopeClient, emu: RunningEmulator, file_id: str, make_context: Any
) -> None:
    old, new = trained(emu, make_context, file_id, 2)
    candidate = deployed(client, emu, str(new.finetuned_output), name="candidate")
    previous = deployed(client, emu, str(old.finetuned_output), name="support-bot")
    production = deployed(client, emu, str(new.finetuned_output), name="support-bot", suffix="p2")
    result = retain(
        make_context,
        keep_models=0,
        delete_deployments=True,
        keep_deployments=["candidate"],
        keep_newest_running=True,
    )
    assert ids(result, "deleted", "deployment") == {previous}
    live = {d.deployed_model for d in client.list_deployments() if d.status_name != "DELETING"}
    assert live == {candidate, production}
    # Its deployment being deleted, the old model's job went in the same run.
    assert job_ids(client) == {new.job_id}


def test_a_serving_slot_named_in_keep_deployments_keeps_its_holder_without_a_name(
    client: DashScopeClient, emu: RunningEmulator, file_id: str, make_context: Any
) -> None:
    """The pages return no display name: a slot is kept by its holder's suffix, and a member
    left over beside the holder (a rollback's remains) is not kept by the slot."""
    from airflow_dashscope.operators.promotion_slot import slot_key, slot_suffix

    old, new = trained(emu, make_context, file_id, 2)
    holder = deployed(
        client,
        emu,
        str(old.finetuned_output),
        suffix=slot_suffix(slot_key("dag", "prod"), "a", "m"),
    )
    emu.advance(60)
    extra = deployed(
        client,
        emu,
        str(new.finetuned_output),
        suffix=slot_suffix(slot_key("dag", "prod"), "b", "m"),
    )
    result = retain(make_context, delete_deployments=True, keep_deployments=["prod"])
    assert ids(result, "kept", "deployment") == {holder}
    assert ids(result, "deleted", "deployment") == {extra}


def test_a_refused_delete_is_logged_with_the_console_remedy_and_the_run_goes_on(
    client: DashScopeClient,
    emu: RunningEmulator,
    training_path: Path,
    make_context: Any,
    task_log: pytest.LogCaptureFixture,
) -> None:
    used = client.upload_file(str(training_path))
    first, second = trained(emu, make_context, used, 2)
    emu.advance(2 * 86400)
    emu.inject_fault(
        kind="error",
        status=400,
        code="UnsupportedOperation",
        message="The fine-tune job can not be deleted because it is succeeded,failed or canceled",
        method="DELETE",
        path=f"/fine-tunes/{first.job_id}$",
    )
    result = retain(make_context, keep_models=0, files_older_than=timedelta(days=1))
    assert ids(result, "refused", "job") == {first.job_id}
    assert ids(result, "deleted", "job") == {second.job_id}
    assert job_ids(client) == {first.job_id}
    # The refused job still uses the file: it is kept.
    assert {f.file_id for f in client.list_files()} == {used}
    refusal = next(r.getMessage() for r in task_log.records if "refused" in r.getMessage())
    assert first.job_id in refusal and "console" in refusal and "jobId=" in refusal
    assert "The run goes on" in refusal


def test_a_dry_run_plans_in_a_table_and_deletes_nothing(
    client: DashScopeClient,
    emu: RunningEmulator,
    file_id: str,
    make_context: Any,
    task_log: pytest.LogCaptureFixture,
) -> None:
    jobs = trained(emu, make_context, file_id, 2)
    emu.advance(2 * 86400)
    result = retain(make_context, keep_models=1, files_older_than=timedelta(days=1), dry_run=True)
    assert result["dry_run"] is True and result["deleted"] == []
    assert ids(result, "planned", "job") == {jobs[0].job_id}
    assert job_ids(client) == {job.job_id for job in jobs}
    assert not any(route.startswith("DELETE") for route in emu.counters()["requests"])
    table = next(r.getMessage() for r in task_log.records if "dry run" in r.getMessage())
    header = table.splitlines()[1].split()
    assert header == ["resource", "id", "owner", "age", "decision", "why"]
    assert any(jobs[0].job_id in line and " delete " in line for line in table.splitlines())


def test_a_bad_policy_fails_before_any_request(emu: RunningEmulator, make_context: Any) -> None:
    with pytest.raises(InvalidRequestError, match="keep_models"):
        retain(make_context, keep_models="-1")
    with pytest.raises(TypeError, match="files_older_than"):
        DashScopeRetentionOperator(task_id="r", files_older_than=30)  # type: ignore[arg-type]
