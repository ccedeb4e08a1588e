"""Scheduled retraining: each new training data set fine-tunes the model in production
further, evaluates the result against it on held-out examples and promotes it only if it is
not worse, with a smoke test and rollback.

Scheduled on the ``dashscope_example_training_data`` asset (``example_dashscope_etl``): the
triggering event's ``extra`` holds the URLs of the training and held-out files.

    slot "support-bot" ─┐ (its model, or the base model on a first run)
    data ─> upload ─> fine-tune (from production) ─> export ─> candidate deployment
                                                                   │
              evaluate: candidate vs production on held-out ───────┘
                   │ (not worse, with 95 % confidence)
                   └─> promote into the slot: deploy beside, smoke-test, switch
                       (the old deployment retired; a failed smoke test rolls back)
                                    (candidate removed in any case)
                                                                   │
                                   retention (on success, or when nothing new was trained)

* The slot ``support-bot`` is recorded in its deployments' suffix
  (``DashScopePromoteModelOperator``); ``serving_in_slot`` reads which one serves it. Only
  the promotion announces itself (``dashscope-deployments`` asset alias, with the
  evaluation's figures in ``extra``): ``example_dashscope_on_new_model`` smoke-tests each new
  production model once. The candidate is ``announce=False`` and torn down by this DAG.
* ``evaluate`` scores both models on the same held-out examples (token F1, ROUGE-L), writes
  the per-example results beside the data and passes when the candidate is not worse than
  production by more than ``MARGIN`` at 95 % confidence; otherwise it is skipped, and so is
  the promotion: production stays as it is. Its Fine-tuning tab shows the scores and the
  worst examples side by side.
* Clearing a run with the same data reuses the uploaded file, the trained job and the
  evaluation's answers; new data trains again. Data the production model already learned (a
  clear after promotion, or the same data published twice) trains nothing: the fine-tune
  returns the job that made the model, and ``something_new`` skips the evaluation and the
  deployments (see the README's "Retraining, retries and clears").
* ``retain`` keeps the account under its quotas (20 jobs running or succeeded, 100 files,
  5 GB) for a year of weekly runs: it keeps this DAG's newest ``KEEP_MODELS`` trained models
  (and always the one in production, the newest of the lineage the next run continues),
  deletes left-over deployments of this DAG except the slot's holder, and files no remaining
  job uses once older than ``KEEP_FILES_FOR``. It runs after the promotion, and also when the
  evaluation or ``something_new`` stopped it, never after a failure (see
  ``tests/soak/test_a_year.py`` and docs/production.md, "A year of weekly retraining").
"""

from __future__ import annotations

import os
from datetime import timedelta
from typing import Any

import pendulum
from airflow.sdk import DAG, Asset, task

from airflow_dashscope.operators import (
    DashScopeDeleteDeploymentOperator,
    DashScopeDeployModelOperator,
    DashScopeEvaluateModelOperator,
    DashScopeExportCheckpointOperator,
    DashScopeFineTuneOperator,
    DashScopePromoteModelOperator,
    DashScopeRetentionOperator,
    DashScopeUploadFileOperator,
)

BASE_MODEL = "qwen3-8b"
PRODUCTION = "support-bot"
#: Continuing a LoRA fine-tune needs the same LoRA settings every time.
HYPER_PARAMETERS = {
    "n_epochs": 1,
    "batch_size": 4,
    "max_length": 2048,
    "lora_rank": 8,
    "lora_alpha": 32,
}
#: How much worse than production (token F1, paired) the candidate may be and still serve.
MARGIN = -0.05
#: What the promoted model must answer before it replaces production.
SMOKE_TEST = {"prompt": "What is Apache Airflow?", "expect": "Airflow"}
#: Trained models of this DAG kept besides the one in production (a fallback to roll back to).
KEEP_MODELS = 2
#: Files no kept job uses are deleted once this old (a clear of a recent run reuses them).
KEEP_FILES_FOR = timedelta(days=14)
POLL = float(os.environ.get("DASHSCOPE_EXAMPLE_POLL_SECONDS", "30"))
#: The data set ``example_dashscope_etl`` publishes (same name and URL as there).
TRAINING_DATA = Asset(
    name="dashscope_example_training_data",
    uri=os.environ.get("DASHSCOPE_EXAMPLE_DATA_URL", "file:///tmp/dashscope-example-data"),
)
WAITING = {"deferrable": True, "poll_interval": POLL}


