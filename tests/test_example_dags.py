"""The example DAGs load cleanly (what a user copies must at least parse)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import SimpleNamespace

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "example_dags"


def test_example_dags_load_without_errors(airflow_db: Path) -> None:
    try:  # Airflow >= 3.2
        from airflow.dag_processing.dagbag import DagBag
    except ImportError:  # Airflow 3.1
        from airflow.models.dagbag import DagBag

    bag = DagBag(dag_folder=str(EXAMPLES))
    assert bag.import_errors == {}
    assert {"example_dashscope_finetune", "example_dashscope_on_new_model"} <= set(bag.dag_ids)
    tune = bag.get_dag("example_dashscope_finetune")
    assert [t.task_id for t in tune.topological_sort()][:5] == [
        "upload_training_data",
        "fine_tune",
        "export_checkpoint",
        "deploy",
        "invoke",
    ]


@pytest.fixture
def on_new_model() -> object:
    path = EXAMPLES / "example_dashscope_on_new_model.py"
    spec = importlib.util.spec_from_file_location("example_on_new_model", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_only_deployment_events_are_smoke_tested(on_new_model: object) -> None:
    event = SimpleNamespace
    events = {
        "dashscope://ws/models/a": [event(extra={"job_id": "ft-1"})],
        "dashscope://ws/models/b": [
            event(extra={"deployed_model": "b-1234"}),
            event(extra={"deployed_model": "b-1234"}),
        ],
    }
    assert on_new_model.deployed_models(events) == ["b-1234"]  # type: ignore[attr-defined]
    assert on_new_model.deployed_models(None) == []  # type: ignore[attr-defined]
