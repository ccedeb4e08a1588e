"""The account page's matching and sums, on the client's own models (no service, no DB).

The end-to-end cases (real ``dag.test()`` runs, the emulator, real users) are in
``test_account.py``; these pin the rules a page load applies in memory.
"""

from __future__ import annotations

from typing import Any

from airflow_dashscope.checks.quotas import AccountLimits
from airflow_dashscope.client.models import DashScopeFile, Deployment, FineTuneJob
from airflow_dashscope.operators.identity import dag_digest, deployment_suffix, instance_digest
from airflow_dashscope.plugins.account import Listing, Viewer, account_view, accounts
from airflow_dashscope.plugins.ownership import OwnerIndex
from airflow_dashscope.plugins.records import TaskRecord

RUN = "scheduled__2025-06-02T00:00:00+00:00"


def record(dag_id: str, task_id: str, kind: Any = "fine_tune", **xcoms: Any) -> TaskRecord:
    return TaskRecord(dag_id, RUN, task_id, -1, kind, "success", None, None, xcoms)


def our_name(dag_id: str, task_id: str, generation: int = 0) -> str:
    instance = instance_digest(dag_id, task_id, RUN)
    return f"airflow-{dag_digest(dag_id)}-{instance}-0badcafe-c{generation}"


def job(job_id: str, name: str | None, **fields: Any) -> FineTuneJob:
    return FineTuneJob.model_validate(
        {"job_id": job_id, "job_name": name, "status": "SUCCEEDED", **fields}
    )


def view(listing: Listing, records: list[TaskRecord], viewer: Viewer, prices: Any = None) -> Any:
    index = OwnerIndex({r.dag_id for r in records} | {"other_dag"}, records)
    return account_view([listing], index, viewer, limits=AccountLimits(), prices=prices)


ADMIN = Viewer(frozenset({"weekly", "other_dag"}), sees_all=True)


def test_cost_per_job_and_per_dag_says_unknown_without_a_price() -> None:
    jobs = [
        job("ft-1", our_name("weekly", "tune"), model="qwen3-8b", usage=100_000),
        job(
            "ft-2",
            our_name("weekly", "tune", 1),
            model="ft-prev",
            base_model="qwen3-8b",
            usage=50_000,
        ),
        job("ft-3", our_name("weekly", "tune", 2), model="some-private-model", usage=10_000),
    ]
    data = view(Listing(["c"], jobs=jobs), [record("weekly", "tune")], ADMIN)
    rows = {r["remote_id"]: r for r in data.rows}
    assert rows["ft-1"]["yuan"] == "¥0.60"
    assert rows["ft-2"]["yuan"] == "¥0.30"  # continued training: its base model's price
    assert rows["ft-3"]["yuan"] == "¥ unknown"
    training = job("ft-4", our_name("weekly", "tune", 3), status="RUNNING", model="qwen3-8b")
    data = view(Listing(["c"], jobs=[*jobs, training]), [record("weekly", "tune")], ADMIN)
    assert {r["remote_id"]: r["yuan"] for r in data.rows}["ft-4"] is None
    (weekly,) = data.cost_by_dag()
    assert weekly == {
        "dag_id": "weekly",
        "jobs": 4,
        "billed_tokens": 160_000,
        "unpriced": 1,
        "yuan": "¥0.90",
    }
    # [dashscope] training_prices gives the private model a price.
    priced = view(
        Listing(["c"], jobs=jobs), [record("weekly", "tune")], ADMIN, '{"some-private-model": 0.1}'
    )
    assert {r["remote_id"]: r["yuan"] for r in priced.rows}["ft-3"] == "¥1.00"


