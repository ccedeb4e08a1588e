"""The plugin's endpoints over HTTP, on real task instances and XComs, against the emulator.

No mocks: the DAGs ran with ``dag.test()``, the view reads the metadata DB and the emulator
through the provider's hook, and users are authenticated with real JWTs from an auth manager
with DAG-level permissions (``tests/plugins/dag_acl_auth.py``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from airflow_dashscope.plugins.app import create_app
from airflow_dashscope.plugins.remote import RemoteReader
from tests.plugins.conftest import World, token


@pytest.fixture(scope="module")
def http(world: World, auth: Any) -> Iterator[TestClient]:
    """The plugin's app mounted as the API server mounts it, reading without a cache."""
    root = FastAPI()
    root.mount("/dashscope", create_app(RemoteReader(ttl=0)))
    with TestClient(root) as client:
        yield client


def task_path(world: World, dag_id: str, task_id: str = "fine_tune", *, api: bool = True) -> str:
    run = quote(world.runs[dag_id], safe="")
    return f"/dashscope/{'api/' if api else ''}task/{dag_id}/{task_id}/-1/{run}"


def step_lines(world: World, dag_id: str) -> list[str]:
    logs = world.client.get_fine_tune_logs(world.jobs[dag_id], offset=1, line=1000).logs
    return [line for line in logs if re.search(r"\bstep \d+/\d+", line)]


def test_the_tab_shows_the_finished_job(world: World, auth: Any, http: TestClient) -> None:
    answer = http.get(task_path(world, "ui_visible"), headers=token(auth, "admin", "admin"))
    assert answer.status_code == 200, answer.text
    data = answer.json()
    job = world.client.get_fine_tune(world.jobs["ui_visible"])

    assert data["job"]["job_id"] == job.job_id and data["job"]["status"] == "SUCCEEDED"
    assert data["job"]["console_url"].endswith(job.job_id)
    assert data["refresh_seconds"] is None
    points = data["training"]["points"]
    assert len(points) == len(step_lines(world, "ui_visible")) == 10
    assert [p["step"] for p in points] == list(range(1, 11))
    assert data["training"]["total_steps"] == 10 and data["training"]["total_epochs"] == 2
    assert data["training"]["final_loss"] == points[-1]["train_loss"]
    # The cost is the job's own figure.
    assert data["cost"]["billed_tokens"] == job.usage_tokens > 0
    # Timeline: created <= started <= finished.
    timeline = data["timeline"]
    assert timeline["created"] <= timeline["started"] <= timeline["finished"]
    assert timeline["queue_seconds"] is not None and timeline["run_seconds"] is not None
    # Checkpoints, newest first; the one the DAG's export task published is marked.
    checkpoints = data["checkpoints"]
    assert [c["checkpoint"] for c in checkpoints] == ["checkpoint-10", "checkpoint-5"]
    assert checkpoints[0]["exported_by"] == "export" and checkpoints[1]["exported_by"] is None
    # The deployment the DAG made of the exported model, with its console link. The final
    # checkpoint is already published as the job's output, so the export reads that id back.
    (deployment,) = data["deployments"]
    assert deployment["model_name"] == job.finetuned_output
    assert deployment["status"] == "RUNNING"
    assert deployment["task_id"] == "deploy" and deployment["task_status"] == "RUNNING"
    assert deployment["console_url"].endswith(quote(deployment["deployed_model"], safe=""))
    assert world.emu.api_key not in answer.text


def test_the_curve_grows_while_the_job_runs(world: World, auth: Any, http: TestClient) -> None:
    headers = token(auth, "mallory")
    emu = world.emu
    emu.advance(emu.settings.pending_seconds + 0.01)
    counts, statuses = [], []
    for _ in range(3):
        emu.advance(emu.settings.job_seconds / 4)
        data = http.get(task_path(world, "ui_hidden"), headers=headers).json()
        counts.append(len(data["training"]["points"]))
        statuses.append(data["job"]["status"])
        assert len(data["training"]["points"]) == len(step_lines(world, "ui_hidden"))
    assert statuses == ["RUNNING"] * 3
    assert counts == sorted(counts) and counts[0] < counts[-1]
    assert data["refresh_seconds"] and data["timeline"]["finished"] is None
    assert data["task"]["conn_id"] == "ds_hidden"  # read from the task's rendered field


@pytest.mark.parametrize(
    "path",
    [
        "/dashscope/jobs",
        "/dashscope/api/jobs",
        "/dashscope/static/dashscope.js",
        "TASK_API",
        "TASK_PAGE",
    ],
)
def test_every_route_needs_a_logged_in_user(world: World, http: TestClient, path: str) -> None:
    if path == "TASK_API":
        path = task_path(world, "ui_visible")
    elif path == "TASK_PAGE":
        path = task_path(world, "ui_visible", api=False)
    assert http.get(path).status_code == 401
    forged = {"Authorization": "Bearer not-a-token"}
    assert http.get(path, headers=forged).status_code in (401, 403)


