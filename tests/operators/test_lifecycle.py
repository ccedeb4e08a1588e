"""A year of unattended retraining, over the wire: one upload per content, no second
training of the same data into a lineage, no job or deployment left behind by a clear with
changed inputs, and a bad literal request stopped at DAG parse before any upload."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path
from typing import Any

import pytest

from airflow_dashscope.client import DashScopeClient
from airflow_dashscope.client.models import DashScopeFile, FineTuneJob
from airflow_dashscope.emulator.runner import RunningEmulator
from airflow_dashscope.operators import DashScopeDeployModelOperator, DashScopeUploadFileOperator
from airflow_dashscope.operators.content import identical_file, match_lineage, model_makers
from tests.operators.conftest import HYPER, SFT_LINE
from tests.operators.helpers import defer, execute, fine_tune, run_deferred

CONTENT = b"hello training data\n"
DIGEST = hashlib.md5(CONTENT).digest()


def stored(file_id: str, md5: str | None, *, size: int = len(CONTENT), **extra: Any) -> Any:
    return DashScopeFile(file_id=file_id, size=size, md5=md5, **extra)


def job(job_id: str, model: str, output: str, files: list[str], status: str = "SUCCEEDED") -> Any:
    return FineTuneJob.model_validate(
        {
            "job_id": job_id,
            "status": status,
            "model": model,
            "finetuned_output": output,
            "training_file_ids": files,
        }
    )


# --- the rules (pure) ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "md5", [DIGEST.hex(), base64.b64encode(DIGEST).decode()], ids=["hex", "base64"]
)
def test_a_stored_file_is_recognised_by_size_md5_and_purpose(md5: str) -> None:
    files = [stored("other", hashlib.md5(b"x").hexdigest()), stored("same", md5)]
    found = identical_file(files, size=len(CONTENT), digest=DIGEST, purpose="fine-tune")
    assert found is not None and found.file_id == "same"
    assert identical_file(files, size=len(CONTENT) + 1, digest=DIGEST, purpose="fine-tune") is None
    batch = [stored("batch", md5, purpose="batch")]
    assert identical_file(batch, size=len(CONTENT), digest=DIGEST, purpose="fine-tune") is None


def test_the_lineage_already_holding_the_data_is_reused() -> None:
    md5 = DIGEST.hex()
    jobs = [job("ft-1", "qwen3-8b", "m1", ["f1"]), job("ft-2", "m1", "m2", ["f2"])]
    files = [stored("f1", md5), stored("f2", hashlib.md5(b"y").hexdigest()), stored("new", md5)]
    makers = model_makers("m2", jobs, {})
    assert [j.job_id for j in makers] == ["ft-2", "ft-1"]
    match = match_lineage("m2", ["new"], makers, files)
    assert match.action == "reuse" and match.found.job_id == "ft-2"
    assert match.why.startswith(
        "Model m2 already contains this data: job ft-1 trained it on file f1 (same MD5); "
        "nothing to train"
    )
    other = [*files, stored("changed", hashlib.md5(b"z").hexdigest())]
    assert match_lineage("m2", ["new", "changed"], makers, other).action == "create"
    assert model_makers("qwen3-8b", jobs, {}) == []
    # An exported checkpoint's model is made by its job too.
    assert [j.job_id for j in model_makers("m1-ckpt", jobs, {"m1-ckpt": "ft-1"})] == ["ft-1"]


def test_a_deleted_lineage_file_is_said_and_trains() -> None:
    jobs = [job("ft-1", "qwen3-8b", "m1", ["gone"])]
    match = match_lineage("m1", ["new"], jobs, [stored("new", DIGEST.hex())])
    assert match.action == "create"
    assert match.why == (
        "Model m1 may not contain file new (file gone of job ft-1 deleted: no MD5 to "
        "compare), training."
    )


# --- uploads addressed by content -----------------------------------------------------------


def upload(path: Path, **options: Any) -> DashScopeUploadFileOperator:
    return DashScopeUploadFileOperator(task_id="upload", file_path=str(path), **options)


def test_the_same_bytes_are_uploaded_once(
    training_path: Path,
    tmp_path: Path,
    make_context: Any,
    client: DashScopeClient,
    task_log: pytest.LogCaptureFixture,
) -> None:
    first, again = make_context(), make_context()
    file_id = execute(upload(training_path), first)
    copy = tmp_path / "renamed.jsonl"  # the name does not matter, the bytes do
    copy.write_bytes(training_path.read_bytes())
    assert execute(upload(copy), again) == file_id
    assert first["ti"].xcom("reused") is False and again["ti"].xcom("reused") is True
    assert [f.file_id for f in client.list_files()] == [file_id]
    assert f"Not uploading {copy}: file {file_id} (train.jsonl, uploaded " in task_log.text
    assert again["ti"].xcom("training_tokens") == first["ti"].xcom("training_tokens")


def test_reuse_identical_file_false_uploads_again(
    training_path: Path, make_context: Any, client: DashScopeClient
) -> None:
    first = execute(upload(training_path), make_context())
    context = make_context()
    second = execute(upload(training_path, reuse_identical_file=False), context)
    assert second != first and len(client.list_files()) == 2
    assert context["ti"].xcom("reused") is False


def test_other_bytes_are_uploaded(
    training_path: Path, tmp_path: Path, make_context: Any, client: DashScopeClient
) -> None:
    execute(upload(training_path), make_context())
    other = tmp_path / "train2.jsonl"
    other.write_text("\n".join([SFT_LINE] * 17) + "\n")
    execute(upload(other), make_context())
    assert len(client.list_files()) == 2


# --- no job left behind --------------------------------------------------------------------


@pytest.mark.parametrize("cancel", [True, False], ids=["cancelled", "kept"])
def test_a_clear_with_changed_data_cancels_the_older_job(
    cancel: bool,
    client: DashScopeClient,
    training_path: Path,
    tmp_path: Path,
    make_context: Any,
    emu: RunningEmulator,
    task_log: pytest.LogCaptureFixture,
) -> None:
    old_file = client.upload_file(str(training_path))
    first = make_context()
    defer(fine_tune(old_file), first)
    old_job = first["ti"].xcom("job_id")
    changed = tmp_path / "changed.jsonl"
    changed.write_text("\n".join([SFT_LINE] * 20) + "\n")
    new_file = client.upload_file(str(changed))
    cleared = make_context(clears=1)
    defer(fine_tune(new_file, cancel_superseded=cancel), cleared)
    new_job = cleared["ti"].xcom("job_id")
    statuses = {j.job_id: j.status_name for j in client.list_fine_tunes()}
    assert len(statuses) == 2 and new_job != old_job
    assert statuses[new_job] in ("PENDING", "QUEUING", "RUNNING")
    assert (statuses[old_job] in ("CANCELING", "CANCELED")) is cancel
    said = f"Cancelling job {old_job} (older inputs) before starting job "
    assert (said in task_log.text) is cancel


def test_another_task_instances_job_is_never_cancelled(
    file_id: str, make_context: Any, client: DashScopeClient, tmp_path: Path
) -> None:
    defer(fine_tune(file_id), make_context(run_id="run_a"))
    defer(fine_tune(file_id, hyper_parameters={**HYPER, "n_epochs": 2}), make_context("task"))
    assert {j.status_name for j in client.list_fine_tunes()} <= {"PENDING", "QUEUING", "RUNNING"}


def deploy(model: str, **options: Any) -> DashScopeDeployModelOperator:
    return DashScopeDeployModelOperator(
        task_id="deploy", model_name=model, deferrable=True, poll_interval=0.01, **options
    )


@pytest.mark.parametrize("keep", [False, True], ids=["removed", "kept"])
def test_a_clear_deploying_a_changed_model_removes_the_older_deployment(
    keep: bool,
    succeeded_job: FineTuneJob,
    client: DashScopeClient,
    emu: RunningEmulator,
    file_id: str,
    make_context: Any,
    clock_running: None,
) -> None:
    first = run_deferred(deploy(str(succeeded_job.finetuned_output)), make_context())
    other_task = run_deferred(
        DashScopeDeployModelOperator(
            task_id="elsewhere",
            model_name=str(succeeded_job.finetuned_output),
            deferrable=True,
            poll_interval=0.01,
        ),
        make_context("elsewhere"),
    )
    retrained = client.create_fine_tune("qwen3-8b", [file_id], hyper_parameters=HYPER)
    emu.advance(3600)
    model = str(client.get_fine_tune(retrained.job_id).finetuned_output)
    again = run_deferred(deploy(model, keep_superseded=keep), make_context(clears=1))
    live = {
        d.deployed_model: d.status_name
        for d in client.list_deployments()
        if d.status_name != "DELETING"
    }
    assert live[again["deployed_model"]] == "RUNNING"
    assert (first["deployed_model"] in live) is keep
    assert other_task["deployed_model"] in live  # another task's deployment is not ours
    assert emu.counters()["deployments_created"] == 3


# --- checked at DAG parse -----------------------------------------------------------------

BAD_DAG = """
import pendulum
from airflow.sdk import DAG