with DAG(
    dag_id="example_dashscope_retrain",
    description="Fine-tune the production model on new data; promote it if it is not worse",
    schedule=TRAINING_DATA,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    tags=["dashscope", "example", "retraining"],
    default_args={"retries": 2},
) as dag:

    @task(multiple_outputs=True)
    def training_data(triggering_asset_events: Any = None, dag_run: Any = None) -> dict[str, str]:
        """The newest data set among the events that started this run (a manual run names
        its files in its conf: ``{"train": url, "heldout": url}``)."""
        events = [e for batch in (triggering_asset_events or {}).values() for e in batch]
        if events:
            extra = max(events, key=lambda event: event.timestamp).extra
        else:
            extra = dict(getattr(dag_run, "conf", None) or {})
        if not extra.get("train") or not extra.get("heldout"):
            raise ValueError(
                "No training data: run this DAG from the dashscope_example_training_data "
                'asset (example_dashscope_etl), or with conf {"train": url, "heldout": url}.'
            )
        return {"train": extra["train"], "heldout": extra["heldout"]}

    @task(multiple_outputs=True)
    def production() -> dict[str, str]:
        """What serves the slot now (the base model on a first run): the model to continue
        from and the one to evaluate the candidate against."""
        from airflow_dashscope.hooks import DashScopeHook
        from airflow_dashscope.operators import serving_in_slot

        current = serving_in_slot(DashScopeHook().get_conn(), PRODUCTION)
        if current is None:
            return {"model": BASE_MODEL, "baseline": BASE_MODEL}
        return {"model": str(current.model_name), "baseline": current.deployed_model}

    data = training_data()
    serving = production()

    upload = DashScopeUploadFileOperator(
        task_id="upload",
        file_path=data["train"],
        training_type="efficient_sft",
        n_epochs=HYPER_PARAMETERS["n_epochs"],
    )
    fine_tune = DashScopeFineTuneOperator(
        task_id="fine_tune",
        model=serving["model"],
        training_file_ids=upload.output,
        training_tokens=upload.output["training_tokens"],
        training_type="efficient_sft",
        hyper_parameters=HYPER_PARAMETERS,
        job_name="retrain",
        max_billed_tokens=5_000_000,
        **WAITING,
    )
    export = DashScopeExportCheckpointOperator(
        task_id="export",
        job_id=fine_tune.output["job_id"],
        model_name="support-bot-{{ dag_run.run_after.strftime('%Y%m%d%H%M') }}",
        **WAITING,
    )

    # Skips only the candidate: the skip then flows by trigger rules, so the retention
    # (none_failed) still runs when nothing new was trained.
    @task.short_circuit(ignore_downstream_trigger_rules=False)
    def something_new(model_name: str, current: str) -> bool:
        """False when training returned the production model itself (it already learned this
        data): nothing to evaluate or deploy, so the rest of the run is skipped."""
        if model_name == current:
            print(f"{current} already learned this data: nothing new to evaluate or deploy")
        return model_name != current

    candidate = DashScopeDeployModelOperator(
        task_id="deploy_candidate",
        model_name=export.output["model_name"],
        name="candidate",
        announce=False,
        **WAITING,
    )

    evaluate = DashScopeEvaluateModelOperator(
        task_id="evaluate",
        heldout_path=data["heldout"],
        models={"candidate": candidate.output["deployed_model"], "production": serving["baseline"]},
        scorers=["token_f1", "rouge_l"],
        must_beat="production",
        margin=MARGIN,
        on_fail="skip",
    )
    promote = DashScopePromoteModelOperator(
        task_id="promote",
        model_name=export.output["model_name"],
        slot=PRODUCTION,
        smoke_test=SMOKE_TEST["prompt"],
        expect=SMOKE_TEST["expect"],
        evaluation=evaluate.output,
        **WAITING,
    )
    remove_candidate = DashScopeDeleteDeploymentOperator(
        task_id="remove_candidate", deployed_model=candidate.output["deployed_model"]
    ).as_teardown(setups=candidate)

    something_new(export.output["model_name"], serving["model"]) >> candidate
    promote >> remove_candidate
    retain = DashScopeRetentionOperator(
        task_id="retain",
        keep_models=KEEP_MODELS,
        files_older_than=KEEP_FILES_FOR,
        delete_deployments=True,
        keep_deployments=[PRODUCTION],
        trigger_rule="none_failed",
    )
    remove_candidate >> retain
