"""The identity rules of operators/identity.py, table by table (pure: no service, no Airflow run).

Each row is one line of the module's table: a resource as the service lists it, and what a
retry, a clear or changed inputs must do with it.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from airflow_dashscope.client.models import Checkpoint, Deployment, FineTuneJob
from airflow_dashscope.exceptions import InvalidRequestError
from airflow_dashscope.operators.identity import (
    JobIdentity,
    check_reuse,
    dag_digest,
    deployment_suffix,
    fine_tune_inputs,
    instance_digest,
    job_owner,
    match_deployment,
    match_export,
    match_job,
    renamed,
    task_deployment,
)

INPUTS = fine_tune_inputs(
    model="qwen3-8b",
    training_type="sft",
    training_file_ids=["file-1"],
    validation_file_ids=[],
    hyper_parameters={"n_epochs": 1},
    model_name=None,
)


def context(run_id: str = "run_1", clears: int = 0, task_id: str = "task") -> dict[str, Any]:
    ti = SimpleNamespace(dag_id="dag", task_id=task_id, run_id=run_id, map_index=-1)
    return {"ti": ti, "dag_run": SimpleNamespace(clear_number=clears)}


# --- fine-tune jobs -------------------------------------------------------------------------


def job(number: int, generation: int | None, status: str, stem: str | None = None) -> FineTuneJob:
    """Job ``ft-…-000N`` of ``stem`` (this task's, by default) created in ``generation``."""
    stem = stem or JobIdentity.of(context(), None, INPUTS).stem
    name = None if generation is None else f"{stem}-c{generation}"
    return FineTuneJob(job_id=f"ft-202601010000-{number:04d}", job_name=name, status=status)


@pytest.mark.parametrize(
    ("generation", "listed", "reuse", "action", "picked"),
    [
        # retry (same generation)
        (0, [job(1, 0, "RUNNING")], "identical", "reattach", 1),
        (0, [job(1, 0, "SUCCEEDED")], "identical", "finish", 1),
        (0, [job(1, 0, "SUCCEEDED")], "never", "finish", 1),
        (0, [job(1, 0, "FAILED")], "identical", "create", None),
        (0, [job(1, 0, "CANCELED")], "identical", "create", None),
        # clear (a later generation)
        (1, [job(1, 0, "QUEUING")], "identical", "reattach", 1),
        (1, [job(1, 0, "SUCCEEDED")], "identical", "reuse", 1),
        (1, [job(1, 0, "SUCCEEDED")], "never", "create", None),
        (2, [job(1, 0, "SUCCEEDED"), job(2, 1, "FAILED")], "identical", "reuse", 1),
        # a job in progress wins over a finished one, the newest of several
        (1, [job(1, 0, "SUCCEEDED"), job(2, 1, "PENDING")], "identical", "reattach", 2),
        (1, [job(1, 0, "SUCCEEDED"), job(2, 1, "SUCCEEDED")], "identical", "finish", 2),
        # changed inputs, another task, a job made outside Airflow: not ours
        (
            0,
            [job(1, 0, "RUNNING", stem="airflow-3f2a9c01de-00000000")],
            "identical",
            "create",
            None,
        ),
        (0, [job(1, None, "RUNNING")], "identical", "create", None),
    ],
)
def test_which_job_is_the_tasks_and_what_to_do(
    generation: int, listed: list[FineTuneJob], reuse: str, action: str, picked: int | None
) -> None:
    identity = JobIdentity.of(context(clears=generation), None, INPUTS)
    match = match_job(identity, listed, reuse)
    assert match.action == action
    assert (match.found.job_id[-1:] if match.found else None) == (str(picked) if picked else None)
    assert match.reused is (action == "reuse")
    assert (match.why != "") is (action != "create")


def test_a_job_name_is_the_task_instance_the_inputs_and_the_generation() -> None:
    first = JobIdentity.of(context(), "nightly", INPUTS)
    assert first.name.startswith("nightly-") and first.name.endswith("-c0")
    assert JobIdentity.of(context(clears=1), "nightly", INPUTS).stem == first.stem
    assert JobIdentity.of(context(run_id="run_2"), "nightly", INPUTS).stem != first.stem
    assert JobIdentity.of(context(task_id="other"), "nightly", INPUTS).stem != first.stem
    for change in (
        {"training_file_ids": ["file-2"]},
        {"hyper_parameters": {"n_epochs": 2}},
        {"model_name": "renamed"},
        {"model": "qwen3-14b"},
    ):
        assert JobIdentity.of(context(), "nightly", {**INPUTS, **change}).stem != first.stem
    # Key order and list vs tuple are the same inputs.
    same = {**dict(reversed(list(INPUTS.items()))), "training_file_ids": ("file-1",)}
    assert JobIdentity.of(context(), "nightly", same).stem == first.stem


def test_reuse_takes_only_its_documented_choices() -> None:
    check_reuse("identical")
    check_reuse("never")
    with pytest.raises(InvalidRequestError, match="Set reuse to one of identical, never"):
        check_reuse("always")


# --- exports --------------------------------------------------------------------------------

FINAL_OUTPUT = "qwen3-8b-ft-202601010000-0001"


@pytest.mark.parametrize(
    ("status", "listed_as", "action", "why", "reads_job"),
    [
        # never exported: export it
        ("PENDING", f"{FINAL_OUTPUT}-checkpoint-2", "create", "", False),
        # a retry: the export this task asked for is under way
        ("PENDING", "my-model", "reattach", "is being exported already (PENDING", False),
        ("PROCESSING", "my-model", "reattach", "is being exported already (PROCESSING", False),
        ("PROCESSING", "my-model-3a9f01", "reattach", "waiting on that export", False),
        # a failed export is exported again, whatever name the service lists for it
        ("FAILED", "my-model", "create", "", False),
        ("FAILED", "my-model-3a9f01", "create", "", False),
        # published: the service's own publication of the final checkpoint, or an export
        ("SUCCEEDED", FINAL_OUTPUT, "reuse", "which the service published itself", True),
        ("SUCCEEDED", "my-model", "reuse", "was exported earlier as my-model", True),
        ("SUCCEEDED", "other-name", "reuse", "was exported earlier as other-name", True),
    ],
)
def test_what_an_export_does_with_the_checkpoint_it_finds(
    status: str, listed_as: str, action: str, why: str, reads_job: bool
) -> None:
    checkpoint = Checkpoint(checkpoint="checkpoint-2", model_name=listed_as, status=status)
    reads: list[str] = []

    def job_output() -> str:
        reads.append("GET job")
        return FINAL_OUTPUT

    match = match_export(checkpoint, job_id="ft-1", asked="my-model", job_output=job_output)
    assert match.action == action and why in match.why
    assert match.found is checkpoint
    assert bool(reads) is reads_job  # the job is read back only for a published checkpoint
    assert "reusing it" not in match.why


# --- deployments ----------------------------------------------------------------------------


def deployment(model: str, suffix: str, status: str, name: str | None = None) -> Deployment:
    return Deployment(
        deployed_model=f"{model}-{suffix}", model_name=model, status=status, name=name
    )


def test_the_derived_suffix_is_the_task_instance_and_the_model() -> None:
    suffix = deployment_suffix(context(), "model-a", None)
    assert len(suffix) == 8 and int(suffix, 16) >= 0
    assert deployment_suffix(context(clears=3), "model-a", None) == suffix  # retry and clear
    assert deployment_suffix(context(), "model-b", None) != suffix  # another model
    assert deployment_suffix(context(run_id="run_2"), "model-a", None) != suffix
    assert deployment_suffix(context(), "model-a", "v1") == "v1"  # the user's suffix wins


@pytest.mark.parametrize(
    ("listed", "name", "action"),
    [
        ([], None, "create"),
        ([deployment("model-a", "abcd1234", "PENDING")], None, "reattach"),
        ([deployment("model-a", "abcd1234", "UPDATING")], None, "reattach"),
        ([deployment("model-a", "abcd1234", "RUNNING")], None, "reuse"),
        # the wait fails the task: the suffix is taken, no second deployment
        ([deployment("model-a", "abcd1234", "FAILED")], None, "reattach"),
        ([deployment("model-a", "abcd1234", "STOPPED")], None, "reattach"),
        # on its way out: not ours any more
        ([deployment("model-a", "abcd1234", "DELETING")], None, "create"),
        # another model, another suffix, another name: not ours
        ([deployment("model-b", "abcd1234", "RUNNING")], None, "create"),
        ([deployment("model-a", "ffff0000", "RUNNING")], None, "create"),
        ([deployment("model-a", "xabcd1234", "RUNNING")], None, "create"),
        ([deployment("model-a", "abcd1234", "RUNNING", name="a")], "b", "create"),
        ([deployment("model-a", "abcd1234", "RUNNING", name="b")], "b", "reuse"),
        ([deployment("model-a", "abcd1234", "RUNNING")], "b", "reuse"),
    ],
)
def test_which_deployment_is_the_tasks_and_what_to_do(
    listed: list[Deployment], name: str | None, action: str
) -> None:
    found = task_deployment(listed, "model-a", suffix="abcd1234", name=name)
    match = match_deployment(found)
    assert match.action == action
    assert match.reused is (action == "reuse")
    assert (match.found is None) is (action == "create")


# --- ids the service chose ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("asked", "named", "line"),
    [
        ("mine", "qwen3-8b-ft-1", "Job 1: asked for mine, the service named it qwen3-8b-ft-1"),
        ("mine", "mine", None),
        (None, "qwen3-8b-ft-1", None),
        ("mine", None, None),
    ],
)
def test_an_id_the_service_chose_is_explained(
    asked: str | None, named: str | None, line: str | None
) -> None:
    said = renamed("Job 1", asked, named)
    assert (said is None) is (line is None)
    if line is not None:
        assert said is not None and said.startswith(line)


