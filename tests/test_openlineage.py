"""OpenLineage: the datasets each operator reports, read from the events the OpenLineage
provider's own listener emits during a real ``dag.test()`` against the emulator."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from airflow_dashscope.lineage.assets import create_asset
from airflow_dashscope.lineage.openlineage import (
    LineageDataset,
    asset_to_openlineage,
    fine_tune_datasets,
    model_dataset,
    source_dataset,
)
from tests.operators.conftest import HYPER, SFT_LINE

pytest.importorskip("airflow.providers.openlineage")


def test_source_datasets_follow_the_openlineage_naming() -> None:
    assert source_dataset("s3://bucket/data/train.jsonl") == LineageDataset(
        "s3://bucket", "data/train.jsonl"
    )
    assert source_dataset("/data/train.jsonl") == LineageDataset("file", "/data/train.jsonl")
    assert source_dataset("file:///data/x.jsonl") == LineageDataset("file", "/data/x.jsonl")
    assert source_dataset(Path("rel.jsonl")).name == os.path.abspath("rel.jsonl")


def test_fine_tune_datasets() -> None:
    inputs, outputs = fine_tune_datasets(
        "llm-ws",
        model="qwen3-8b",
        training_file_ids=["file-a", "file-b"],
        validation_file_ids="file-v",
        job_id="ft-1",
        finetuned_output="qwen3-8b-ft-1",
    )
    ns = "dashscope://llm-ws"
    assert inputs == [
        LineageDataset(ns, "files/file-a"),
        LineageDataset(ns, "files/file-b"),
        LineageDataset(ns, "files/file-v"),
        LineageDataset(ns, "models/qwen3-8b"),
    ]
    assert outputs == [
        LineageDataset(ns, "models/qwen3-8b-ft-1"),
        LineageDataset(ns, "fine-tunes/ft-1"),
    ]
    # Not finished yet: no model, only the job.
    assert fine_tune_datasets(None, model="m", training_file_ids="f")[1] == []


def test_model_assets_convert_to_the_same_dataset_the_operators_report() -> None:
    asset = create_asset(workspace="llm-ws", model_id="qwen3-8b-ft-1")
    converted = asset_to_openlineage(asset)
    expected = model_dataset("llm-ws", "qwen3-8b-ft-1")
    assert (converted.namespace, converted.name) == (expected.namespace, expected.name)


def test_openlineage_translates_model_assets_with_the_registered_converter() -> None:
    """The OpenLineage provider's own asset translation finds the provider's converter."""
    from airflow.providers.openlineage.utils.utils import translate_airflow_asset

    asset = create_asset(workspace="llm-ws", model_id="qwen3-8b-ft-1")
    dataset = translate_airflow_asset(asset, None)
    assert dataset is not None
    assert (dataset.namespace, dataset.name) == ("dashscope://llm-ws", "models/qwen3-8b-ft-1")


class StoredResult:
    """A task instance reduced to what the mixin reads: its stored return value."""

    task_id = "t"
    map_index = -1

    def __init__(self, value: Any) -> None:
        self.value = value

    def xcom_pull(self, *, task_ids: str, key: str, map_indexes: Any = None) -> Any:
        assert (task_ids, key, map_indexes) == ("t", "return_value", None)
        return self.value


def test_the_mixin_returns_operator_lineage(monkeypatch: pytest.MonkeyPatch) -> None:
    from airflow.providers.openlineage.extractors import OperatorLineage

    from airflow_dashscope.operators import DashScopeDeployModelOperator

    monkeypatch.setenv(
        "AIRFLOW_CONN_DS_OL", json.dumps({"conn_type": "dashscope", "extra": {"workspace": "w"}})
    )
    op = DashScopeDeployModelOperator(task_id="t", model_name="m", dashscope_conn_id="ds_ol")
    lineage = op.get_openlineage_facets_on_complete(StoredResult({"deployed_model": "m-1"}))
    assert isinstance(lineage, OperatorLineage)
    assert [(d.namespace, d.name) for d in lineage.inputs] == [("dashscope://w", "models/m")]
    assert [(d.namespace, d.name) for d in lineage.outputs] == [
        ("dashscope://w", "deployments/m-1")
    ]
    # Nothing stored (the task failed before returning): the input is still known.
    lineage = op.get_openlineage_facets_on_complete(StoredResult(None))
    assert len(lineage.inputs) == 1 and lineage.outputs == []


#: Run in a fresh interpreter: the OpenLineage provider reads (and caches) its configuration
#: once, so the transport must be set before Airflow starts.
RUNNER = """
import json, os, runpy, sys
from airflow_dashscope.emulator.runner import run_emulator

