"""``dashscope://`` model assets: URIs, Airflow's URI handler, and a real event via dag.test()."""

from __future__ import annotations

import runpy
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from airflow.configuration import conf
from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.sdk import Asset

from airflow_dashscope.lineage.assets import (
    create_asset,
    deployment_asset,
    emit_model_asset,
    model_asset_uri,
    sanitize_uri,
)

MODEL = "qwen3-8b-ft-202511272033-8ae7"


def test_uri_shape() -> None:
    assert model_asset_uri("llm-abc", MODEL) == f"dashscope://llm-abc/models/{MODEL}"
    assert model_asset_uri(None, MODEL) == f"dashscope://default/models/{MODEL}"
    assert model_asset_uri("", "a/b") == "dashscope://default/models/a%2Fb"
    with pytest.raises(ValueError):
        model_asset_uri("w", "")


@pytest.mark.parametrize(
    "uri",
    [
        "dashscope://w/models",
        "dashscope:///models/x",
        "dashscope://w/files/x",
        "dashscope://w/deployments",
        "dashscope://w/models/x/y",
    ],
)
def test_handler_rejects_other_shapes(uri: str) -> None:
    with pytest.raises(ValueError, match="dashscope://<workspace>/models/<model id>"):
        sanitize_uri(urlsplit(uri))


def test_airflow_uses_the_registered_handler() -> None:
    """get_provider_info registers sanitize_uri: a bad URI fails when the Asset is made."""
    assert create_asset(workspace="w", model_id=MODEL).uri == f"dashscope://w/models/{MODEL}"
    with pytest.raises(ValueError, match="models/<model id>"):
        Asset(uri="dashscope://w/jobs/x")


def test_deployments_have_assets_of_their_own() -> None:
    """A consumer of deployments must not be queued by the training or export of the same
    model id: Airflow queues runs per asset, so the URIs differ."""
    assert deployment_asset("w", "m-ab12").uri == "dashscope://w/deployments/m-ab12"
    assert sanitize_uri(urlsplit("dashscope://w/deployments/m-ab12")).path == "/deployments/m-ab12"


#: A DAG file (dag.test() needs the DAG in a bundle): one task doing what the operators do.
DAG_FILE = f"""
from airflow.sdk import DAG, task
from airflow_dashscope.lineage.assets import TRAINED_ALIAS, emit_model_asset

with DAG("dashscope_asset_emit", schedule=None) as dag:

    @task(outlets=[TRAINED_ALIAS])
    def publish(**context):
        emit_model_asset(
            context, workspace="llm-ws", model_id="{MODEL}", extra={{"job_id": "ft-1"}}
        )

    publish()
"""


def load_dag_file(folder: Path, name: str, source: str) -> Any:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.py"
    path.write_text(source)
    return runpy.run_path(str(path))["dag"]


def test_undeclared_alias_is_refused() -> None:
    task = EmptyOperator(task_id="t")
    with pytest.raises(ValueError, match="dashscope-trained-models"):
        emit_model_asset({"task": task, "outlet_events": {}}, workspace=None, model_id=MODEL)


def test_dag_run_records_the_model_asset_event(airflow_db: Path) -> None:
    from airflow.models.asset import AssetEvent
    from airflow.utils.session import create_session
    from sqlalchemy import select

    dag = load_dag_file(Path(conf.get("core", "dags_folder")), "dashscope_asset_emit", DAG_FILE)
    run = dag.test()
    assert run.state == "success"
    with create_session() as session:
        events = session.scalars(
            select(AssetEvent).where(AssetEvent.source_dag_id == "dashscope_asset_emit")
        ).all()
        assert len(events) == 1
        event = events[0]
        assert event.asset.uri == f"dashscope://llm-ws/models/{MODEL}"
        assert event.extra == {"kind": "trained", "job_id": "ft-1"}
        assert [alias.name for alias in event.source_aliases] == ["dashscope-trained-models"]
