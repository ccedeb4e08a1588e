"""The DashScope page's JSON: the account as the service lists it, one row per remote resource.

Pure (no I/O): quota gauges, every job, deployment and file with the task that made it
(:mod:`~airflow_dashscope.plugins.ownership`), what bills now, and the cost per DAG.

Who sees what (the one place this is decided):

* the **gauges** are the account's, whole, for every user: a quota is shared by all DAGs;
* a **row** is shown to a user who may read its DAG;
* a resource **not from this Airflow** (no DAG here made it) is shown only to a user who may
  read every DAG: it could be anyone's, so only someone who sees everything may see it;
* the counts of what bills now and the cost per DAG are made of the rows the user sees.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from airflow_dashscope.checks.prices import training_cost, yuan
from airflow_dashscope.checks.quotas import GB, AccountLimits, usage_of
from airflow_dashscope.plugins.ownership import (
    NOT_FROM_HERE,
    JobMatch,
    Owner,
    OwnerIndex,
    deployment_flags,
    file_users,
    match_jobs,
    published_models,
)
from airflow_dashscope.plugins.views import run_link, task_link

if TYPE_CHECKING:
    from datetime import datetime

    from airflow_dashscope.client.models import DashScopeFile, Deployment, FineTuneJob


@dataclass
class Listing:
    """One account's resources, as the connections that reach it list them."""

    conn_ids: list[str]
    jobs: list[FineTuneJob] = field(default_factory=list)
    files: list[DashScopeFile] = field(default_factory=list)
    deployments: list[Deployment] = field(default_factory=list)


@dataclass(frozen=True)
class Viewer:
    """What the user may read: these DAGs, and, with ``sees_all``, every DAG."""

    readable: frozenset[str]
    sees_all: bool

    @classmethod
    def of(cls, readable: Iterable[str], known_dag_ids: Iterable[str]) -> Viewer:
        """``sees_all`` when the user may read every DAG this Airflow has."""
        allowed = frozenset(readable)
        return cls(allowed, sees_all=set(known_dag_ids) <= allowed)

    def may_see(self, owners: Iterable[Owner | None]) -> bool:
        dag_ids = [o.dag_id for o in owners if o is not None]
        if not dag_ids:
            return self.sees_all
        return any(d in self.readable for d in dag_ids)


def accounts(by_conn: dict[str, Listing]) -> list[Listing]:
    """Connections that list a common resource reach one account (ids are the service's, unique
    per account): their lists are merged, so nothing is counted twice."""
    merged: list[Listing] = []
    for conn_id, listing in sorted(by_conn.items()):
        ids = _ids(listing)
        same = next((m for m in merged if ids and ids & _ids(m)), None)
        if same is None:
            merged.append(
                Listing(
                    [conn_id], list(listing.jobs), list(listing.files), list(listing.deployments)
                )
            )
        else:
            same.conn_ids.append(conn_id)
    return merged


def _ids(listing: Listing) -> set[str]:
    return (
        {f"job:{j.job_id}" for j in listing.jobs}
        | {f"file:{f.file_id}" for f in listing.files}
        | {f"deployment:{d.deployed_model}" for d in listing.deployments}
    )


def gauges(listing: Listing, limits: AccountLimits) -> list[dict[str, Any]]:
    used = usage_of(listing.jobs, listing.files)
    return [
        _gauge("Fine-tune jobs running or succeeded", used.fine_tune_jobs, limits.fine_tune_jobs),
        _gauge("Files", used.files, limits.files),
        _gauge("File storage", used.file_storage_bytes, limits.file_storage_bytes, unit="bytes"),
    ]


def _gauge(name: str, used: int, limit: int, unit: str = "") -> dict[str, Any]:
    percent = min(100.0, 100.0 * used / limit)
    text = f"{_size(used)} of {_size(limit)}" if unit == "bytes" else f"{used} of {limit}"
    level = "full" if used >= limit else "high" if percent >= 80 else "ok"
    return {
        "name": name,
        "used": used,
        "limit": limit,
        "percent": round(percent, 1),
        "text": text,
        "level": level,
    }


def _size(count: int) -> str:
    if count >= GB:
        return f"{count / GB:.2f} GB"
    if count >= 1024**2:
        return f"{count / 1024**2:.1f} MB"
    return f"{count / 1024:.1f} KB"


def _owner_fields(owner: Owner | None) -> dict[str, Any]:
    record = owner.record if owner else None
    return {
        "dag_id": owner.dag_id if owner else None,
        "run_id": record.run_id if record else None,
        "task_id": record.task_id if record else None,
        "map_index": record.map_index if record else -1,
        "state": record.state if record else None,
        "task_link": task_link(record) if record else None,
        "run_link": run_link(record) if record else None,
        "owner": owner.how if owner else NOT_FROM_HERE,
    }


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def job_row(match: JobMatch, conn_ids: Sequence[str], prices: Any) -> dict[str, Any]:
    job = match.job
    cost = training_cost(job.usage_tokens, job.model, base_model=job.base_model, overrides=prices)
    return {
        "kind": "fine_tune",
        "remote_id": job.job_id,
        "name": job.job_name,
        "status": job.status_name,
        "model": job.finetuned_output,
        "trained_from": job.model,
        "billed_tokens": job.usage_tokens,
        "cost": None if cost is None else str(cost),
        # No tokens billed yet (a job in progress) is no cost yet, not an unknown one.
        "yuan": yuan(cost) if job.usage_tokens is not None else None,
        "created": _iso(job.create_time),
        "start_date": _iso(job.create_time),
        "flags": list(match.flags),
        "conn_ids": list(conn_ids),
        **_owner_fields(match.owner),
    }