from airflow_dashscope.operators import DashScopeFineTuneOperator, DashScopeUploadFileOperator

with DAG("bad_hyper", schedule=None, start_date=pendulum.datetime(2025, 1, 1)) as dag:
    upload = DashScopeUploadFileOperator(task_id="upload", file_path=TRAINING_PATH)
    DashScopeFineTuneOperator(
        task_id="train",
        model="qwen3-8b",
        training_file_ids=upload.output,
        hyper_parameters={"n_epochs": "{{ params.epochs }}", "learning_rate": "fast"},
    )
"""


def test_missing_hyperparameters_are_a_dag_import_error(
    airflow_db: Path, tmp_path: Path, training_path: Path, emu: RunningEmulator
) -> None:
    try:  # Airflow >= 3.2
        from airflow.dag_processing.dagbag import DagBag
    except ImportError:  # Airflow 3.1
        from airflow.models.dagbag import DagBag

    path = tmp_path / "bad_hyper.py"
    path.write_text(f"TRAINING_PATH = {str(training_path)!r}\n{BAD_DAG}")
    bag = DagBag(dag_folder=str(path))
    (error,) = bag.import_errors.values()
    assert "Fix the arguments of fine-tune task 'train'" in error
    assert "hyper_parameters.batch_size is required" in error
    assert "hyper_parameters.max_length is required" in error
    assert "hyper_parameters.learning_rate must be a positive number" in error
    assert "n_epochs" not in error.split("Every job needs")[0]  # templated: checked at run
    assert "bad_hyper" not in bag.dag_ids
    assert DashScopeClient(api_key=emu.api_key, base_url=emu.base_url).list_files() == []


def test_templated_values_wait_for_the_run() -> None:
    op = fine_tune(
        "f",
        training_type="{{ params.kind }}",
        hyper_parameters={"n_epochs": 1, "lora_rank": "{{ params.rank }}"},
    )
    assert op.training_type == "{{ params.kind }}"  # nothing decided before rendering
    fine_tune("f", hyper_parameters="{{ params.hyper }}")