# --- who made a job ---------------------------------------------------------------------------


def test_a_jobs_name_tells_its_dag_and_task_instance() -> None:
    identity = JobIdentity.of(context(clears=2), "nightly", INPUTS)
    owner = job_owner(identity.name)
    assert owner is not None
    assert owner.of_dag(context()["ti"].dag_id)
    assert not owner.of_dag("some_other_dag")
    ti = context()["ti"]
    assert owner.instance == instance_digest(ti.dag_id, ti.task_id, ti.run_id, ti.map_index)
    assert owner.generation == 2
    assert owner.dag == dag_digest(ti.dag_id)


@pytest.mark.parametrize(
    "name", [None, "", "ft-202410291653-1c7f", "my-console-job", "airflow-3f2a9c01de-7b1e44c0-c0"]
)
def test_a_job_this_provider_did_not_name_has_no_owner(name: str | None) -> None:
    assert job_owner(name) is None


def test_a_job_named_before_the_dag_digest_is_still_found_after_an_upgrade() -> None:
    """A retry or clear after upgrading must reattach to (not pay again for) the job an older
    release started under ``{prefix}-{task}-{inputs}-c{generation}``."""
    identity = JobIdentity.of(context(clears=1), None, INPUTS)
    assert identity.legacy_stem is not None
    older = FineTuneJob(
        job_id="ft-202601010000-0001", job_name=f"{identity.legacy_stem}-c0", status="RUNNING"
    )
    match = match_job(identity, [older], "identical")
    assert (match.action, match.found) == ("reattach", older)
    assert identity.name.startswith(f"airflow-{dag_digest(context()['ti'].dag_id)}-")
