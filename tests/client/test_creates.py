"""Every create is made once: a lost answer on any try, the last included, is looked up.

Fine-tune, deployment, export and upload, over the wire, with the emulator's faults: ``error``
(the service did not act), ``drop`` (the connection breaks before it acts) and ``drop_after``
(it acts, then the answer is lost). The emulator counts what really got created and every
request per route, so "one GET per question" is counted too.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from airflow_dashscope.client import DashScopeTransportError, InternalServerError
from airflow_dashscope.emulator.runner import RunningEmulator

from .conftest import FAST_RETRY, HYPER, Call

LIST_JOBS = "GET /api/v1/fine-tunes"
CREATE_JOB = "POST /api/v1/fine-tunes"
LIST_DEPLOYMENTS = "GET /api/v1/deployments"
CREATE_DEPLOYMENT = "POST /api/v1/deployments"
LIST_FILES = "GET /api/v1/files"
UPLOAD = "POST /api/v1/files"
MU_MODEL = "qwen-plus-2025-12-01"


def _requests(emulator: RunningEmulator, route: str) -> int:
    return int(emulator.counters()["requests"].get(route, 0))


def _files(api: Call) -> list[str]:
    return [f.file_id for f in api("list_files")]


# Fine-tune jobs ---------------------------------------------------------------------------


def test_a_fine_tune_with_known_jobs_lists_nothing_before_creating(
    api: Call, dashscope_emulator: RunningEmulator, training_file: Path
) -> None:
    """issue 8, one GET per question: the operator's own listing is reused."""
    file_id = api("upload_file", training_file)
    api("create_fine_tune", "qwen3-8b", [file_id], hyper_parameters=HYPER, job_name="weekly")
    assert _requests(dashscope_emulator, LIST_JOBS) == 1  # no known_jobs: one listing
    older = api("find_fine_tunes_by_name", "weekly")
    before = _requests(dashscope_emulator, LIST_JOBS)
    job = api(
        "create_fine_tune",
        "qwen3-8b",
        [file_id],
        hyper_parameters=HYPER,
        job_name="weekly",
        known_jobs=older,
    )
    assert _requests(dashscope_emulator, LIST_JOBS) == before
    assert _requests(dashscope_emulator, CREATE_JOB) == 2
    assert job.job_id not in {j.job_id for j in older}


def test_known_jobs_still_keep_an_older_job_from_passing_for_the_lost_create(
    api: Call, dashscope_emulator: RunningEmulator, training_file: Path
) -> None:
    file_id = api("upload_file", training_file)
    older = api("create_fine_tune", "qwen3-8b", [file_id], hyper_parameters=HYPER, job_name="n")
    dashscope_emulator.inject_fault(kind="drop_after", count=1, method="POST", path="/fine-tunes$")
    newer = api(
        "create_fine_tune",
        "qwen3-8b",
        [file_id],
        hyper_parameters=HYPER,
        job_name="n",
        known_jobs=[older],
    )
    assert newer.job_id != older.job_id
    assert dashscope_emulator.counters()["jobs_created"] == 2


def test_a_fine_tune_whose_last_answer_is_lost_is_found(
    api: Call, dashscope_emulator: RunningEmulator, training_file: Path
) -> None:
    file_id = api("upload_file", training_file)
    dashscope_emulator.inject_fault(status=503, count=2, method="POST", path="/fine-tunes$")
    dashscope_emulator.inject_fault(kind="drop_after", count=1, method="POST", path="/fine-tunes$")
    job = api("create_fine_tune", "qwen3-8b", [file_id], hyper_parameters=HYPER, max_attempts=3)
    assert dashscope_emulator.counters()["jobs_created"] == 1
    assert _requests(dashscope_emulator, CREATE_JOB) == 3
    assert [j.job_id for j in api("list_fine_tunes")] == [job.job_id]


# Deployments ------------------------------------------------------------------------------


def _deploy_mu(api: Call, **kwargs: object) -> object:
    return api("create_deployment", MU_MODEL, plan="mu", deploy_spec="MU1", **kwargs)


def test_a_deployment_whose_last_answer_is_lost_is_found_not_raised(
    api: Call, dashscope_emulator: RunningEmulator
) -> None:
    """issue 8: 503, 503, then the answer dropped: the deployment exists, so return it."""
    dashscope_emulator.inject_fault(status=503, count=2, method="POST", path="/deployments$")
    dashscope_emulator.inject_fault(kind="drop_after", count=1, method="POST", path="/deployments$")
    deployment = _deploy_mu(api, name="d1", max_attempts=3)
    assert dashscope_emulator.counters()["deployments_created"] == 1
    assert _requests(dashscope_emulator, CREATE_DEPLOYMENT) == 3
    assert [d.deployed_model for d in api("list_deployments")] == [deployment.deployed_model]


