"""A promotion in a real ``dag.test()``: an evaluation's result gates it, a ``@task`` reads the
slot with ``serving_in_slot``, and the asset event lands in Airflow's database."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from airflow_dashscope.client import DashScopeClient
from airflow_dashscope.emulator.runner import RunningEmulator
from airflow_dashscope.operators import serving_in_slot
from tests.operators.test_promotion import QUESTION, train_model

DAG_FILE = """
import pendulum
from airflow.sdk import DAG, task

from airflow_dashscope.operators import DashScopePromoteModelOperator

with DAG("dashscope_promote", schedule=None, start_date=pendulum.datetime(2026, 1, 1)) as dag:

    @task
    def evaluate():
        return EVALUATION

    @task
    def serving():
        from airflow_dashscope.hooks import DashScopeHook
        from airflow_dashscope.operators import serving_in_slot

        found = serving_in_slot(DashScopeHook().get_conn(), "production")
        return found.deployed_model if found else None

    promote = DashScopePromoteModelOperator(
        task_id="promote",
        model_name=MODEL,
        slot="production",
        smoke_test=QUESTION,
        expect="red",
        evaluation=evaluate(),
        deferrable=True,
        poll_interval=0.05,
        timeout=30,
    )
    promote >> serving()
"""


def promotion_dag(dags_folder: Path, **values: Any) -> Any:
    """Write the DAG where ``dag.test()`` syncs it from (the DAGs folder) and load it."""
    import importlib.util

    head = "".join(f"{name} = {value!r}\n" for name, value in values.items())
    dags_folder.mkdir(parents=True, exist_ok=True)
    path = dags_folder / "dashscope_promote.py"
    path.write_text(head + DAG_FILE)
    spec = importlib.util.spec_from_file_location("dashscope_promote", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.dag


def test_a_promotion_in_a_dag_run(
    airflow_db: Path,
    tmp_path: Path,
    client: DashScopeClient,
    emu: RunningEmulator,
    clock_running: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from airflow.models.asset import AssetEvent, AssetModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    model = train_model(client, emu, tmp_path, "The lantern is red.")
    evaluation = {
        "examples": 12,
        "models": {"candidate": model, "baseline": "qwen3-8b"},
        "scores": {"candidate": {"token_f1": {"mean": 0.9, "low": 0.8, "high": 1.0}}},
        "comparison": {"against": "baseline", "metric": "token_f1"},
        "gate": {"rule": "min_score 0.6", "passed": True, "why": "0.9 >= 0.6"},
        "results_path": "/tmp/heldout.eval-0000.jsonl",
    }
    folder = Path(os.environ["AIRFLOW__CORE__DAGS_FOLDER"])
    dag = promotion_dag(folder, MODEL=model, QUESTION=QUESTION, EVALUATION=evaluation)
    run = dag.test()
    states = {ti.task_id: ti.state for ti in run.get_task_instances()}
    assert states == dict.fromkeys(["evaluate", "promote", "serving"], "success")
    tis = {ti.task_id: ti for ti in run.get_task_instances()}
    result = tis["promote"].xcom_pull(task_ids="promote")
    assert result["promoted"] is True and result["previous"] is None
    assert tis["serving"].xcom_pull(task_ids="serving") == result["deployed_model"]
    found = serving_in_slot(client, "production", dag_id=dag.dag_id)
    assert found is not None and found.deployed_model == result["deployed_model"]
    with create_session() as session:
        events = session.execute(
            select(AssetModel.uri, AssetEvent.extra).join(
                AssetEvent, AssetEvent.asset_id == AssetModel.id
            )
        ).all()
    extras = [extra for uri, extra in events if uri.endswith(f"/{result['deployed_model']}")]
    assert len(extras) == 1
    assert extras[0]["slot"] == "production" and extras[0]["gate"]["passed"] is True
    assert extras[0]["scores"] == evaluation["scores"]["candidate"]
    assert emu.api_key not in capsys.readouterr().out
    assert emu.api_key not in json.dumps(result)