def test_deployments_are_owned_by_their_deploy_task_or_the_model_they_serve() -> None:
    deploy = record("weekly", "deploy", kind="deployment")
    suffix = deployment_suffix({"ti": deploy}, "weekly-model", None)
    tuned = job("ft-1", our_name("weekly", "tune"), finetuned_output="weekly-model")
    listing = Listing(
        ["c"],
        jobs=[tuned],
        deployments=[
            Deployment(
                deployed_model=f"weekly-model-{suffix}", model_name="weekly-model", status="RUNNING"
            ),
            Deployment(
                deployed_model="weekly-model-byhand", model_name="weekly-model", status="RUNNING"
            ),
            Deployment(deployed_model="stranger-1", model_name="stranger", status="RUNNING"),
        ],
    )
    data = view(listing, [record("weekly", "tune"), deploy], ADMIN)
    rows = {r["remote_id"]: r for r in data.rows}
    assert rows[f"weekly-model-{suffix}"]["task_id"] == "deploy"
    assert rows["weekly-model-byhand"]["owner"] == "serves job ft-1's model"
    assert (
        rows["weekly-model-byhand"]["task_id"] == "tune"
        and rows["weekly-model-byhand"]["flags"] == []
    )
    assert rows["stranger-1"]["owner"] == "not from this Airflow"
    assert rows["stranger-1"]["flags"] == ["Running (billed by the hour), and no DAG here owns it."]
    now = data.billing_now()
    assert now["deployments_running"] == 3
    assert now["deployments_by_dag"] == {"not from this Airflow": 1, "weekly": 2}


def test_a_user_sees_their_dags_and_what_no_dag_made_only_if_they_see_all() -> None:
    listing = Listing(
        ["c"],
        jobs=[
            job("ft-weekly", our_name("weekly", "tune"), training_file_ids=["file-w"]),
            job("ft-other", our_name("other_dag", "tune"), training_file_ids=["file-o"]),
            job("ft-console", "made-by-hand", training_file_ids=["file-w"]),
        ],
        files=[DashScopeFile(file_id=f, size=10) for f in ("file-w", "file-o", "file-x")],
    )
    records = [record("weekly", "tune"), record("other_dag", "tune")]
    reader = Viewer(frozenset({"weekly"}), sees_all=False)
    mine = view(listing, records, reader)
    assert [r["remote_id"] for r in mine.rows] == ["ft-weekly"]
    assert [(f["remote_id"], f["jobs"]) for f in mine.files] == [("file-w", ["ft-weekly"])]
    # The gauges are the whole account's, whoever looks.
    assert [g["used"] for g in mine.accounts[0]["gauges"]] == [3, 3, 30]
    assert [g["text"] for g in mine.accounts[0]["gauges"]][2] == "0.0 KB of 5.00 GB"
    everything = view(listing, records, ADMIN)
    assert {r["remote_id"] for r in everything.rows} == {"ft-weekly", "ft-other", "ft-console"}
    assert {f["remote_id"]: f["owner"] for f in everything.files}["file-x"] == "used by no job"


def test_connections_to_one_account_are_counted_once() -> None:
    shared = job("ft-1", None)
    merged = accounts(
        {
            "a": Listing(["a"], jobs=[shared]),
            "b": Listing(["b"], jobs=[shared]),
            "c": Listing(["c"], jobs=[job("ft-9", None)]),
        }
    )
    assert [(m.conn_ids, len(m.jobs)) for m in merged] == [(["a", "b"], 1), (["c"], 1)]


def test_a_legacy_job_name_is_found_by_the_id_its_task_recorded() -> None:
    legacy = job("ft-old", f"airflow-{instance_digest('weekly', 'tune', RUN)}-0badcafe-c0")
    data = view(Listing(["c"], jobs=[legacy]), [record("weekly", "tune", job_id="ft-old")], ADMIN)
    (row,) = data.rows
    assert (row["dag_id"], row["task_id"], row["owner"]) == (
        "weekly",
        "tune",
        "job id recorded by the task",
    )


def test_only_a_user_who_may_read_every_dag_sees_all() -> None:
    assert Viewer.of({"weekly", "other_dag"}, {"weekly", "other_dag"}).sees_all
    assert not Viewer.of({"weekly"}, {"weekly", "other_dag"}).sees_all
    reader = Viewer.of({"weekly"}, {"weekly", "other_dag"})
    assert reader.may_see([None]) is False and reader.may_see([]) is False
