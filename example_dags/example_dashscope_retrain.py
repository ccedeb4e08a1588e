"""Scheduled retraining: each new training data set fine-tunes the model in production
further, evaluates the result on held-out examples and deploys it only if it scores at least
as well as the model it would replace.

Scheduled on the ``dashscope_example_training_data`` asset (``example_dashscope_etl``): the
triggering event's ``extra`` holds the URLs of the training and held-out files.

    current production ─┐
    data ─> upload ─> fine-tune (from production) ─> export ─> candidate deployment
                                                                   │
              evaluate candidate vs production on held-out ────────┘
                   │ (at least as good)
                   └─> production deployment ─> retire the old one
                                                      (candidate removed in any case)
                                                                   │
                                   retention (on success, or when nothing new was trained)

* Only the production deployment announces itself (``dashscope-deployments`` asset alias):
  ``example_dashscope_on_new_model`` smoke-tests each new production model once. The
  candidate is ``announce=False`` and torn down by this DAG, so no consumer races its
  removal.
* Clearing a run with the same data reuses the uploaded file and the trained job; new data
  trains again. Data the production model already learned (a clear after promotion, or the
  same data published twice) trains nothing: the fine-tune returns the job that made the
  model, and ``something_new`` skips the evaluation and the deployments (see the README's
  "Retraining, retries and clears").
* ``retain`` keeps the account under its quotas (20 jobs running or succeeded, 100 files,
  5 GB) for a year of weekly runs: it keeps this DAG's newest ``KEEP_MODELS`` trained models
  (and always the one in production, the newest of the lineage the next run continues),
  deletes left-over deployments of this DAG except production, and files no remaining job
  uses once older than ``KEEP_FILES_FOR``. It runs after the promotion, and also when the
  evaluation or ``something_new`` stopped it, never after a failure (see
  ``tests/soak/test_a_year.py`` and docs/production.md, "A year of weekly retraining").
"""

from __future__ import annotations

import contextlib
import os
import re
from datetime import timedelta
from typing import Any

import pendulum
from airflow.sdk import DAG, Asset, ObjectStoragePath, task

from airflow_dashscope.operators import (
    DashScopeDeleteDeploymentOperator,
    DashScopeDeployModelOperator,
    DashScopeExportCheckpointOperator,
    DashScopeFineTuneOperator,
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


def words(text: str) -> set[str]:
    return set(re.findall(r"\w+", text.lower()))


def overlap(answer: str, reference: str) -> float:
    """Token F1 of an answer against the reference answer (a simple, honest metric)."""
    got, want = words(answer), words(reference)
    common = len(got & want)
    if not common:
        return 0.0
    precision, recall = common / len(got), common / len(want)
    return 2 * precision * recall / (precision + recall)


with DAG(
    dag_id="example_dashscope_retrain",
    description="Fine-tune the production model on new data; deploy it if it is not worse",
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
    def production() -> dict[str, str | None]:
        """The deployment serving now (None on the first run) and the model to start from."""
        from airflow_dashscope.hooks import DashScopeHook

        client = DashScopeHook().get_conn()
        live = [
            d
            for d in client.list_deployments()
            if d.name == PRODUCTION and d.status_name == "RUNNING"
        ]
        current = max(live, key=lambda d: str(d.gmt_create or ""), default=None)
        return {
            "deployed_model": current.deployed_model if current else None,
            "model": current.model_name if current else BASE_MODEL,
        }

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

    @task.short_circuit(ignore_downstream_trigger_rules=False)
    def at_least_as_good(candidate: str, current: str | None, base: str, heldout: str) -> bool:
        """Score both models on the held-out examples; True lets the promotion run."""
        import json

        from airflow_dashscope.hooks import DashScopeHook

        client = DashScopeHook().get_conn()
        examples = [
            json.loads(line)["messages"]
            for line in ObjectStoragePath(heldout).read_text().splitlines()
            if line.strip()
        ]

        def score(model: str) -> float:
            total = 0.0
            for messages in examples:
                reply = client.generate(
                    model, messages=messages[:-1], parameters={"result_format": "message"}
                )
                total += overlap(reply.text, messages[-1]["content"])
            return total / max(1, len(examples))

        new, old = score(candidate), score(current or base)
        print(f"held-out score: candidate {new:.3f}, current {old:.3f} ({len(examples)} examples)")
        return new >= old

    gate = at_least_as_good(
        candidate.output["deployed_model"],
        serving["deployed_model"],
        serving["model"],
        data["heldout"],
    )
    promote = DashScopeDeployModelOperator(
        task_id="deploy_production",
        model_name=export.output["model_name"],
        name=PRODUCTION,
        **WAITING,
    )

    @task
    def retire(previous: str | None, new: str) -> None:
        """Remove the deployment the new one replaces (billing stops)."""
        from airflow_dashscope.client.errors import NotFoundError
        from airflow_dashscope.hooks import DashScopeHook

        if previous and previous != new:
            with contextlib.suppress(NotFoundError):  # already gone
                DashScopeHook().get_conn().delete_deployment(previous)

    remove_candidate = DashScopeDeleteDeploymentOperator(
        task_id="remove_candidate", deployed_model=candidate.output["deployed_model"]
    ).as_teardown(setups=candidate)

    something_new(export.output["model_name"], serving["model"]) >> candidate
    gate >> promote
    retired = retire(serving["deployed_model"], promote.output["deployed_model"])
    promote >> remove_candidate
    retain = DashScopeRetentionOperator(
        task_id="retain",
        keep_models=KEEP_MODELS,
        files_older_than=KEEP_FILES_FOR,
        delete_deployments=True,
        keep_deployments=[PRODUCTION],
        trigger_rule="none_failed",
    )
    [retired, remove_candidate] >> retain
