"""The example DAGs parse cleanly, and the scheduled-retraining pair runs end to end under
``dag.test()`` against the emulator (the standalone test in ``tests/e2e`` runs them with a
real scheduler and triggerer)."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from airflow_dashscope.emulator.runner import RunningEmulator

EXAMPLES = Path(__file__).resolve().parent.parent / "example_dags"
DAG_IDS = {
    "example_dashscope_finetune",
    "example_dashscope_on_new_model",
    "example_dashscope_etl",
    "example_dashscope_retrain",
    "example_dashscope_sweep",
}


def load(name: str, folder: Path = EXAMPLES) -> Any:
    path = folder / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_example_dags_load_without_errors(airflow_db: Path) -> None:
    try:  # Airflow >= 3.2
        from airflow.dag_processing.dagbag import DagBag
    except ImportError:  # Airflow 3.1
        from airflow.models.dagbag import DagBag

    bag = DagBag(dag_folder=str(EXAMPLES))
    assert bag.import_errors == {}
    assert set(bag.dag_ids) >= DAG_IDS
    tune = bag.get_dag("example_dashscope_finetune")
    assert [t.task_id for t in tune.topological_sort()][:5] == [
        "upload_training_data",
        "fine_tune",
        "export_checkpoint",
        "deploy",
        "invoke",
    ]
    # The pipeline tears its deployment down, so it must not announce it to consumers.
    assert tune.get_task("deploy").outlets == []


def test_only_deployment_events_are_smoke_tested() -> None:
    module = load("example_dashscope_on_new_model")
    event = SimpleNamespace
    events = {
        "dashscope://ws/models/a": [event(extra={"kind": "trained", "job_id": "ft-1"})],
        "dashscope://ws/deployments/b-1234": [
            event(extra={"kind": "deployed", "deployed_model": "b-1234"}),
            event(extra={"kind": "deployed", "deployed_model": "b-1234"}),
        ],
    }
    assert module.deployed_models(events) == ["b-1234"]
    assert module.deployed_models(None) == []


def test_the_etl_split() -> None:
    etl = load("example_dashscope_etl")
    train, held = etl.split([str(i) for i in range(12)])
    assert held == ["5", "11"] and len(train) == 10 and not set(train) & set(held)
    assert etl.of_week(["a", "b", "c"], 4) == ["b", "c", "a"]  # another week, other bytes


@pytest.fixture
def data_dir(example_data_dir: Path) -> Path:
    """The session's one data URL (the asset's URI, which Airflow keeps once registered)."""
    return example_data_dir


def _copy_examples(dags: Path) -> None:
    dags.mkdir(parents=True, exist_ok=True)
    for name in (
        "example_dashscope_etl.py",
        "example_dashscope_retrain.py",
        "example_dashscope_sweep.py",
    ):
        shutil.copy(EXAMPLES / name, dags / name)
    shutil.copytree(EXAMPLES / "data", dags / "data", dirs_exist_ok=True)


def _events(source_dag: str, run_id: str | None = None) -> list[Any]:
    from airflow.models.asset import AssetEvent
    from airflow.utils.session import create_session
    from sqlalchemy import select

    query = select(AssetEvent).where(AssetEvent.source_dag_id == source_dag)
    if run_id is not None:
        query = query.where(AssetEvent.source_run_id == run_id)
    with create_session() as session:
        return [
            SimpleNamespace(uri=e.asset.uri, extra=dict(e.extra or {}))
            for e in session.scalars(query.order_by(AssetEvent.id)).all()
        ]


def test_etl_then_retraining_twice(
    airflow_db: Path,
    dashscope_connection: RunningEmulator,
    data_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Week 1 trains from the base model and deploys; week 2 continues from week 1's model,
    scores at least as well, deploys it and retires week 1's deployment. The candidates are
    torn down and only production deployments are announced."""
    import os

    import pendulum

    from airflow_dashscope.client import DashScopeClient

    monkeypatch.setenv("DASHSCOPE_EXAMPLE_DATA_URL", f"file://{data_dir}")
    monkeypatch.setenv("DASHSCOPE_EXAMPLE_POLL_SECONDS", "0.05")
    dags = Path(os.environ["AIRFLOW__CORE__DAGS_FOLDER"])
    _copy_examples(dags)
    etl, retrain = load("example_dashscope_etl", dags), load("example_dashscope_retrain", dags)
    emu = dashscope_connection
    client = DashScopeClient(api_key=emu.api_key, base_url=emu.base_url)
    served: list[str] = []
    for week in (1, 2):
        day = pendulum.datetime(2026, 3, week * 7, tz="UTC")
        data_run = etl.dag.test(logical_date=day)
        assert data_run.state == "success"
        (data,) = _events("example_dashscope_etl", data_run.run_id)
        assert data.extra["train"].startswith("file://")
        run = retrain.dag.test(logical_date=day, run_conf=data.extra)
        states = {ti.task_id: ti.state for ti in run.get_task_instances()}
        assert run.state == "success", states
        assert set(states.values()) == {"success"}, states
        live = [d for d in client.list_deployments() if d.status_name != "DELETING"]
        assert [d.name for d in live] == ["support-bot"]  # candidate removed, old one retired
        served.append(live[0].model_name or "")
        announced = _events("example_dashscope_retrain", run.run_id)
        deployed = [e for e in announced if e.extra.get("kind") == "deployed"]
        assert [e.uri.rsplit("/", 1)[1] for e in deployed] == [live[0].deployed_model]
    # Week 2 continued from week 1's production model.
    assert sorted(job.model for job in client.list_fine_tunes()) == sorted(["qwen3-8b", served[0]])
    assert served[0] != served[1]
    assert emu.counters()["jobs_created"] == 2