def deployment_row(
    deployment: Deployment, owner: Owner | None, conn_ids: Sequence[str]
) -> dict[str, Any]:
    return {
        "kind": "deployment",
        "remote_id": deployment.deployed_model,
        "name": deployment.name,
        "status": deployment.status_name,
        "model": deployment.model_name,
        "trained_from": deployment.base_model,
        "billed_tokens": None,
        "cost": None,
        "yuan": None,
        "created": _iso(deployment.gmt_create),
        "start_date": _iso(deployment.gmt_create),
        "flags": deployment_flags(deployment, owner),
        "conn_ids": list(conn_ids),
        **_owner_fields(owner),
    }


def file_row(
    file: DashScopeFile, users: list[JobMatch], viewer: Viewer, conn_ids: Sequence[str]
) -> dict[str, Any]:
    owners = {(m.owner.dag_id if m.owner else None) for m in users}
    shown = [m for m in users if viewer.may_see([m.owner])]
    return {
        "kind": "file",
        "remote_id": file.file_id,
        "name": file.name,
        "size": file.size,
        "created": _iso(file.gmt_create),
        "jobs": [m.job.job_id for m in shown],
        "dag_ids": sorted({m.owner.dag_id for m in shown if m.owner}),
        "owner": "used by no job" if not users else (None if owners - {None} else NOT_FROM_HERE),
        "conn_ids": list(conn_ids),
    }


@dataclass
class AccountView:
    """Everything the page shows, for one user."""

    accounts: list[dict[str, Any]] = field(default_factory=list)
    rows: list[dict[str, Any]] = field(default_factory=list)
    files: list[dict[str, Any]] = field(default_factory=list)

    def billing_now(self) -> dict[str, Any]:
        """What is billing while the page is open: serving deployments, training jobs."""
        deployments = [
            r for r in self.rows if r["kind"] == "deployment" and r["status"] == "RUNNING"
        ]
        training = [r for r in self.rows if r["kind"] == "fine_tune" and r["status"] == "RUNNING"]
        return {
            "deployments_running": len(deployments),
            "deployments_by_dag": _count_by_dag(deployments),
            "jobs_training": len(training),
            "jobs_by_dag": _count_by_dag(training),
        }

    def cost_by_dag(self) -> list[dict[str, Any]]:
        """Billed tokens and yuan per DAG (jobs not from this Airflow under one heading)."""
        totals: dict[str, dict[str, Any]] = {}
        for row in self.rows:
            if row["kind"] != "fine_tune":
                continue
            dag = row["dag_id"] or NOT_FROM_HERE
            total = totals.setdefault(
                dag,
                {"dag_id": dag, "jobs": 0, "billed_tokens": 0, "amount": Decimal(0), "unpriced": 0},
            )
            total["jobs"] += 1
            total["billed_tokens"] += row["billed_tokens"] or 0
            if row["cost"] is None and row["billed_tokens"]:
                total["unpriced"] += 1
            else:
                total["amount"] += Decimal(row["cost"] or 0)
        for total in totals.values():
            total["yuan"] = yuan(total.pop("amount").quantize(Decimal("0.01")))
        return sorted(totals.values(), key=lambda t: (t["dag_id"] == NOT_FROM_HERE, t["dag_id"]))


def _count_by_dag(rows: list[dict[str, Any]]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for row in rows:
        dag = row["dag_id"] or NOT_FROM_HERE
        counts[dag] = counts.get(dag, 0) + 1
    return dict(sorted(counts.items()))


def account_view(
    listings: list[Listing],
    index: OwnerIndex,
    viewer: Viewer,
    *,
    limits: AccountLimits,
    prices: Any = None,
) -> AccountView:
    """Match every listed resource to its owner; keep the rows ``viewer`` may see."""
    view = AccountView()
    for listing in listings:
        view.accounts.append({"conn_ids": listing.conn_ids, "gauges": gauges(listing, limits)})
        matches = match_jobs(listing.jobs, index)
        models = published_models(matches)
        for match in matches:
            if viewer.may_see([match.owner]):
                view.rows.append(job_row(match, listing.conn_ids, prices))
        for deployment in listing.deployments:
            owner = index.deployment(deployment, models)
            if viewer.may_see([owner]):
                view.rows.append(deployment_row(deployment, owner, listing.conn_ids))
        for file in listing.files:
            users = file_users(file.file_id, matches)
            if viewer.may_see([m.owner for m in users]):
                view.files.append(file_row(file, users, viewer, listing.conn_ids))
    view.rows.sort(key=lambda r: (r["created"] or "", r["remote_id"]), reverse=True)
    view.files.sort(key=lambda r: (r["created"] or "", r["remote_id"]), reverse=True)
    return view
