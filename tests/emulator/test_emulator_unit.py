"""Pure unit tests of the job state machine with a manual clock (no HTTP)."""

from __future__ import annotations

from pathlib import Path

import pytest

from airflow_dashscope.emulator import jobs
from airflow_dashscope.emulator.clock import Clock, id_stamp, iso_time, job_time
from airflow_dashscope.emulator.errors import ApiError
from airflow_dashscope.emulator.settings import Settings
from airflow_dashscope.emulator.state import FileRecord, Store

WS = "llm-test"
T0 = 1_764_246_795.0  # 2025-11-27 20:33:15 Beijing


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = Store(tmp_path)
    s.files["f1"] = FileRecord("f1", WS, "a.jsonl", "", "fine-tune", 4000, "x", T0, 100)
    return s


@pytest.fixture
def settings() -> Settings:
    return Settings(job_seconds=4.0)


def make(store: Store, settings: Settings, now: float = T0, **body: object) -> jobs.JobRecord:
    payload = {"model": "qwen3-8b", "training_file_ids": ["f1"], **body}
    return jobs.create_job(store, settings, now, WS, payload)


def test_time_formats() -> None:
    assert job_time(T0) == "2025-11-27 20:33:15"
    assert iso_time(T0) == "2025-11-27T20:33:15"
    assert id_stamp(T0) == "202511272033"


def test_manual_clock_only_moves_when_advanced() -> None:
    clock = Clock(manual=True, start=T0)
    assert clock.now() == T0
    assert clock.advance(5) == T0 + 5
    with pytest.raises(ValueError):
        clock.advance(-1)


def test_job_id_format_and_timeline(store: Store, settings: Settings) -> None:
    job = make(store, settings)
    assert job.job_id.startswith("ft-202511272033-") and len(job.job_id) == len(
        "ft-202511272033-8ae7"
    )
    assert job.status == "PENDING"
    jobs.refresh_jobs(store, settings, T0 + 0.9)
    assert job.status == "PENDING"
    jobs.refresh_jobs(store, settings, T0 + 1.0)
    assert job.status == "RUNNING" and job.started_at == T0 + 1.0
    jobs.refresh_jobs(store, settings, T0 + 4.9)
    assert job.status == "RUNNING"
    jobs.refresh_jobs(store, settings, T0 + 5.0)
    assert job.status == "SUCCEEDED" and job.ended_at == T0 + 5.0


def test_queue_is_fifo_and_back_to_back_after_a_big_jump(store: Store, settings: Settings) -> None:
    a, b, c = (make(store, settings, T0 + i * 0.1) for i in range(3))
    jobs.refresh_jobs(store, settings, T0 + 2)
    assert [a.status, b.status, c.status] == ["RUNNING", "QUEUING", "QUEUING"]
    jobs.refresh_jobs(store, settings, T0 + 100)  # one jump replays everything in order
    assert all(j.status == "SUCCEEDED" for j in (a, b, c))
    assert b.started_at == a.ended_at and c.started_at == b.ended_at
    assert sum(1 for j in (a, b, c) if j.held_slot) == 0


def test_unsupported_training_type_fails_after_validation(store: Store, settings: Settings) -> None:
    job = make(store, settings, training_type="cpt")  # qwen3-8b has no cpt
    jobs.refresh_jobs(store, settings, T0 + 1)
    assert job.status == "FAILED" and job.code == "UnsupportedOperation"
    assert "cpt" in (job.message or "")
    assert jobs.job_object(job)["end_time"]


def test_cancel_frees_the_slot_for_the_next_job(store: Store, settings: Settings) -> None:
    a, b = make(store, settings), make(store, settings)
    jobs.refresh_jobs(store, settings, T0 + 2)
    jobs.cancel_job(a, T0 + 2)
    assert a.status == "CANCELING"
    jobs.refresh_jobs(store, settings, T0 + 3)
    assert a.status == "CANCELED" and b.status == "RUNNING" and b.started_at == T0 + 3
    obj = jobs.job_object(a)
    assert isinstance(obj["usage"], int) and obj["usage"] < a.train_tokens * a.n_epochs
    with pytest.raises(ApiError) as err:
        jobs.cancel_job(a, T0 + 3)
    assert err.value.code == "UnsupportedOperation"


