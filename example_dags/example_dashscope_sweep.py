"""A hyperparameter sweep that chooses, checks and promotes: a grid of 4 LoRA settings,
the member with the lowest validation loss, evaluated against the model in production, then
promoted into the DAG's serving slot with a smoke test and rollback.

    prepare ─> upload training + upload validation ─> preflight (quota, budget, parameters)
        ─> fine-tune x 4 (one per setting; they queue for the service's single training slot)
        ─> choose (lowest validation loss; the losers' jobs retired)
        ─> candidate deployment ─> evaluate (candidate vs production, held-out examples)
        ─> promote into the "production" slot (deploy beside, smoke-test, switch)
        ─> retention                                  (candidate removed in any case)

* The grid is checked whole before any job exists: ``preflight`` refuses a grid whose
  members do not fit the account's free fine-tune job slots (20 running or succeeded) or the
  budget (the sum of the members' estimates), naming what to change.
* ``choose`` reads every member, failed ones included, logs the comparison table and deletes
  the losers' jobs (never one whose model is deployed). Its Fine-tuning tab overlays the
  members' loss curves, the chosen one marked.
* ``evaluate`` scores the candidate and the model in production (the base model on a first
  run) on the same held-out examples; the promotion runs only if the candidate beats it with
  95 % confidence (``on_fail="skip"``): a worse candidate leaves production as it is.
* Run it from the UI, optionally with conf ``{"train": url, "validation": url, "heldout":
  url}`` (ChatML JSONL, local paths or object storage URLs); without conf it splits the
  packaged sample.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pendulum
from airflow.sdk import DAG, ObjectStoragePath, task

from airflow_dashscope.operators import (
    DashScopeDeleteDeploymentOperator,
    DashScopeDeployModelOperator,
    DashScopeEvaluateModelOperator,
    DashScopeFineTuneOperator,
    DashScopePromoteModelOperator,
    DashScopeRetentionOperator,
    DashScopeSelectBestFineTuneOperator,
    DashScopeSweepPreflightOperator,
    DashScopeUploadFileOperator,
)

BASE_MODEL = "qwen3-8b"
SLOT = "production"
TRAINING_TYPE = "efficient_sft"
#: Four settings around the recommended LoRA learning rate (1e-4); the last is far too high
#: (the training diverges: its validation loss stays high and it loses the sweep).
LORA = {"batch_size": 4, "max_length": 2048, "lora_rank": 8, "lora_alpha": 32}
GRID = [
    {**LORA, "n_epochs": 2, "learning_rate": 1e-4},
    {**LORA, "n_epochs": 4, "learning_rate": 1e-4},
    {**LORA, "n_epochs": 4, "learning_rate": 3e-4},
    {**LORA, "n_epochs": 4, "learning_rate": 1e-2},
]
SAMPLE = Path(__file__).parent / "data" / "support_sample.jsonl"
DATA_URL = os.environ.get("DASHSCOPE_EXAMPLE_DATA_URL", "file:///tmp/dashscope-example-data")
POLL = float(os.environ.get("DASHSCOPE_EXAMPLE_POLL_SECONDS", "30"))
WAITING = {"deferrable": True, "poll_interval": POLL}


def split(lines: list[str]) -> dict[str, list[str]]:
    """Training, validation and held-out examples (a fixed split: 4 in 6 train)."""
    parts: dict[str, list[str]] = {"train": [], "validation": [], "heldout": []}
    for i, line in enumerate(lines):
        part = {2: "validation", 5: "heldout"}.get(i % 6, "train")
        parts[part].append(line)
    return parts


with DAG(
    dag_id="example_dashscope_sweep",
    description="Train a grid of 4, keep the best, promote it if it beats production",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,  # one promotion into the slot at a time
    tags=["dashscope", "example", "sweep"],
    default_args={"retries": 2},
) as dag:

    @task(multiple_outputs=True)
    def prepare(*, run_id: str, dag_run: Any = None) -> dict[str, str]:
        """The conf's files, or the packaged sample split three ways."""
        conf = dict(getattr(dag_run, "conf", None) or {})
        if conf:
            missing = [key for key in ("train", "validation", "heldout") if not conf.get(key)]
            if missing:
                raise ValueError(
                    f"conf lacks {', '.join(missing)}: give "
                    '{"train": url, "validation": url, "heldout": url}, or no conf at all.'
                )
            return {key: conf[key] for key in ("train", "validation", "heldout")}
        lines = [line for line in SAMPLE.read_text().splitlines() if line.strip()]
        folder = ObjectStoragePath(DATA_URL) / "sweep" / run_id.replace(":", "-")
        folder.mkdir(parents=True, exist_ok=True)
        urls = {}
        for part, part_lines in split(lines).items():
            path = folder / f"{part}.jsonl"
            path.write_text("\n".join(part_lines) + "\n")
            urls[part] = str(path)
        return urls

    @task
    def production() -> str:
        """The model serving the slot now (the base model before the first promotion)."""
        from airflow_dashscope.hooks import DashScopeHook
        from airflow_dashscope.operators.promotion_slot import serving_in_slot

        holder = serving_in_slot(DashScopeHook().get_conn(), SLOT)
        return holder.deployed_model if holder else BASE_MODEL

    data = prepare()
    upload = DashScopeUploadFileOperator(
        task_id="upload", file_path=data["train"], training_type=TRAINING_TYPE
    )
    upload_validation = DashScopeUploadFileOperator(
        task_id="upload_validation",
        file_path=data["validation"],
        training_type=TRAINING_TYPE,
    )
    preflight = DashScopeSweepPreflightOperator(
        task_id="preflight",
        grid=GRID,
        model=BASE_MODEL,
        training_type=TRAINING_TYPE,
        training_tokens=upload.output["training_tokens"],
        max_billed_tokens=2_000_000,
        fine_tune_task_id="fine_tune",
    )
    fine_tune = DashScopeFineTuneOperator.partial(
        task_id="fine_tune",
        model=BASE_MODEL,
        training_file_ids=upload.output,
        validation_file_ids=upload_validation.output,
        training_tokens=upload.output["training_tokens"],
        training_type=TRAINING_TYPE,
        job_name="sweep",
        **WAITING,
    ).expand(hyper_parameters=preflight.output)
    choose = DashScopeSelectBestFineTuneOperator(
        task_id="choose", candidates=fine_tune.output, metric="best_val_loss"
    )
    candidate = DashScopeDeployModelOperator(
        task_id="deploy_candidate",
        model_name=choose.output["finetuned_output"],
        name="candidate",
        announce=False,
        **WAITING,
    )
    serving = production()
    evaluate = DashScopeEvaluateModelOperator(
        task_id="evaluate",
        heldout_path=data["heldout"],
        models={"candidate": candidate.output["deployed_model"], "production": serving},
        scorers=["token_f1", "rouge_l", "exact_match"],
        must_beat="production",
        on_fail="skip",
    )
    promote = DashScopePromoteModelOperator(
        task_id="promote",
        model_name=choose.output["finetuned_output"],
        slot=SLOT,
        smoke_test="What is Apache Airflow?",
        expect="Airflow",
        evaluation=evaluate.output,
        **WAITING,
    )
    remove_candidate = DashScopeDeleteDeploymentOperator(
        task_id="remove_candidate", deployed_model=candidate.output["deployed_model"]
    ).as_teardown(setups=candidate)
    retain = DashScopeRetentionOperator(
        task_id="retain",
        keep_models=2,
        delete_deployments=True,
        keep_deployments=[SLOT],
        trigger_rule="none_failed",
    )
    evaluate >> promote >> remove_candidate >> retain
