from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from airflow_dashscope.client import (
    AsyncDashScopeClient,
    DashScopeClient,
    DashScopeError,
    InvalidParameterError,
    NotFoundError,
    UnsupportedOperationError,
)
from airflow_dashscope.client.endpoints.fine_tunes import fine_tune_body
from airflow_dashscope.client.models import JobStatus, TrainingType
from airflow_dashscope.emulator.runner import RunningEmulator

from .conftest import HYPER, Call, config_for


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
    # model-training-api-reference.md: finetuned_output appears only once SUCCEEDED.
    assert job.finetuned_output is None and job.create_time is not None
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
    checkpoints = api("list_checkpoints", job_id)
    assert checkpoints and checkpoints[0].checkpoint.startswith("checkpoint-")
    steps = [c.step_number for c in checkpoints]
    assert steps == sorted(steps, reverse=True)


@pytest.mark.parametrize("published_as", ["asked", "derived"])
def test_export_checkpoint(
    api: Call,
    dashscope_emulator: RunningEmulator,
    training_file: Path,
    monkeypatch: pytest.MonkeyPatch,
    published_as: str,
) -> None:
    """fine-tuning-api-guide.md: the checkpoint list's ``model_name`` is the id to deploy. The
    pages disagree on whether it is the name asked at export: both readings must work."""
    monkeypatch.setattr(dashscope_emulator.emulator.settings, "export_model_id", published_as)
    job_id = _job(api, training_file, hyper_parameters={**HYPER, "n_epochs": 2})
    dashscope_emulator.advance(3600)
    oldest = api("list_checkpoints", job_id)[-1]
    assert api("export_checkpoint", job_id, oldest.checkpoint, "my-export") is True
    assert api("exported_model_id", job_id, oldest.checkpoint) is None  # not SUCCEEDED yet
    dashscope_emulator.advance(3600)
    exported = next(c for c in api("list_checkpoints", job_id) if c.checkpoint == oldest.checkpoint)
    assert exported.status_name == "SUCCEEDED"
    # The id to deploy is the one the checkpoint list shows, whatever was asked for.
    assert api("exported_model_id", job_id, oldest.checkpoint) == exported.model_name
    assert (exported.model_name == "my-export") is (published_as == "asked")
    assert api("get_checkpoint", job_id, oldest.checkpoint_id or "").checkpoint == oldest.checkpoint
    with pytest.raises(DashScopeError, match="no checkpoint"):
        api("get_checkpoint", job_id, "checkpoint-999999")


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


def test_logs_offset_is_the_number_of_lines_to_skip(
    api: Call, dashscope_emulator: RunningEmulator, training_file: Path
) -> None:
    """model-training-api-reference.md: the answer starts at line offset+1; default offset 0,
    line 100; past the end nothing."""
    job_id = _job(api, training_file)
    dashscope_emulator.advance(3600)
    everything = api("get_fine_tune_logs", job_id, line=1000)
    assert everything.total == len(everything.logs) > 3
    assert api("get_fine_tune_logs", job_id).logs == everything.logs[:100]
    assert api("get_fine_tune_logs", job_id, 2, 1).logs == [everything.logs[2]]
    assert api("get_fine_tune_logs", job_id, offset=everything.total).logs == []
    followed: list[str] = []
    while len(followed) < everything.total:
        followed += api("get_fine_tune_logs", job_id, offset=len(followed), line=2).logs
    assert followed == everything.logs


@pytest.mark.parametrize(("offset", "line"), [(-1, 10), (0, 0), (0, 1001)])
def test_bad_log_paging_fails_before_any_request(
    api: Call, dashscope_emulator: RunningEmulator, offset: int, line: int
) -> None:
    with pytest.raises(ValueError, match=r"offset|line"):
        api("get_fine_tune_logs", "ft-202601010000-abcd", offset=offset, line=line)
    assert not dashscope_emulator.counters()["requests"]


