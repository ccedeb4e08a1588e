"""The honest-cost claim over the wire: the upload's estimate x epochs is what the job bills.

Each data set (the example DAGs' data and the shapes the tests use) is validated and uploaded
by the upload operator, trained by the fine-tune operator on the emulator (which bills by the
pages' formula, independently of the provider), and the job's ``usage`` is compared with the
estimate: within 3 % (docs/cost.md records the figures; with Qwen's tokenizer they agree).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from airflow_dashscope.emulator.runner import RunningEmulator
from airflow_dashscope.exceptions import OverBudgetError
from airflow_dashscope.operators import DashScopeUploadFileOperator
from tests.operators.conftest import SFT_LINE
from tests.operators.helpers import execute, fine_tune, run

pytest.importorskip("tiktoken")
ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_DATA = sorted((ROOT / "example_dags" / "data").glob("*.jsonl"))
TOLERANCE = 0.03

ZH = {
    "messages": [
        {"role": "system", "content": "你是一名简洁的数据工程助手。"},
        {"role": "user", "content": "什么是有向无环图（DAG）？"},  # noqa: RUF001 (real Chinese punctuation)
        {"role": "assistant", "content": "DAG 描述任务以及它们之间的依赖关系，不含环。"},  # noqa: RUF001
    ]
}
DPO = {
    "messages": [{"role": "user", "content": "Pick a colour for the dashboard."}],
    "chosen": {"role": "assistant", "content": "Blue: it reads well in both themes."},
    "rejected": {"role": "assistant", "content": "No."},
}
CPT = {"text": "Apache Airflow schedules workflows. 它以代码定义工作流。" * 3}


def lines_of(path: Path) -> list[str]:
    return [line for line in path.read_text().splitlines() if line.strip()]


#: (name, JSONL lines, training type, model): every shape the validator counts.
DATASETS = [
    *((path.name, lines_of(path), "sft", "qwen3-8b") for path in EXAMPLE_DATA),
    ("operator tests' SFT", [SFT_LINE] * 16, "sft", "qwen3-8b"),
    ("Chinese SFT", [json.dumps(ZH, ensure_ascii=False)] * 8, "sft", "qwen3-8b"),
    ("SFT on qwen2.5 (its default system)",
     [json.dumps({"messages": ZH["messages"][1:]}, ensure_ascii=False)] * 8,
     "sft", "qwen2.5-7b-instruct"),
    ("DPO", [json.dumps(DPO)] * 8, "dpo_full", "qwen3-8b"),
    ("CPT", [json.dumps(CPT, ensure_ascii=False)] * 8, "cpt", "qwen3-30b-a3b-instruct-2507"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("name", "lines", "training_type", "model"), DATASETS, ids=[d[0] for d in DATASETS]
)
def test_the_estimate_is_what_the_emulator_bills(
    name: str,
    lines: list[str],
    training_type: str,
    model: str,
    tmp_path: Path,
    make_context: Any,
    emu: RunningEmulator,
    clock_running: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    data = tmp_path / "train.jsonl"
    data.write_text("\n".join(lines) + "\n", encoding="utf-8")
    epochs = 2
    upload_context = make_context("upload")
    upload = DashScopeUploadFileOperator(
        task_id="upload",
        file_path=str(data),
        training_type=training_type,
        n_epochs=str(epochs),
        model=model,
    )
    file_id = execute(upload, upload_context)
    per_epoch = upload_context["ti"].xcom("training_tokens")
    op = fine_tune(
        file_id,
        model=model,
        training_type=training_type,
        training_tokens=per_epoch,
        hyper_parameters={"n_epochs": epochs, "batch_size": 8, "max_length": 1024},
    )
    result = run(op, make_context())
    assert result["status"] == "SUCCEEDED"
    estimate, billed = result["estimated_tokens"], result["usage"]
    assert estimate == per_epoch * epochs and billed == result["billed_tokens"]
    assert abs(estimate - billed) <= TOLERANCE * billed, (name, estimate, billed)
    assert result["billed_cost"] is not None and result["estimated_cost"] is not None
    log = capsys.readouterr().out
    assert "tokens counted by: Qwen tokenizer" in log
    assert re.search(rf"Estimated training tokens: {per_epoch} tokens per epoch", log)
    assert re.search(rf"billed {billed} tokens \(estimated: {estimate}\): about ¥", log)


def test_max_cost_stops_the_job_before_it_is_paid_for(
    file_id: str, make_context: Any, emu: RunningEmulator, capsys: pytest.CaptureFixture[str]
) -> None:
    """1,000,000 tokens x 2 epochs of qwen3-8b at ¥0.006 per 1,000: ¥12 over a ¥10 budget."""
    op = fine_tune(
        file_id,
        training_tokens=1_000_000,
        max_cost="10",
        hyper_parameters={"n_epochs": 2, "batch_size": 8, "max_length": 1024},
    )
    with pytest.raises(OverBudgetError, match=r"about ¥12\.00 .* exceeds max_cost \(¥10\)"):
        execute(op, make_context())
    assert emu.counters()["jobs_created"] == 0


def test_a_resume_without_the_deferral_kwargs_still_reports_the_estimate() -> None:
    """``dag.test()`` resumes a deferred task with the trigger's event only (not the kwargs
    it deferred with): the estimate must come from the operator's fields, not from them."""
    from airflow_dashscope.operators import DashScopeFineTuneOperator

    operator = DashScopeFineTuneOperator(
        task_id="ft_resumed",
        model="qwen3-8b",
        training_file_ids=["file-ft-1"],
        hyper_parameters={"n_epochs": 3, "batch_size": 4, "max_length": 2048},
        training_tokens=1608,
    )
    job = {"job_id": "ft-1", "status": "SUCCEEDED", "usage": 4824, "model": "qwen3-8b"}
    done = operator.compact(job)
    assert done["estimated_tokens"] == 4824
    assert done["estimated_cost"] is not None