with run_emulator(
    job_seconds=0.4, export_seconds=0.2, deploy_seconds=0.2, workspaces=("llm-lineage",)
) as emu:
    os.environ["AIRFLOW_CONN_DASHSCOPE_DEFAULT"] = json.dumps(
        {"conn_type": "dashscope", "host": emu.base_url, "password": emu.api_key,
         "extra": {"workspace": "llm-lineage"}}
    )
    dag = runpy.run_path(sys.argv[1])["dag"]
    run = dag.test()
    print("STATES=" + json.dumps({ti.task_id: ti.state for ti in run.get_task_instances()}))
"""

DAG_FILE = """
import pendulum
from airflow.sdk import DAG
from airflow_dashscope.operators import (
    DashScopeDeployModelOperator,
    DashScopeExportCheckpointOperator,
    DashScopeFineTuneOperator,
    DashScopeUploadFileOperator,
)

fast = {{"poll_interval": 0.05, "timeout": 60, "deferrable": False}}
with DAG("dashscope_lineage", schedule=None, start_date=pendulum.datetime(2025, 1, 1)) as dag:
    upload = DashScopeUploadFileOperator(task_id="upload", file_path={training!r})
    tune = DashScopeFineTuneOperator(
        task_id="fine_tune", model="qwen3-8b", training_file_ids=upload.output,
        hyper_parameters={hyper!r}, **fast,
    )
    export = DashScopeExportCheckpointOperator(
        task_id="export", job_id=tune.output["job_id"], model_name="lineage-bot", **fast
    )
    DashScopeDeployModelOperator(task_id="deploy", model_name=export.output["model_name"], **fast)
"""


def completed_lineage(events_file: Path) -> dict[str, dict[str, Any]]:
    """Per task, the inputs and outputs of its COMPLETE event, as (namespace, name) pairs."""
    found = {}
    for line in events_file.read_text().splitlines():
        event = json.loads(line)
        if event.get("eventType") != "COMPLETE" or "." not in event["job"]["name"]:
            continue
        task = event["job"]["name"].rsplit(".", 1)[1]
        found[task] = {
            side: {(d["namespace"], d["name"]) for d in event.get(side, [])}
            for side in ("inputs", "outputs")
        }
    return found


@pytest.mark.slow
def test_operators_report_their_datasets_in_a_real_run(airflow_db: Path, tmp_path: Path) -> None:
    training = tmp_path / "train.jsonl"
    training.write_text("\n".join([SFT_LINE] * 16) + "\n")
    dags = Path(os.environ["AIRFLOW__CORE__DAGS_FOLDER"])
    dags.mkdir(parents=True, exist_ok=True)
    dag_path = dags / "dashscope_lineage.py"
    dag_path.write_text(DAG_FILE.format(training=str(training), hyper=HYPER))
    events = tmp_path / "events.jsonl"
    env = {
        **os.environ,
        "AIRFLOW__OPENLINEAGE__TRANSPORT": json.dumps(
            {"type": "file", "log_file_path": str(events), "append": True}
        ),
        "AIRFLOW__OPENLINEAGE__EXECUTE_IN_THREAD": "True",
        "AIRFLOW__OPENLINEAGE__NAMESPACE": "tests",
    }
    done = subprocess.run(
        [sys.executable, "-c", RUNNER, str(dag_path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    (states_line,) = [x for x in done.stdout.splitlines() if x.startswith("STATES=")]
    states = json.loads(states_line.removeprefix("STATES="))
    assert set(states.values()) == {"success"}, (states, done.stdout[-3000:])

    lineage = completed_lineage(events)
    ns = "dashscope://llm-lineage"
    upload, tune = lineage["upload"], lineage["fine_tune"]
    export, deploy = lineage["export"], lineage["deploy"]
    assert upload["inputs"] == {("file", str(training))}
    ((_, file_name),) = upload["outputs"]
    assert file_name.startswith("files/")
    assert tune["inputs"] == {(ns, file_name), (ns, "models/qwen3-8b")}
    tuned = {name for space, name in tune["outputs"] if space == ns}
    job = next(name for name in tuned if name.startswith("fine-tunes/"))
    (trained,) = [name for name in tuned if name.startswith("models/qwen3-8b")]
    assert export["inputs"] == {(ns, job)}
    # "latest" is the final checkpoint, already published as the job's output: the export
    # reports the id it read back from the checkpoint list, not the name it asked for.
    assert export["outputs"] == {(ns, trained)}
    assert deploy["inputs"] == {(ns, trained)}
    deployed = trained.removeprefix("models/")
    assert any(name.startswith(f"deployments/{deployed}") for _, name in deploy["outputs"])
