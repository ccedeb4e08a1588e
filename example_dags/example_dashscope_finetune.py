"""Fine-tune a Qwen model on DashScope, publish it, deploy it and ask it a question.

upload (validated first) -> fine-tune -> export the latest checkpoint -> deploy -> invoke,
with the deployment removed again at the end (a teardown: it runs even if invoke fails).

The smoke test (invoke) is inside the pipeline and the deployment is temporary, so the deploy
step does not announce it (``announce=False``): a DAG scheduled on new deployments
(``example_dashscope_on_new_model``) must never be handed a deployment that this run's
teardown is about to delete. For deployments that stay, see ``example_dashscope_retrain``.

Trigger it from the UI with other params (model, data file, epochs...), or on a schedule.
Every waiting step defers to the triggerer, so a multi-hour fine-tune holds no worker slot.
Point the ``dashscope_default`` connection at the real service, or at the local emulator
(``python -m airflow_dashscope.emulator``) to try it offline.
"""

from __future__ import annotations

import os
from pathlib import Path

import pendulum
from airflow.sdk import DAG, Param

from airflow_dashscope.operators import (
    DashScopeDeleteDeploymentOperator,
    DashScopeDeployModelOperator,
    DashScopeExportCheckpointOperator,
    DashScopeFineTuneOperator,
    DashScopeInvokeModelOperator,
    DashScopeUploadFileOperator,
)

SAMPLE_DATA = Path(__file__).parent / "data" / "sft_sample.jsonl"
#: Seconds between status checks (real jobs take hours; the tests use a few seconds).
POLL = float(os.environ.get("DASHSCOPE_EXAMPLE_POLL_SECONDS", "30"))

with DAG(
    dag_id="example_dashscope_finetune",
    description="Upload -> fine-tune -> export -> deploy -> invoke a Qwen model on DashScope",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    tags=["dashscope", "fine-tuning", "example"],
    default_args={"dashscope_conn_id": "dashscope_default", "retries": 1},
    params={
        "model": Param("qwen3-8b", type="string", description="Base model to fine-tune"),
        "training_file": Param(str(SAMPLE_DATA), type="string", description="JSONL data"),
        "training_type": Param(
            "efficient_sft", enum=["sft", "efficient_sft", "cpt", "dpo_full", "dpo_lora"]
        ),
        "n_epochs": Param(2, type="integer", minimum=1, maximum=20),
        "question": Param("What is a deferrable operator?", type="string"),
    },
) as dag:
    upload = DashScopeUploadFileOperator(
        task_id="upload_training_data",
        file_path="{{ params.training_file }}",
        training_type="{{ params.training_type }}",
        n_epochs="{{ params.n_epochs }}",
        description="training data of run {{ run_id }}",
    )

    fine_tune = DashScopeFineTuneOperator(
        task_id="fine_tune",
        model="{{ params.model }}",
        training_file_ids=[upload.output],
        training_type="{{ params.training_type }}",
        hyper_parameters={
            "n_epochs": "{{ params.n_epochs }}",
            "batch_size": 4,
            "max_length": 2048,
            "learning_rate": "1e-4",
            "save_strategy": "epoch",
        },
        training_tokens=upload.output["training_tokens"],
        job_name="example-ft",
        deferrable=True,
        poll_interval=POLL,
        timeout=pendulum.duration(hours=12),
    )

    export = DashScopeExportCheckpointOperator(
        task_id="export_checkpoint",
        job_id=fine_tune.output["job_id"],
        checkpoint="latest",
        # Manual runs have no logical date in Airflow 3: name the export after run_after.
        model_name="{{ params.model }}-example-{{ dag_run.run_after.strftime('%Y%m%d%H%M%S') }}",
        deferrable=True,
        poll_interval=POLL,
    )

    deploy = DashScopeDeployModelOperator(
        task_id="deploy",
        model_name=export.output["model_name"],
        plan="lora",
        capacity=1,
        name="example-ft",
        announce=False,
        deferrable=True,
        poll_interval=POLL,
    )

    invoke = DashScopeInvokeModelOperator(
        task_id="invoke",
        model=deploy.output["deployed_model"],
        messages=[{"role": "user", "content": "{{ params.question }}"}],
        parameters={"temperature": 0.2},
    )

    remove_deployment = DashScopeDeleteDeploymentOperator(
        task_id="remove_deployment",
        deployed_model=deploy.output["deployed_model"],
    ).as_teardown(setups=deploy)

    upload >> fine_tune >> export >> deploy >> invoke >> remove_deployment