def test_retraining_the_promoted_model_on_the_same_data_trains_nothing(
    airflow_db: Path,
    dashscope_connection: RunningEmulator,
    data_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A run after promotion with the same data (a clear, or the data published twice) starts
    from the promoted model, which already learned it: one file, one job, the production
    deployment left as it is, the evaluation and deployments skipped."""
    import os

    import pendulum

    from airflow_dashscope.client import DashScopeClient

    monkeypatch.setenv("DASHSCOPE_EXAMPLE_DATA_URL", f"file://{data_dir}")
    monkeypatch.setenv("DASHSCOPE_EXAMPLE_POLL_SECONDS", "0.05")
    dags = Path(os.environ["AIRFLOW__CORE__DAGS_FOLDER"])
    _copy_examples(dags)
    etl, retrain = load("example_dashscope_etl", dags), load("example_dashscope_retrain", dags)
    emu = dashscope_connection
    client = DashScopeClient(api_key=emu.api_key, base_url=emu.base_url)
    day = pendulum.datetime(2026, 3, 7, tz="UTC")
    data_run = etl.dag.test(logical_date=day)
    (data,) = _events("example_dashscope_etl", data_run.run_id)
    first = retrain.dag.test(logical_date=day, run_conf=data.extra)
    assert first.state == "success", {ti.task_id: ti.state for ti in first.get_task_instances()}
    (production,) = [d for d in client.list_deployments() if d.status_name != "DELETING"]
    again = retrain.dag.test(logical_date=day.add(days=1), run_conf=data.extra)
    states = {ti.task_id: ti.state for ti in again.get_task_instances()}
    assert again.state == "success", states
    assert states["fine_tune"] == "success" and states["promote"] == "skipped"
    assert states["retain"] == "success"  # the retention runs when nothing new was trained
    result = again.get_task_instance("fine_tune").xcom_pull(task_ids="fine_tune")
    assert result["reused"] is True and result["finetuned_output"] == production.model_name
    assert emu.counters()["jobs_created"] == 1
    assert len(client.list_files()) == 1  # the same bytes were not uploaded again
    live = [d for d in client.list_deployments() if d.status_name != "DELETING"]
    assert [d.deployed_model for d in live] == [production.deployed_model]


def _make_noisy(url: str) -> None:
    """Each example answered with the next one's answer: fluent, and wrong."""
    import json

    path = Path(url.removeprefix("file://"))
    examples = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    answers = [example["messages"][-1]["content"] for example in examples]
    for i, example in enumerate(examples):
        example["messages"][-1]["content"] = answers[(i + 1) % len(answers)]
    path.write_text("".join(json.dumps(example) + "\n" for example in examples))


@pytest.mark.parametrize(
    "gated",
    [
        pytest.param(True, id="gated"),
        pytest.param(False, id="without the gate", marks=pytest.mark.slow),
    ],
)
def test_a_week_of_noisy_data_is_rejected_and_production_unchanged(
    gated: bool,
    airflow_db: Path,
    dashscope_connection: RunningEmulator,
    data_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Week 2's data is noisy: its candidate scores worse than production on the held-out
    examples, the evaluation skips the promotion and week 1's model keeps serving. Without the
    gate (a margin no difference can miss) the same candidate replaces production: the gate is
    what protects it."""
    import os

    import pendulum

    from airflow_dashscope.client import DashScopeClient
    from airflow_dashscope.operators import serving_in_slot

    monkeypatch.setenv("DASHSCOPE_EXAMPLE_DATA_URL", f"file://{data_dir}")
    monkeypatch.setenv("DASHSCOPE_EXAMPLE_POLL_SECONDS", "0.05")
    dags = Path(os.environ["AIRFLOW__CORE__DAGS_FOLDER"])
    _copy_examples(dags)
    if not gated:
        source = dags / "example_dashscope_retrain.py"
        text = source.read_text()
        assert "MARGIN = -0.05\n" in text
        source.write_text(text.replace("MARGIN = -0.05\n", "MARGIN = -2.0\n"))
    etl, retrain = load("example_dashscope_etl", dags), load("example_dashscope_retrain", dags)
    emu = dashscope_connection
    client = DashScopeClient(api_key=emu.api_key, base_url=emu.base_url)
    runs = []
    for week in (1, 2):
        day = pendulum.datetime(2026, 4, week * 7, tz="UTC")
        data_run = etl.dag.test(logical_date=day)
        (data,) = _events("example_dashscope_etl", data_run.run_id)
        if week == 2:
            _make_noisy(data.extra["train"])
        runs.append(retrain.dag.test(logical_date=day, run_conf=data.extra))
        if week == 1:
            first = serving_in_slot(client, retrain.PRODUCTION, dag_id=retrain.dag.dag_id)
            assert first is not None
    week2 = runs[1]
    states = {ti.task_id: ti.state for ti in week2.get_task_instances()}
    assert week2.state == "success", states
    evaluation = week2.get_task_instance("evaluate").xcom_pull(
        task_ids="evaluate", key="evaluation"
    )
    difference = evaluation["comparison"]["difference"]
    assert difference["mean"] < 0, evaluation["comparison"]  # the noisy candidate is worse
    now = serving_in_slot(client, retrain.PRODUCTION, dag_id=retrain.dag.dag_id)
    assert now is not None
    if gated:
        assert states["evaluate"] == "skipped" and states["promote"] == "skipped", states
        assert now.deployed_model == first.deployed_model
    else:
        assert states["evaluate"] == "success" and states["promote"] == "success", states
        assert now.deployed_model != first.deployed_model
    assert states["remove_candidate"] == "success" and states["retain"] == "success", states


def test_the_sweep_chooses_by_validation_loss_and_promotes(
    airflow_db: Path,
    dashscope_connection: RunningEmulator,
    data_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The grid of 4 trains 4 jobs; the learning rate far too high has the worst validation
    loss and is not chosen; the chosen member has the lowest; the losers are retired; the
    chosen model beats the base model on the held-out examples and serves the slot."""
    import pendulum

    from airflow_dashscope.client import DashScopeClient
    from airflow_dashscope.operators import serving_in_slot

    monkeypatch.setenv("DASHSCOPE_EXAMPLE_DATA_URL", f"file://{data_dir}")
    monkeypatch.setenv("DASHSCOPE_EXAMPLE_POLL_SECONDS", "0.05")
    import os

    dags = Path(os.environ["AIRFLOW__CORE__DAGS_FOLDER"])
    _copy_examples(dags)
    sweep = load("example_dashscope_sweep", dags)
    emu = dashscope_connection
    client = DashScopeClient(api_key=emu.api_key, base_url=emu.base_url)
    run = sweep.dag.test(logical_date=pendulum.datetime(2026, 5, 1, tz="UTC"))
    states = {(ti.task_id, ti.map_index): ti.state for ti in run.get_task_instances()}
    assert run.state == "success", states
    chosen = run.get_task_instance("choose").xcom_pull(task_ids="choose")
    members = chosen["sweep"]["members"]
    assert len(members) == 4 and emu.counters()["jobs_created"] == 4
    values = {m["map_index"]: m["value"] for m in members}
    too_high = next(
        m["map_index"] for m in members if m["hyper_parameters"]["learning_rate"] >= 1e-2
    )
    assert chosen["sweep"]["chosen_map_index"] != too_high
    assert values[chosen["sweep"]["chosen_map_index"]] == min(values.values())
    assert values[too_high] == max(values.values())
    assert {j.job_id for j in client.list_fine_tunes()} == {chosen["job_id"]}  # losers retired
    evaluation = run.get_task_instance("evaluate").xcom_pull(task_ids="evaluate")
    assert evaluation["gate"]["passed"] and evaluation["comparison"]["difference"]["low"] > 0
    holder = serving_in_slot(client, sweep.SLOT, dag_id=sweep.dag.dag_id)
    assert holder is not None and holder.model_name == chosen["finetuned_output"]
