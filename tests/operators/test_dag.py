"""The whole pipeline in one ``dag.test()``: upload -> fine-tune -> export -> deploy -> invoke,
chained through ``.output`` as a user writes it, against the emulator."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from airflow_dashscope.emulator.runner import RunningEmulator
from tests.operators.conftest import HYPER

DAG_FILE = """
import pendulum
from airflow.sdk import DAG

from airflow_dashscope.operators import (
    DashScopeDeployModelOperator,
    DashScopeExportCheckpointOperator,
    DashScopeFineTuneOperator,
    DashScopeInvokeModelOperator,
    DashScopeUploadFileOperator,
)

fast = {"poll_interval": 0.05, "timeout": 30}
with DAG("dashscope_pipeline", schedule=None, start_date=pendulum.datetime(2025, 1, 1)) as dag:
    upload = DashScopeUploadFileOperator(task_id="upload", file_path=TRAINING_PATH)
    finetune = DashScopeFineTuneOperator(
        task_id="finetune",
        model="qwen3-8b",
        training_file_ids=upload.output,
        hyper_parameters=HYPER,
        deferrable=True,
        **fast,
    )
    export = DashScopeExportCheckpointOperator(
        task_id="export",
        job_id=finetune.output["job_id"],
        model_name="support-bot-v1",
        deferrable=False,
        **fast,
    )
    deploy = DashScopeDeployModelOperator(
        task_id="deploy", model_name=export.output["model_name"], deferrable=False, **fast
    )
    DashScopeInvokeModelOperator(
        task_id="invoke",
        model=deploy.output["deployed_model"],
        messages=[{"role": "user", "content": "Hello?"}],
    )
"""


def pipeline(training_path: Path, dags_folder: Path) -> Any:
    """Write the DAG where ``dag.test()`` syncs it from (the DAGs folder) and load it."""
    import importlib.util

    source = f"TRAINING_PATH = {str(training_path)!r}\nHYPER = {HYPER!r}\n{DAG_FILE}"
    dags_folder.mkdir(parents=True, exist_ok=True)
    path = dags_folder / "dashscope_pipeline.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("dashscope_pipeline", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.dag


def test_the_whole_chain(
    airflow_db: Path,
    training_path: Path,
    emu: RunningEmulator,
    clock_running: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import os

    from airflow.models.asset import AssetEvent, AssetModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    run = pipeline(training_path, Path(os.environ["AIRFLOW__CORE__DAGS_FOLDER"])).test()
    states = {ti.task_id: ti.state for ti in run.get_task_instances()}
    assert states == dict.fromkeys(["upload", "finetune", "export", "deploy", "invoke"], "success")
    counters = emu.counters()
    assert counters["jobs_created"] == 1 and counters["deployments_created"] == 1
    xcom = {
        (ti.task_id, key): ti.xcom_pull(task_ids=ti.task_id, key=key)
        for ti in run.get_task_instances()
        for key in ("model_name", "deployed_model", "finetuned_output")
    }
    # The deploy step deployed the id the export read back from the checkpoint list.
    exported = xcom[("export", "model_name")]
    assert exported == xcom[("finetune", "finetuned_output")]
    deployed = xcom[("deploy", "deployed_model")]
    assert deployed.startswith(f"{exported}-")
    with create_session() as session:
        events = session.execute(
            select(AssetModel.uri, AssetEvent.extra).join(
                AssetEvent, AssetEvent.asset_id == AssetModel.id
            )
        ).all()
    kinds = {uri: extra.get("kind") for uri, extra in events if "dashscope://" in uri}
    assert kinds[f"dashscope://default/models/{exported}"] == "trained"
    assert kinds[f"dashscope://default/deployments/{deployed}"] == "deployed"
    assert emu.api_key not in capsys.readouterr().out