def test_list_filters_by_model(api: Call, training_file: Path) -> None:
    """model-training-api-reference.md: ``GET /fine-tunes?model=`` lists that model's jobs."""
    file_id = api("upload_file", training_file)
    eight = api("create_fine_tune", "qwen3-8b", [file_id], hyper_parameters=HYPER)
    api("create_fine_tune", "qwen3-14b", [file_id], hyper_parameters=HYPER)
    assert [j.job_id for j in api("list_fine_tunes", model="qwen3-8b")] == [eight.job_id]
    assert api("list_fine_tunes_page", model="qwen3-8b").total == 1
    assert len(api("list_fine_tunes")) == 2


def test_finetuned_output_suffix_is_sent_and_accepted(api: Call, training_file: Path) -> None:
    file_id = api("upload_file", training_file)
    job = api(
        "create_fine_tune",
        "qwen3-8b",
        [file_id],
        hyper_parameters=HYPER,
        finetuned_output_suffix="nightly",
    )
    assert job.status_name == "PENDING"


def test_the_create_body_has_only_documented_fields_and_enum_values() -> None:
    """The training API page's create fields; nothing else is sent (the service rejects
    unknown fields), an enum goes by value, unset options and None hyperparameters not at all."""
    documented = {
        "model",
        "training_file_ids",
        "validation_file_ids",
        "hyper_parameters",
        "training_type",
        "job_name",
        "model_name",
        "finetuned_output_suffix",
    }
    full = fine_tune_body(
        "qwen3-8b",
        ["f1"],
        job_name="n",
        validation_file_ids=["v1"],
        training_type=TrainingType.EFFICIENT_SFT,
        hyper_parameters={**HYPER, "lora_rank": None},
        model_name="mine",
        finetuned_output_suffix="sfx",
    )
    assert set(full) == documented
    assert full["training_type"] == "efficient_sft" and "lora_rank" not in full["hyper_parameters"]
    bare = fine_tune_body("qwen3-8b", ["f1"], job_name="n")
    assert set(bare) == {"model", "training_file_ids", "job_name"}
    with pytest.raises(ValueError, match="training_file_ids"):
        fine_tune_body("qwen3-8b", "f1", job_name="n")


@pytest.mark.parametrize("training_type", list(TrainingType))
def test_every_training_type_enum_reaches_the_service_by_value(
    api: Call, training_file: Path, training_type: TrainingType
) -> None:
    """issue 8: ``TrainingType.SFT`` used to arrive as "TrainingType.SFT" (a 400)."""
    file_id = api("upload_file", training_file)
    job = api(
        "create_fine_tune",
        "qwen2.5-7b-instruct",  # supports all five types on both training pages
        [file_id],
        training_type=training_type,
        hyper_parameters=HYPER,
    )
    assert job.training_type == training_type.value


def test_stream_follows_a_finished_job_to_its_status(
    dashscope_emulator: RunningEmulator, training_file: Path
) -> None:
    with DashScopeClient(config_for(dashscope_emulator)) as client:
        file_id = client.upload_file(training_file)
        job = client.create_fine_tune("qwen3-8b", [file_id], hyper_parameters=HYPER)
        dashscope_emulator.advance(3600)
        events = list(client.stream_fine_tune(job.job_id))
        logs = client.get_fine_tune_logs(job.job_id, line=1000).logs
    assert events == [*logs, "status: SUCCEEDED"]


def test_stream_follows_a_running_job_live(
    dashscope_emulator: RunningEmulator, training_file: Path
) -> None:
    """The guide: ``fine_tunes.stream`` keeps printing the log until the job ends."""

    async def follow() -> list[str]:
        async with AsyncDashScopeClient(config_for(dashscope_emulator)) as client:
            file_id = await client.upload_file(training_file)
            job = await client.create_fine_tune("qwen3-8b", [file_id], hyper_parameters=HYPER)
            events: list[str] = []
            async for event in client.stream_fine_tune(job.job_id):
                if not events:
                    dashscope_emulator.advance(3600)  # the job ends while it is followed
                events.append(event)
            return events

    events = asyncio.run(asyncio.wait_for(follow(), timeout=60))
    assert len(events) > 2 and events[-1] == "status: SUCCEEDED"
    assert len(set(events)) == len(events)
