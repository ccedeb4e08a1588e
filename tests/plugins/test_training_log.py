"""The log parser over every log shape: the emulator's (read over the wire) and the vendor's."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from airflow_dashscope.client import DashScopeClient
from airflow_dashscope.client.config import ClientConfig, Secret
from airflow_dashscope.emulator import run_emulator
from airflow_dashscope.emulator.runner import RunningEmulator
from airflow_dashscope.waiting.training_log import summarize

SFT_LINE = json.dumps(
    {
        "messages": [
            {"role": "user", "content": "What is Airflow?"},
            {"role": "assistant", "content": "A workflow scheduler."},
        ]
    }
)

# The log sample of the vendor's "get fine-tune job logs" page (model-training-api-reference).
VENDOR_LINES = [
    "{'train_runtime': 216.3999, 'train_samples_per_second': 2.066, 'train_steps_per_second': "
    "0.014, 'train_loss': 0.9122632344563802, 'epoch': 0.8571428571428571}",
    " Actual number of consumed tokens is 279808!",
    " Uploaded checkpoint!",
    " Fine-tune succeeded!",
    " use checkpoint-3 as final checkpoint",
    "2024-10-29 17:03:47,719 - INFO - transfer for inference succeeded, start to deliver it",
    "2024-10-29 17:09:43,322 - INFO - start to save checkpoint",
    "2024-10-29 17:11:24,689 - INFO - finetune-job succeeded",
    "2024-10-29 17:11:25,130 - INFO - training usage 279808",
    "2024-10-29 17:11:25,175 - INFO - ##FT_COMPLETE##",
]

# The trainer's per-step records (the shape of the vendor's final record), with evaluation.
TRAINER_LINES = [
    "{'loss': 2.1, 'grad_norm': 3.2, 'learning_rate': 1e-05, 'epoch': 0.33}",
    "{'loss': 1.6, 'grad_norm': 2.9, 'learning_rate': 9e-06, 'epoch': 0.67}",
    "{'eval_loss': 1.7, 'eval_runtime': 1.2, 'eval_samples_per_second': 8.0, 'epoch': 0.67}",
    "2024-10-29 17:05:01,000 - INFO - {'loss': 1.2, 'learning_rate': 8e-06, 'epoch': 1.0}",
    "{'eval_loss': 1.5, 'epoch': 1.0}",
    "{'train_runtime': 30.0, 'train_loss': 1.63, 'epoch': 1.0}",
]


@pytest.fixture(scope="module")
def emulator() -> Iterator[RunningEmulator]:
    with run_emulator(manual_clock=True) as running:
        yield running


@pytest.fixture
def client(emulator: RunningEmulator) -> Iterator[DashScopeClient]:
    emulator.reset()
    config = ClientConfig(api_key=Secret(emulator.api_key), base_url=emulator.base_url)
    with DashScopeClient(config) as client:
        yield client


def _start_job(client: DashScopeClient, tmp_path: Path, **hyper: int) -> str:
    data = tmp_path / "train.jsonl"
    data.write_text("\n".join([SFT_LINE] * 40) + "\n")
    file_id = client.upload_file(str(data))
    params = {"n_epochs": 3, "batch_size": 8, "max_length": 1024, **hyper}
    return client.create_fine_tune("qwen3-8b", [file_id], hyper_parameters=params).job_id


def _all_logs(client: DashScopeClient, job_id: str) -> list[str]:
    return list(client.get_fine_tune_logs(job_id, offset=1, line=1000).logs)


def test_emulator_log_has_one_point_per_logged_step(
    client: DashScopeClient, emulator: RunningEmulator, tmp_path: Path
) -> None:
    job_id = _start_job(client, tmp_path, logging_steps=2)
    emulator.advance(3600)
    lines = _all_logs(client, job_id)
    step_lines = [line for line in lines if re.search(r"\bstep \d+/\d+", line)]
    summary = summarize(lines)

    assert len(summary.points) == len(step_lines) > 3
    logged = [int(re.search(r"step (\d+)/", line).group(1)) for line in step_lines]  # type: ignore[union-attr]
    assert [p.step for p in summary.points] == logged
    assert summary.total_steps == 15 and summary.steps == 15
    assert summary.total_epochs == 3 and summary.steps_per_epoch == 5
    assert summary.epochs == 3
    losses = [p.train_loss for p in summary.points]
    assert losses == sorted(losses, reverse=True)  # the emulator's loss falls
    assert summary.final_loss == losses[-1] == summary.best_loss
    assert summary.best_step == 15
    assert summary.saved_checkpoints == ["checkpoint-5", "checkpoint-10", "checkpoint-15"]
    assert summary.started_at is not None and summary.finished_at is not None
    assert summary.started_at <= summary.finished_at
    assert not summary.steps_counted


def test_a_running_jobs_curve_grows_with_its_log(
    client: DashScopeClient, emulator: RunningEmulator, tmp_path: Path
) -> None:
    job_id = _start_job(client, tmp_path, logging_steps=1)
    emulator.advance(emulator.settings.pending_seconds + 0.01)
    client.get_fine_tune(job_id)  # queued, then started
    seen = []
    for _ in range(4):
        emulator.advance(emulator.settings.job_seconds / 5)
        seen.append(len(summarize(_all_logs(client, job_id)).points))
    assert seen == sorted(seen) and seen[0] < seen[-1]
    assert client.get_fine_tune(job_id).status_name == "RUNNING"


def test_vendor_sample_gives_tokens_final_checkpoint_and_end() -> None:
    summary = summarize(VENDOR_LINES)
    assert summary.points == []  # the sample holds only the final record
    assert summary.consumed_tokens == 279808
    assert summary.final_checkpoint == "checkpoint-3"
    assert summary.average_loss == pytest.approx(0.91226, abs=1e-5)
    assert summary.finished_at == "2024-10-29 17:11:24"


def test_trainer_records_number_steps_and_pair_evaluations() -> None:
    summary = summarize(TRAINER_LINES)
    assert [(p.step, p.epoch, p.train_loss, p.val_loss) for p in summary.points] == [
        (1, 0.33, 2.1, None),
        (2, 0.67, 1.6, 1.7),
        (3, 1.0, 1.2, 1.5),
    ]
    assert summary.steps_counted
    assert summary.best_val_loss == 1.5 and summary.best_val_step == 3
    assert summary.final_val_loss == 1.5
    assert summary.average_loss == 1.63
    assert summary.started_at == "2024-10-29 17:05:01"


def test_json_records_with_steps_and_text_variants() -> None:
    lines = [
        '{"step": 10, "epoch": 0.5, "loss": 0.9, "learning_rate": 1e-5}',
        '{"step": 20, "epoch": 1.0, "loss": 0.7, "eval_loss": 0.8, "flag": true}',
        "2025-01-01 10:00:00 step=30/40 epoch=2/2 loss=0.6 val_loss=0.65",
        "step: 40/40, epoch: 2/2, training loss: 0.55, validation loss: 0.7",
    ]
    summary = summarize(lines)
    assert [(p.step, p.train_loss, p.val_loss) for p in summary.points] == [
        (10, 0.9, None),
        (20, 0.7, 0.8),
        (30, 0.6, 0.65),
        (40, 0.55, 0.7),
    ]
    assert summary.total_steps == 40 and summary.total_epochs == 2
    assert summary.best_val_loss == 0.65 and summary.best_val_step == 30
    assert not summary.steps_counted


def test_lines_without_figures_are_skipped() -> None:
    lines = [
        "",
        "2025-01-01 10:00:00 [INFO] Job ft-1 created: model=qwen3-8b",
        "{not a dict",
        "{'loss': 'nan'}",
        "[1, 2, 3]",
        "loss_weight is 1.0 for every row",
        "step 3/9 epoch 1/3 loss nan",
    ]
    summary = summarize(lines)
    assert summary.points == []
    assert summary.final_loss is None and summary.steps is None


def test_to_dict_is_json_and_points_are_optional() -> None:
    summary = summarize(TRAINER_LINES + VENDOR_LINES)
    small = summary.to_dict()
    assert "points" not in small
    assert small["final_loss"] == 1.2 and small["steps"] == 3
    assert small["consumed_tokens"] == 279808 and small["logged_points"] == 3
    full = json.loads(json.dumps(summary.to_dict(points=True)))
    assert [p["step"] for p in full["points"]] == [1, 2, 3]
