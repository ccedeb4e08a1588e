"""The training-log parser on the vendor page's own sample, and without emulator-only lines.

``VENDOR_PAGE_LINES`` is the ``logs`` array of the response sample of "get fine-tune job
logs" in the training API reference (vendor-docs-zh/model-training-api-reference.md),
verbatim.
"""

from __future__ import annotations

import json

import pytest

from airflow_dashscope.waiting.remote_log import remote_log_line
from airflow_dashscope.waiting.training_log import summarize

VENDOR_PAGE_LINES = [
    "{'train_runtime': 216.3999, 'train_samples_per_second': 2.066, 'train_steps_per_second': "
    "0.014, 'train_loss': 0.9122632344563802, 'epoch': 0.8571428571428571}",
    " Actual number of consumed tokens is 279808!",
    " Uploaded checkpoint!",
    " Fine-tune succeeded!",
    " use checkpoint-3 as final checkpoint",
    "2024-10-29 17:03:47,719 - INFO - transfer for inference succeeded, start to deliver it "
    "for inference",
    "2024-10-29 17:09:43,322 - INFO - start to save checkpoint",
    "2024-10-29 17:11:24,689 - INFO - finetune-job succeeded",
    "2024-10-29 17:11:25,130 - INFO - training usage 279808",
    "2024-10-29 17:11:25,175 - INFO - ##FT_COMPLETE##",
]

#: Per-step records of the same trainer (the final record's shape), no emulator line.
TRAINER_RECORDS = [
    "{'loss': 1.4, 'grad_norm': 2.0, 'learning_rate': 1e-05, 'epoch': 0.29}",
    "2024-10-29 17:05:01,000 - INFO - {'loss': 1.1, 'learning_rate': 9e-06, 'epoch': 0.57}",
    "{'eval_loss': 1.2, 'eval_runtime': 3.1, 'epoch': 0.57}",
    "{'loss': 0.95, 'learning_rate': 8e-06, 'epoch': 0.86}",
]


def test_the_vendor_sample_gives_its_figures() -> None:
    summary = summarize(VENDOR_PAGE_LINES)
    assert summary.points == [] and summary.steps is None
    assert summary.consumed_tokens == 279808
    assert summary.final_checkpoint == "checkpoint-3"
    assert summary.average_loss == pytest.approx(0.9122632344563802)
    assert summary.finished_at == "2024-10-29 17:11:24"  # "finetune-job succeeded"


def test_the_vendor_sample_implies_its_step_total() -> None:
    """No line states a total; 216.3999 s at 0.014 steps/s is 3 steps (checkpoint-3)."""
    summary = summarize(VENDOR_PAGE_LINES)
    assert summary.total_steps == 3 and summary.total_steps_derived
    assert summary.total_epochs is None and summary.steps_per_epoch is None
    assert summary.to_dict()["total_steps_derived"] is True


def test_without_a_final_record_the_total_is_left_out() -> None:
    summary = summarize(VENDOR_PAGE_LINES[1:])
    assert summary.total_steps is None and not summary.total_steps_derived
    assert summary.consumed_tokens == 279808


def test_a_stated_total_wins_over_the_implied_one() -> None:
    summary = summarize(["step 4/9 epoch 2/3 loss 0.8", *VENDOR_PAGE_LINES])
    assert summary.total_steps == 9 and not summary.total_steps_derived


def test_trainer_records_without_emulator_lines_make_a_curve() -> None:
    summary = summarize(TRAINER_RECORDS + VENDOR_PAGE_LINES)
    assert [(p.step, p.train_loss, p.val_loss) for p in summary.points] == [
        (1, 1.4, None),
        (2, 1.1, 1.2),
        (3, 0.95, None),
    ]
    assert summary.steps_counted and summary.steps == 3 and summary.total_steps == 3
    assert summary.final_loss == 0.95 == summary.best_loss
    assert summary.started_at == "2024-10-29 17:05:01"
    assert json.loads(json.dumps(summary.to_dict(points=True)))["logged_points"] == 3


def test_the_vendor_stamps_are_shown_in_utc() -> None:
    assert remote_log_line(VENDOR_PAGE_LINES[7]) == (
        "2024-10-29T09:11:24.689Z - INFO - finetune-job succeeded"
    )
    assert remote_log_line(VENDOR_PAGE_LINES[1]) == VENDOR_PAGE_LINES[1]