def test_a_deployment_that_keeps_failing_gives_up_after_looking(
    api: Call, dashscope_emulator: RunningEmulator
) -> None:
    dashscope_emulator.inject_fault(status=500, count=50, method="POST", path="/deployments$")
    with pytest.raises(InternalServerError):
        _deploy_mu(api, name="d2")
    tries = FAST_RETRY.max_retries + 1
    assert _requests(dashscope_emulator, CREATE_DEPLOYMENT) == tries
    # One listing before creating, one after each failed try.
    assert _requests(dashscope_emulator, LIST_DEPLOYMENTS) == 1 + tries
    assert dashscope_emulator.counters()["deployments_created"] == 0


def test_known_deployments_save_the_listing_before_creating(
    api: Call, dashscope_emulator: RunningEmulator
) -> None:
    _deploy_mu(api, name="d3", known_deployments=[])
    assert _requests(dashscope_emulator, LIST_DEPLOYMENTS) == 0
    assert _requests(dashscope_emulator, CREATE_DEPLOYMENT) == 1


# Uploads ----------------------------------------------------------------------------------


def test_an_upload_is_retried_on_server_errors_and_stored_once(
    api: Call, dashscope_emulator: RunningEmulator, training_file: Path
) -> None:
    """issue 8: 3 x 503 used to fail the upload; now it is retried, one copy stored."""
    dashscope_emulator.inject_fault(status=503, count=3, method="POST", path="/files$")
    file_id = api("upload_file", training_file)
    assert _files(api) == [file_id]
    assert _requests(dashscope_emulator, UPLOAD) == 4


def test_an_upload_whose_answer_is_lost_is_found_by_name_size_and_md5(
    api: Call, dashscope_emulator: RunningEmulator, training_file: Path
) -> None:
    dashscope_emulator.inject_fault(kind="drop_after", count=1, method="POST", path="/files$")
    file_id = api("upload_file", training_file)
    assert _files(api) == [file_id]
    assert _requests(dashscope_emulator, UPLOAD) == 1


def test_a_file_with_the_same_name_but_other_content_is_not_taken_for_the_upload(
    api: Call, dashscope_emulator: RunningEmulator, training_file: Path, tmp_path: Path
) -> None:
    other = tmp_path / "other" / training_file.name
    other.parent.mkdir()
    other.write_text(training_file.read_text() + "\n")
    older = api("upload_file", other)
    dashscope_emulator.inject_fault(kind="drop", count=1, method="POST", path="/files$")
    file_id = api("upload_file", training_file)
    assert file_id != older and sorted(_files(api)) == sorted([older, file_id])


def test_a_multi_file_upload_resends_only_what_was_not_kept(
    api: Call, dashscope_emulator: RunningEmulator, tmp_path: Path
) -> None:
    first, second = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    first.write_text('{"text": "a"}\n')
    second.write_text('{"text": "b"}\n')
    kept = api("upload_file", first)
    dashscope_emulator.inject_fault(status=500, count=1, method="POST", path="/files$")
    result = api("upload_files", [first, second])
    assert next(f.file_id for f in result.uploaded_files) == kept
    assert [f.name for f in result.uploaded_files] == ["a.jsonl", "b.jsonl"]
    assert len(_files(api)) == 2


def test_an_upload_that_keeps_failing_raises_after_the_retry_budget(
    api: Call, dashscope_emulator: RunningEmulator, training_file: Path
) -> None:
    dashscope_emulator.inject_fault(kind="drop", count=50, method="POST", path="/files$")
    with pytest.raises(DashScopeTransportError):
        api("upload_file", training_file)
    assert _requests(dashscope_emulator, UPLOAD) == FAST_RETRY.max_retries + 1
    assert _files(api) == []


# Exports ----------------------------------------------------------------------------------


def _finished_job(api: Call, emulator: RunningEmulator, training_file: Path) -> str:
    file_id = api("upload_file", training_file)
    job = api("create_fine_tune", "qwen3-8b", [file_id], hyper_parameters={**HYPER, "n_epochs": 2})
    emulator.advance(3600)
    return str(job.job_id)


@pytest.mark.parametrize("fault", ["drop_after", "drop"])
def test_an_export_whose_answer_is_lost_is_read_back(
    api: Call, dashscope_emulator: RunningEmulator, training_file: Path, fault: str
) -> None:
    job_id = _finished_job(api, dashscope_emulator, training_file)
    oldest = api("list_checkpoints", job_id)[-1].checkpoint
    dashscope_emulator.inject_fault(kind=fault, count=1, path="/export/")
    assert api("export_checkpoint", job_id, oldest, "my-export") is True
    exports = [
        count
        for route, count in dashscope_emulator.counters()["requests"].items()
        if "/export/" in route
    ]
    # drop: never reached the service, sent again. drop_after: the export started; it is
    # read back as PROCESSING, or (still queued, PENDING) sent again and refused as
    # "already exported", which also proves it.
    assert sum(exports) in ((1, 2) if fault == "drop_after" else (2,))
    dashscope_emulator.advance(3600)
    model_id = api("exported_model_id", job_id, oldest)
    listed = api("get_checkpoint", job_id, oldest)
    assert model_id and model_id == listed.model_name and listed.status_name == "SUCCEEDED"
