from __future__ import annotations

from pathlib import Path

import pytest

from airflow_dashscope.client import (
    InvalidParameterError,
    NotFoundError,
    UnsupportedOperationError,
)
from airflow_dashscope.client.models import JobStatus
from airflow_dashscope.emulator.runner import RunningEmulator

from .conftest import HYPER, Call


def _job(api: Call, training_file: Path, **kwargs: object) -> str:
    file_id = api("upload_file", training_file)
    kwargs.setdefault("hyper_parameters", HYPER)
    job = api("create_fine_tune", "qwen3-8b", [file_id], **kwargs)
    return str(job.job_id)


def test_create_get_list(api: Call, training_file: Path) -> None:
    file_id = api("upload_file", training_file)
    job = api(
        "create_fine_tune",
        "qwen3-8b",
        [file_id],
        training_type="sft",
        hyper_parameters={**HYPER, "learning_rate": "1.6e-5", "unknown_knob": 7},
        job_name="nightly",
    )
    assert job.status == JobStatus.PENDING
    assert job.job_name == "nightly"
    assert job.base_model == "qwen3-8b" and job.training_file_ids == [file_id]
    assert job.hyper_parameters.n_epochs == 1
    assert job.hyper_parameters.model_extra == {"unknown_knob": 7}
    assert job.finetuned_output and job.create_time is not None
    assert api("get_fine_tune", job.job_id).job_id == job.job_id
    assert [j.job_id for j in api("list_fine_tunes")] == [job.job_id]
    assert api("list_fine_tunes_page", page_no=1, page_size=1).total == 1


def test_generated_job_name_finds_the_job(api: Call, training_file: Path) -> None:
    job_id = _job(api, training_file)
    job = api("get_fine_tune", job_id)
    assert job.job_name and job.job_name.startswith("job-")
    assert [j.job_id for j in api("find_fine_tunes_by_name", job.job_name)] == [job_id]


def test_job_runs_to_success_with_usage_logs_and_checkpoints(
    api: Call, dashscope_emulator: RunningEmulator, training_file: Path
) -> None:
    job_id = _job(api, training_file, training_type="efficient_sft")
    dashscope_emulator.advance(3600)
    job = api("get_fine_tune", job_id)
    assert job.status == JobStatus.SUCCEEDED and job.is_terminal
    assert job.end_time is not None and job.usage_tokens and job.usage_tokens > 0
    logs = api("get_fine_tune_logs", job_id, offset=0, line=2)
    assert len(logs.logs) == 2 and logs.total > 2
    rest = api("get_fine_tune_logs", job_id, offset=3, line=1000)
    assert len(rest.logs) == logs.total - 2
    checkpoints = api("list_checkpoints", job_id)
    assert checkpoints and checkpoints[0].checkpoint.startswith("checkpoint-")
    steps = [c.step_number for c in checkpoints]
    assert steps == sorted(steps, reverse=True)


def test_export_checkpoint(
    api: Call, dashscope_emulator: RunningEmulator, training_file: Path
) -> None:
    job_id = _job(api, training_file, hyper_parameters={**HYPER, "n_epochs": 2})
    dashscope_emulator.advance(3600)
    oldest = api("list_checkpoints", job_id)[-1]
    assert api("export_checkpoint", job_id, oldest.checkpoint, "my-export") is True
    dashscope_emulator.advance(3600)
    exported = next(c for c in api("list_checkpoints", job_id) if c.checkpoint == oldest.checkpoint)
    assert exported.status_name == "SUCCEEDED" and exported.model_name == "my-export"


def test_cancel_then_delete(
    api: Call, dashscope_emulator: RunningEmulator, training_file: Path
) -> None:
    job_id = _job(api, training_file)
    with pytest.raises(UnsupportedOperationError):
        api("delete_fine_tune", job_id)
    assert api("cancel_fine_tune", job_id).status == "success"
    dashscope_emulator.advance(60)
    assert api("get_fine_tune", job_id).status == JobStatus.CANCELED
    with pytest.raises(UnsupportedOperationError):
        api("cancel_fine_tune", job_id)
    assert api("delete_fine_tune", job_id).status == "success"
    with pytest.raises(NotFoundError, match="Not Found"):
        api("get_fine_tune", job_id)


def test_failed_job_carries_code_and_message(
    api: Call, dashscope_emulator: RunningEmulator, training_file: Path
) -> None:
    job_id = _job(api, training_file)
    dashscope_emulator.fail_job(job_id, "DataError", "line 3 is broken")
    job = api("get_fine_tune", job_id)
    assert job.status == JobStatus.FAILED
    assert (job.code, job.message) == ("DataError", "line 3 is broken")


def test_unknown_training_file_is_invalid_parameter(api: Call) -> None:
    with pytest.raises(InvalidParameterError) as caught:
        api("create_fine_tune", "qwen3-8b", ["no-such-file"], hyper_parameters=HYPER)
    assert caught.value.status_code == 400 and caught.value.request_id
