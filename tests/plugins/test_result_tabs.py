"""The evaluation and sweep tabs, and the fine-tune tab's fixes, over HTTP on real task
instances: :data:`tests.plugins.stand_ins.RESULTS_DAG` runs with ``dag.test()`` against the
emulator (a three-member sweep, its selection, a deploy torn down, two evaluations)."""

from __future__ import annotations

import importlib.util
import json
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from airflow_dashscope.emulator import run_emulator
from airflow_dashscope.emulator.runner import RunningEmulator
from airflow_dashscope.plugins.app import create_app
from airflow_dashscope.plugins.remote import RemoteReader
from airflow_dashscope.plugins.views import NOT_EXPORTED
from tests.plugins.conftest import SFT_LINE, token
from tests.plugins.stand_ins import RESULTS_DAG

DAG_ID = "ui_results"
FAST = {"poll_interval": 0.05, "timeout": 120, "deferrable": False}


def _turn(emu: RunningEmulator, stop: threading.Event) -> None:
    while not stop.wait(0.001):
        emu.advance(0.05)


@pytest.fixture(scope="module")
def results(airflow_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    data = tmp_path_factory.mktemp("results") / "train.jsonl"
    data.write_text("\n".join([SFT_LINE] * 40) + "\n")
    folder = Path(os.environ["AIRFLOW__CORE__DAGS_FOLDER"])
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{DAG_ID}.py"
    path.write_text(
        f"DAG_ID = {DAG_ID!r}\nTRAINING_PATH = {str(data)!r}\nHELDOUT_PATH = {str(data)!r}\n"
        f"FAST = {FAST!r}\n{RESULTS_DAG}"
    )
    spec = importlib.util.spec_from_file_location(DAG_ID, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    with run_emulator(manual_clock=True) as emu:
        conn = {"conn_type": "dashscope", "host": emu.base_url, "password": emu.api_key}
        saved = os.environ.get("AIRFLOW_CONN_DASHSCOPE_DEFAULT")
        os.environ["AIRFLOW_CONN_DASHSCOPE_DEFAULT"] = json.dumps(conn)
        stop = threading.Event()
        turner = threading.Thread(target=_turn, args=(emu, stop), daemon=True)
        turner.start()
        try:
            run = module.dag.test()
            states = {(ti.task_id, ti.map_index): ti.state for ti in run.get_task_instances()}
            assert states[("evaluate_strict", -1)] == "skipped", states
            others = {k: v for k, v in states.items() if k[0] != "evaluate_strict"}
            assert set(others.values()) == {"success"}, states
            yield emu, run.run_id
        finally:
            stop.set()
            turner.join(timeout=5)
            if saved is None:
                os.environ.pop("AIRFLOW_CONN_DASHSCOPE_DEFAULT", None)
            else:
                os.environ["AIRFLOW_CONN_DASHSCOPE_DEFAULT"] = saved


@pytest.fixture(scope="module")
def http(results: Any, auth: Any) -> Iterator[TestClient]:
    root = FastAPI()
    root.mount("/dashscope", create_app(RemoteReader(ttl=0)))
    with TestClient(root) as client:
        yield client


def get(http: TestClient, auth: Any, results: Any, task_id: str, map_index: int = -1) -> Any:
    run = quote(results[1], safe="")
    answer = http.get(
        f"/dashscope/api/task/{DAG_ID}/{task_id}/{map_index}/{run}",
        headers=token(auth, "admin", "admin"),
    )
    assert answer.status_code == 200, answer.text
    assert results[0].api_key not in answer.text
    return answer.json()


def test_the_evaluation_tab_reads_the_return_value(
    results: Any, auth: Any, http: TestClient
) -> None:
    data = get(http, auth, results, "evaluate")
    ev = data["evaluation"]
    assert data["source"] == "return_value" and ev["gate"]["status"] == "PASSED"
    assert [m["role"] for m in ev["models"]] == ["candidate", "baseline"]
    assert ev["models"][1]["model"] == "qwen3-8b"
    # The chosen member learned the held-out line; the base model did not.
    assert ev["comparison"]["win_rate"] == 1.0 and ev["comparison"]["wins"] == ev["examples"]
    assert ev["judge"]["model"] == "qwen3-32b" and ev["worst"]


def test_a_gate_failed_evaluation_reads_the_pushed_result(
    results: Any, auth: Any, http: TestClient
) -> None:
    data = get(http, auth, results, "evaluate_strict")
    assert data["source"] == "evaluation"
    gate = data["evaluation"]["gate"]
    assert gate["status"] == "FAILED" and "skipped" in gate["why"]


def test_the_sweep_tab_overlays_every_member_and_marks_the_chosen(
    results: Any, auth: Any, http: TestClient
) -> None:
    for task_id, map_index in (("select", -1), ("fine_tune", 1)):
        sweep = get(http, auth, results, task_id, map_index)["sweep"]
        rows = sweep["members"]
        assert [r["map_index"] for r in rows] == [0, 1, 2]
        assert [r["chosen"] for r in rows] == [True, False, False]
        # The retired member's job was deleted: its legend says so.
        assert rows[2]["retired"] and "retired" in rows[2]["label"]
        # The others' curves, training and validation, from their jobs' logs.
        for series in sweep["series"][:2]:
            assert any(p.get("train_loss") is not None for p in series["points"])
            assert any(p.get("val_loss") is not None for p in series["points"])
        assert rows[0]["value"] is not None and sweep["axes"]["loss"]
    # The stand-in chose the member with the lowest validation loss (as the selection will).
    assert rows[0]["value"] < rows[1]["value"]


def test_the_chosen_members_tab_shows_the_fixes(results: Any, auth: Any, http: TestClient) -> None:
    data = get(http, auth, results, "fine_tune", 0)
    assert data["job"]["status"] == "SUCCEEDED"
    assert data["training"]["loss_label"] == "Final loss"
    statuses = {c["checkpoint"]: c["status"] for c in data["checkpoints"]}
    assert NOT_EXPORTED in statuses.values() and "PENDING" not in statuses.values(), statuses
    assert data["cost"]["estimated_tokens"] and data["cost"]["estimate_note"] is None
    (deployment,) = data["deployments"]
    assert deployment["status"] == "REMOVED" and deployment["removed_by"] == "teardown"
    axes = data["training"]["axes"]
    assert (
        axes["step"][0] == 0
        and len({b - a for a, b in zip(axes["step"], axes["step"][1:], strict=False)}) == 1
    )
    assert data["sweep"]["members"][0]["current"] and data["sweep"]["members"][0]["chosen"]


@pytest.mark.parametrize(
    ("task_id", "marker"), [("evaluate", 'id="evaluation"'), ("select", 'id="sweep"')]
)
def test_the_pages_render_without_the_key(
    results: Any, auth: Any, http: TestClient, task_id: str, marker: str
) -> None:
    run = quote(results[1], safe="")
    answer = http.get(
        f"/dashscope/task/{DAG_ID}/{task_id}/-1/{run}", headers=token(auth, "admin", "admin")
    )
    assert answer.status_code == 200 and marker in answer.text
    assert 'data-timezone="UTC"' in answer.text
    assert results[0].api_key not in answer.text