@pytest.mark.parametrize("api", [True, False])
def test_a_user_who_may_not_read_the_dag_gets_403(
    world: World, auth: Any, http: TestClient, api: bool
) -> None:
    path = task_path(world, "ui_visible", api=api)
    answer = http.get(path, headers=token(auth, "mallory"))
    assert answer.status_code == 403
    assert world.jobs["ui_visible"] not in answer.text
    assert http.get(path, headers=token(auth, "alice")).status_code == 200


def test_lists_hold_only_readable_dags(world: World, auth: Any, http: TestClient) -> None:
    def rows(user: str, **params: str) -> list[dict[str, Any]]:
        answer = http.get("/dashscope/api/jobs", params=params, headers=token(auth, user))
        assert answer.status_code == 200, answer.text
        # Other test modules may have run DAGs in the same metadata DB: keep this world's.
        return [r for r in answer.json()["rows"] if r["dag_id"].startswith("ui_")]

    everything = rows("alice")
    assert {(r["dag_id"], r["kind"]) for r in everything} == {
        ("ui_visible", "fine_tune"),
        ("ui_visible", "deployment"),
        ("ui_hidden", "fine_tune"),
    }
    by_id = {r["remote_id"]: r for r in everything}
    assert by_id[world.jobs["ui_visible"]]["status"] == "SUCCEEDED"
    assert by_id[world.jobs["ui_visible"]]["task_link"] == (
        f"dags/ui_visible/runs/{quote(world.runs['ui_visible'], safe='')}/tasks/fine_tune"
    )
    assert {r["remote_id"] for r in rows("mallory")} == {world.jobs["ui_hidden"]}
    # Filters: by DAG, by status; asking for a DAG one may not read is refused.
    assert {r["dag_id"] for r in rows("alice", dag_id="ui_hidden")} == {"ui_hidden"}
    succeeded = rows("alice", status="succeeded")
    assert [r["remote_id"] for r in succeeded] == [world.jobs["ui_visible"]]
    denied = http.get(
        "/dashscope/api/jobs", params={"dag_id": "ui_visible"}, headers=token(auth, "mallory")
    )
    assert denied.status_code == 403
    # A user who may read no DAG is refused the page altogether.
    assert http.get("/dashscope/api/jobs", headers=token(auth, "nobody")).status_code == 403


def test_the_pages_render_without_the_key(world: World, auth: Any, http: TestClient) -> None:
    headers = token(auth, "admin", "admin")
    page = http.get("/dashscope/jobs", headers=headers)
    assert page.status_code == 200
    assert world.jobs["ui_visible"] in page.text and world.jobs["ui_hidden"] in page.text
    assert 'href="../dags/ui_visible/runs/' in page.text
    tab = http.get(task_path(world, "ui_visible", api=False), headers=headers)
    assert tab.status_code == 200 and 'data-api="../../../../api/task/ui_visible/' in tab.text
    assert 'src="../../../../static/dashscope.js"' in tab.text
    script = http.get("/dashscope/static/dashscope.js", headers=headers)
    assert script.status_code == 200
    assert script.headers["content-type"].startswith("text/javascript")
    for text in (page.text, tab.text, script.text):
        assert world.emu.api_key not in text


def test_an_unfilled_map_index_means_not_mapped(world: World, auth: Any, http: TestClient) -> None:
    """Airflow's UI leaves the ``{MAP_INDEX}`` placeholder as is for an unmapped task."""
    path = task_path(world, "ui_visible").replace("/-1/", "/%7BMAP_INDEX%7D/")
    answer = http.get(path, headers=token(auth, "alice"))
    assert answer.status_code == 200 and answer.json()["task"]["map_index"] == -1


def test_other_tasks_have_no_fine_tune(world: World, auth: Any, http: TestClient) -> None:
    headers = token(auth, "admin", "admin")
    page = http.get(task_path(world, "ui_visible", "upload", api=False), headers=headers)
    assert page.status_code == 200 and 'data-testid="not-fine-tune"' in page.text
    assert http.get(task_path(world, "ui_visible", "upload"), headers=headers).status_code == 404
    assert http.get("/dashscope/static/../app.py", headers=headers).status_code == 404


def test_airflow_mounts_the_plugin(world: World, auth: Any) -> None:
    """Installed, the provider's plugin is served by Airflow's own API server app."""
    from airflow.api_fastapi.app import create_app as airflow_app

    with TestClient(airflow_app(apps="core")) as client:
        assert client.get("/dashscope/api/jobs").status_code == 401
        answer = client.get("/dashscope/api/jobs", headers=token(auth, "alice"))
        assert answer.status_code == 200
        assert world.jobs["ui_visible"] in answer.text