def test_usage_is_tokens_times_epochs(store: Store, settings: Settings) -> None:
    job = make(store, settings, hyper_parameters={"n_epochs": 2})
    jobs.refresh_jobs(store, settings, T0 + 10)
    assert jobs.job_object(job)["usage"] == 1000 * 2  # 4000 bytes / 4


def test_checkpoints_per_epoch_and_limit(store: Store, settings: Settings) -> None:
    hp = {"n_epochs": 4, "batch_size": 10, "save_total_limit": 3}
    job = make(store, settings, hyper_parameters=hp)
    jobs.refresh_jobs(store, settings, T0 + 3)  # half way through
    assert [c.step for c in job.checkpoints] == [10, 20]
    jobs.refresh_jobs(store, settings, T0 + 10)
    assert [c.step for c in job.checkpoints] == [20, 30, 40]  # newest 3 kept
    items = jobs.checkpoint_objects(job, T0 + 10, 2.0)
    assert [i["step"] for i in items] == [40, 30, 20]
    assert items[0]["model_name"] == job.finetuned_output and items[0]["status"] == "SUCCEEDED"
    assert items[1]["status"] == "PENDING"
    assert jobs.job_object(job)["output_cnt"] == 3


def test_checkpoints_by_steps(store: Store, settings: Settings) -> None:
    hp = {"n_epochs": 1, "batch_size": 10, "save_strategy": "steps", "save_steps": 4}
    job = make(store, settings, hyper_parameters=hp)
    jobs.refresh_jobs(store, settings, T0 + 10)
    assert [c.step for c in job.checkpoints] == [4, 8, 10]


def test_logs_grow_and_loss_falls(store: Store, settings: Settings) -> None:
    job = make(store, settings)
    jobs.refresh_jobs(store, settings, T0 + 2)
    early = len(job.logs)
    jobs.refresh_jobs(store, settings, T0 + 10)
    assert len(job.logs) > early
    losses = [float(line.split("loss ")[1].split()[0]) for line in job.logs if "loss " in line]
    assert losses == sorted(losses, reverse=True) and losses[0] > losses[-1]
    assert jobs.logs_page(job, 0, 2)["logs"] == jobs.logs_page(job, 1, 2)["logs"]
    assert jobs.logs_page(job, 2, 1)["logs"] == [job.logs[1]]


def test_fail_and_extend(store: Store, settings: Settings) -> None:
    a = make(store, settings)
    jobs.refresh_jobs(store, settings, T0 + 2)
    jobs.extend_job(a, 10)
    jobs.refresh_jobs(store, settings, T0 + 6)
    assert a.status == "RUNNING"
    jobs.fail_job(store, a, T0 + 6, "X", "boom", "end")
    jobs.refresh_jobs(store, settings, T0 + 15)
    assert a.status == "FAILED" and (a.code, a.message) == ("X", "boom")
    assert "usage" not in jobs.job_object(a)


def test_twenty_job_limit(store: Store, settings: Settings) -> None:
    for _ in range(settings.max_jobs):
        make(store, settings)
    with pytest.raises(ApiError) as err:
        make(store, settings)
    assert err.value.status == 429 and err.value.code == "Throttling"


def test_second_efficient_fine_tune_must_keep_lora(store: Store, settings: Settings) -> None:
    first = make(store, settings, training_type="efficient_sft", hyper_parameters={"lora_rank": 16})
    jobs.refresh_jobs(store, settings, T0 + 10)
    same = make(
        store,
        settings,
        T0 + 10,
        model=first.finetuned_output,
        training_type="efficient_sft",
        hyper_parameters={"lora_rank": 16},
    )
    other = make(
        store,
        settings,
        T0 + 10,
        model=first.finetuned_output,
        training_type="efficient_sft",
        hyper_parameters={"lora_rank": 32},
    )
    assert same.base_model == "qwen3-8b"
    jobs.refresh_jobs(store, settings, T0 + 30)
    assert same.status == "SUCCEEDED"
    assert other.status == "FAILED" and other.code == "InvalidParameter"
    assert "lora_rank" in (other.message or "")
