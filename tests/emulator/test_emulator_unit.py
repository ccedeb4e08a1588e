"""Pure unit tests of the job state machine and the store, with a manual clock (no HTTP)."""

# ruff: noqa: RUF003  (quotes the vendor's Chinese pages)

from __future__ import annotations

import json
from pathlib import Path

import pytest

from airflow_dashscope.emulator import checkpoints, jobs
from airflow_dashscope.emulator.clock import Clock, gmt_time, id_stamp, iso_time, job_time
from airflow_dashscope.emulator.errors import ApiError
from airflow_dashscope.emulator.job_create import create_job
from airflow_dashscope.emulator.settings import Settings
from airflow_dashscope.emulator.state import FileRecord, Store

WS = "llm-test"
SCOPE = ("cn-beijing", WS)
T0 = 1_764_246_795.0  # 2025-11-27 20:33:15 Beijing


def new_store(tmp_path: Path, persistent: bool = False) -> Store:
    s = Store(tmp_path, persistent=persistent)
    s.files.add(
        FileRecord("f1", 1001, *SCOPE, "a.jsonl", "", "fine-tune", 4000, "x", T0, 100, "sk-1")
    )
    return s


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return new_store(tmp_path)


@pytest.fixture
def settings() -> Settings:
    return Settings(job_seconds=4.0)


def make(store: Store, settings: Settings, now: float = T0, **body: object) -> jobs.JobRecord:
    payload = {"model": "qwen3-8b", "training_file_ids": ["f1"], **body}
    return create_job(store, settings, now, SCOPE, payload)


def test_time_formats() -> None:
    assert job_time(T0) == "2025-11-27 20:33:15"
    assert iso_time(T0) == "2025-11-27T20:33:15"
    # model-deployment-api.md samples: "2025-06-17T11:00:38.68", "2025-06-17T11:06:13".
    assert gmt_time(T0 + 0.68) == "2025-11-27T20:33:15.68"
    assert gmt_time(T0 + 0.405) == "2025-11-27T20:33:15.405"
    assert gmt_time(T0) == "2025-11-27T20:33:15"
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
    assert store.slot_holder is None


def test_unsupported_training_type_fails_after_validation(store: Store, settings: Settings) -> None:
    job = make(store, settings, training_type="cpt")  # qwen3-8b has no cpt
    jobs.refresh_jobs(store, settings, T0 + 1)
    assert job.status == "FAILED" and job.code == "UnsupportedOperation"
    assert "cpt" in (job.message or "")
    assert jobs.job_object(job)["end_time"]


def test_cancel_frees_the_slot_for_the_next_job(store: Store, settings: Settings) -> None:
    a, b = make(store, settings), make(store, settings)
    jobs.refresh_jobs(store, settings, T0 + 2)
    jobs.cancel_job(store, settings, a, T0 + 2)
    assert a.status == "CANCELING"
    jobs.refresh_jobs(store, settings, T0 + 3)
    assert a.status == "CANCELED" and b.status == "RUNNING" and b.started_at == T0 + 3
    # model-training-api-reference.md, the CANCELED job of the list sample:
    # "code": "1", ... "usage": 0
    obj = jobs.job_object(a)
    assert (obj["code"], obj["usage"]) == ("1", 0)
    assert "finetuned_output" not in obj
    with pytest.raises(ApiError) as err:
        jobs.cancel_job(store, settings, a, T0 + 3)
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
    items = checkpoints.checkpoint_objects(job, T0 + 10, 2.0)
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
    records = [line for line in job.logs if "'loss'" in line]
    losses = [float(line.split("'loss': ")[1].split(",")[0]) for line in records]
    assert losses == sorted(losses, reverse=True) and losses[0] > losses[-1]
    # model-training-api-reference.md: "忽略前offset行输出，从第offset+1行开始读取" and
    # "不能超过当前已有输出的总行数，超过则不会有输出信息返回".
    assert jobs.logs_page(job, 0, 2)["logs"] == job.logs[:2]
    assert jobs.logs_page(job, 1, 2)["logs"] == job.logs[1:3]
    assert jobs.logs_page(job, 2, 1)["logs"] == [job.logs[2]]
    assert jobs.logs_page(job, len(job.logs), 5) == {"total": len(job.logs), "logs": []}


def test_fail_and_extend(store: Store, settings: Settings) -> None:
    a = make(store, settings)
    jobs.refresh_jobs(store, settings, T0 + 2)
    jobs.extend_job(store, settings, a, 10)
    jobs.refresh_jobs(store, settings, T0 + 6)
    assert a.status == "RUNNING"
    jobs.fail_job(store, settings, a, T0 + 6, "X", "boom", "end")
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
    assert first.status == "SUCCEEDED"
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


def test_finished_jobs_leave_the_schedule(store: Store, settings: Settings) -> None:
    """A request's cost does not grow with finished jobs: only jobs in progress are scheduled,
    and the status index answers the account-limit count without a scan."""
    settings.max_jobs = 1000
    done = [make(store, settings, T0 + i * 0.01) for i in range(30)]
    jobs.refresh_jobs(store, settings, T0 + 1000)
    assert {j.status for j in done} == {"SUCCEEDED"}
    assert store.job_events == [] and store.job_queue == []
    assert store.jobs.count("SUCCEEDED") == 30 and store.jobs.count(*jobs.IN_PROGRESS) == 0
    fresh = make(store, settings, T0 + 1000)
    assert [e[3] for e in store.job_events] == [fresh.job_id]


def test_stale_events_are_skipped_after_cancel_and_extend(store: Store, settings: Settings) -> None:
    a = make(store, settings)
    jobs.refresh_jobs(store, settings, T0 + 2)
    jobs.extend_job(store, settings, a, 100)  # the old end event no longer applies
    jobs.refresh_jobs(store, settings, T0 + 6)
    assert a.status == "RUNNING"
    jobs.cancel_job(store, settings, a, T0 + 6)
    jobs.refresh_jobs(store, settings, T0 + 7)
    assert a.status == "CANCELED" and a.ended_at == T0 + 7
    jobs.refresh_jobs(store, settings, T0 + 500)
    assert a.status == "CANCELED" and a.ended_at == T0 + 7


def test_only_changed_records_are_written(tmp_path: Path, settings: Settings) -> None:
    """No rewrite of the whole state: a create writes one job file, a tick writes nothing."""
    store = new_store(tmp_path, persistent=True)
    settings.max_jobs = 1000
    first = [make(store, settings) for _ in range(5)]
    store.flush()
    folder = tmp_path / "jobs"
    assert len(list(folder.glob("*.json"))) == 5
    for path in folder.glob("*.json"):  # mark each file: a rewrite would drop the mark
        path.write_text(json.dumps({**json.loads(path.read_text()), "mark": True}))
    extra = make(store, settings)
    store.flush()
    jobs.refresh_jobs(store, settings, T0 + 0.5)  # time passes, nothing due
    store.flush()
    marked = {p.stem for p in folder.glob("*.json") if json.loads(p.read_text()).get("mark")}
    assert marked == {j.job_id for j in first}
    assert (folder / f"{extra.job_id}.json").exists()
    reloaded = Store(tmp_path, persistent=True)
    assert reloaded.load()
    assert {j.job_id for j in reloaded.jobs} == {j.job_id for j in [*first, extra]}
    assert reloaded.jobs.count("PENDING") == 6
