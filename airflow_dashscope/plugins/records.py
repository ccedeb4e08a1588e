"""What the metadata DB knows about DashScope tasks: which task started which job or deployment.

The fine-tune and deploy operators push the remote id to XCom (``job_id``,
``deployed_model``) the moment it exists, and their result (``return_value``) when they end;
the connection comes from the task's rendered ``dashscope_conn_id``. Nothing here talks to
DashScope, and every query is limited to the DAG ids the caller may read.

A task is recognised by its class, not by its class name: a user's subclass of the fine-tune
operator starts fine-tune jobs too. The API server cannot import DAG files (a subclass often
lives in one), so the class is read where the metadata DB keeps it: the serialized DAG lists
each task's ``operator_extra_links``, and each kind's operator carries its own console link,
which subclasses inherit.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from airflow.models.dag import DagModel
from airflow.models.renderedtifields import RenderedTaskInstanceFields
from airflow.models.serialized_dag import SerializedDagModel
from airflow.models.taskinstance import TaskInstance
from airflow.models.xcom import XComModel
from airflow.sdk import BaseOperatorLink
from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from airflow_dashscope.compat import serialized_link_keys
from airflow_dashscope.hooks.dashscope import DashScopeHook
from airflow_dashscope.links.console import (
    DashScopeDeploymentLink,
    DashScopeExportedModelLink,
    DashScopeFineTuneJobLink,
)
from airflow_dashscope.links.results import DashScopeEvaluationLink, DashScopeSweepLink

Kind = Literal["fine_tune", "deployment", "export", "evaluation", "sweep"]

#: The link each kind's operator declares (``operator_extra_links``), by the kind of thing
#: its tasks do: the fine-tune, export and deploy operators (their console link), the
#: evaluation and the sweep selection (their tab link), and their subclasses.
LINK_KINDS: dict[type[BaseOperatorLink], Kind] = {
    DashScopeFineTuneJobLink: "fine_tune",
    DashScopeDeploymentLink: "deployment",
    DashScopeExportedModelLink: "export",
    DashScopeEvaluationLink: "evaluation",
    DashScopeSweepLink: "sweep",
}
#: The same, by the XCom key under which a serialized DAG names each of a task's links.
_KINDS_BY_LINK_KEY: dict[str, Kind] = {link().xcom_key: kind for link, kind in LINK_KINDS.items()}
#: Task kinds of each serialized DAG version seen, by (dag_version_id, dag_hash): a version's
#: serialized DAG is rewritten only while no task instance uses it, and the hash then changes.
_version_kinds: dict[tuple[Any, str], dict[str, Kind]] = {}
_VERSIONS_KEPT = 1024
#: The XCom key holding each kind's remote id.
ID_KEYS: dict[Kind, str] = {
    "fine_tune": "job_id",
    "deployment": "deployed_model",
    "export": "checkpoint",
    "evaluation": "digest",
    "sweep": "job_id",
}
RESULT_KEY = "return_value"
#: Rendered template fields the pages use (the estimate before a job ends; what a delete task
#: removed). Only these are read: other rendered fields stay out of the pages.
RENDERED_FIELDS = (
    "dashscope_conn_id",
    "training_tokens",
    "hyper_parameters",
    "deployed_model",
    "job_id",
    "checkpoint",
)


@dataclass
class TaskRecord:
    """One DashScope task instance, with the remote id and result it recorded."""

    dag_id: str
    run_id: str
    task_id: str
    map_index: int
    kind: Kind
    state: str | None
    start_date: datetime | None
    end_date: datetime | None
    xcoms: dict[str, Any] = field(default_factory=dict)
    conn_id: str = DashScopeHook.default_conn_name
    #: The task's :data:`RENDERED_FIELDS` that it rendered.
    rendered: dict[str, Any] = field(default_factory=dict)

    @property
    def remote_id(self) -> str | None:
        value = self.xcoms.get(ID_KEYS[self.kind]) or self.result.get(ID_KEYS[self.kind])
        return str(value) if value else None

    @property
    def result(self) -> dict[str, Any]:
        """The task's return value; its keys pushed one by one when it is absent."""
        value = self.xcoms.get(RESULT_KEY)
        if isinstance(value, dict):
            return value
        return {k: v for k, v in self.xcoms.items() if k != RESULT_KEY}


def decode(row: Any) -> Any:
    value = XComModel.deserialize_value(row)
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _xcoms(session: Session, tis: Iterable[Any]) -> dict[tuple[str, str, str, int], dict]:
    keys = {(ti.dag_id, ti.run_id, ti.task_id, ti.map_index) for ti in tis}
    if not keys:
        return {}
    rows = session.execute(
        select(
            XComModel.dag_id,
            XComModel.run_id,
            XComModel.task_id,
            XComModel.map_index,
            XComModel.key,
            XComModel.value,
        ).where(
            XComModel.dag_id.in_({k[0] for k in keys}),
            XComModel.run_id.in_({k[1] for k in keys}),
            XComModel.task_id.in_({k[2] for k in keys}),
        )
    )
    found: dict[tuple[str, str, str, int], dict[str, Any]] = {}
    for row in rows:
        key = (row.dag_id, row.run_id, row.task_id, row.map_index)
        if key in keys:
            found.setdefault(key, {})[row.key] = decode(row)
    return found


def _rendered(session: Session, tis: Iterable[Any]) -> dict[tuple[str, str, str, int], dict]:
    keys = {(ti.dag_id, ti.run_id, ti.task_id, ti.map_index) for ti in tis}
    if not keys:
        return {}
    rtif = RenderedTaskInstanceFields
    rows = session.execute(
        select(rtif.dag_id, rtif.run_id, rtif.task_id, rtif.map_index, rtif.rendered_fields).where(
            rtif.dag_id.in_({k[0] for k in keys}),
            rtif.run_id.in_({k[1] for k in keys}),
            rtif.task_id.in_({k[2] for k in keys}),
        )
    )
    found = {}
    for row in rows:
        key = (row.dag_id, row.run_id, row.task_id, row.map_index)
        fields = row.rendered_fields if isinstance(row.rendered_fields, dict) else {}
        if key in keys:
            found[key] = {k: fields[k] for k in RENDERED_FIELDS if fields.get(k) is not None}
    return found


def task_kinds(serialized_dag: dict[str, Any]) -> dict[str, Kind]:
    """The DashScope tasks of one serialized DAG (``SerializedDagModel.data``), by task id."""
    found: dict[str, Kind] = {}
    for entry in serialized_dag.get("dag", {}).get("tasks", []):
        task = entry.get("__var", entry) if isinstance(entry, dict) else {}
        keys = serialized_link_keys(task)
        kinds = {_KINDS_BY_LINK_KEY[key] for key in keys if key in _KINDS_BY_LINK_KEY}
        if len(kinds) == 1:
            found[task["task_id"]] = kinds.pop()
    return found


def _dashscope_tasks(
    session: Session, dag_ids: Collection[str], kinds: Collection[Kind]
) -> dict[tuple[Any, str], Kind]:
    """The DashScope tasks of these DAGs' versions, by (dag_version_id, task_id)."""
    sdm = SerializedDagModel
    versions = session.execute(
        select(sdm.dag_version_id, sdm.dag_hash).where(sdm.dag_id.in_(set(dag_ids)))
    ).all()
    found: dict[tuple[Any, str], Kind] = {}
    for version_id, dag_hash in versions:
        tasks = _version_kinds.get((version_id, dag_hash))
        if tasks is None:
            serialized = session.scalar(select(sdm).where(sdm.dag_version_id == version_id))
            tasks = task_kinds(serialized.data or {}) if serialized is not None else {}
            if len(_version_kinds) >= _VERSIONS_KEPT:
                _version_kinds.clear()
            _version_kinds[(version_id, dag_hash)] = tasks
        found.update({(version_id, t): k for t, k in tasks.items() if k in kinds})
    return found


def _records(
    session: Session, tis: list[Any], tasks: dict[tuple[Any, str], Kind]
) -> list[TaskRecord]:
    xcoms, rendered = _xcoms(session, tis), _rendered(session, tis)
    records = []
    for ti in tis:
        key = (ti.dag_id, ti.run_id, ti.task_id, ti.map_index)
        fields = rendered.get(key, {})
        conn_id = fields.get("dashscope_conn_id")
        records.append(
            TaskRecord(
                dag_id=ti.dag_id,
                run_id=ti.run_id,
                task_id=ti.task_id,
                map_index=ti.map_index,
                kind=tasks[(ti.dag_version_id, ti.task_id)],
                state=str(getattr(ti.state, "value", ti.state)) if ti.state else None,
                start_date=ti.start_date,
                end_date=ti.end_date,
                xcoms=xcoms.get(key, {}),
                conn_id=conn_id
                if isinstance(conn_id, str) and conn_id
                else DashScopeHook.default_conn_name,
                rendered=fields,
            )
        )
    return records


def _select_tis(tasks: dict[tuple[Any, str], Kind]) -> Any:
    """Task instances of these tasks (an empty IN matches nothing)."""
    ti = TaskInstance
    return select(
        ti.dag_id,
        ti.run_id,
        ti.task_id,
        ti.map_index,
        ti.dag_version_id,
        ti.state,
        ti.start_date,
        ti.end_date,
    ).where(tuple_(ti.dag_version_id, ti.task_id).in_(list(tasks)))


#: The kinds that start remote resources (the account page matches resources to them).
ALL_KINDS: tuple[Kind, ...] = ("fine_tune", "deployment", "export")
#: The kinds the tab draws.
TAB_KINDS: tuple[Kind, ...] = (*ALL_KINDS, "evaluation", "sweep")


def find_task(
    session: Session, dag_id: str, run_id: str, task_id: str, map_index: int
) -> TaskRecord | None:
    """The DashScope task instance at that address (None: absent, or not a DashScope task)."""
    ti = TaskInstance
    tasks = _dashscope_tasks(session, [dag_id], TAB_KINDS)
    if not tasks:
        return None
    row = session.execute(
        _select_tis(tasks).where(
            ti.dag_id == dag_id,
            ti.run_id == run_id,
            ti.task_id == task_id,
            ti.map_index == map_index,
        )
    ).first()
    return _records(session, [row], tasks)[0] if row is not None else None


def run_tasks(session: Session, dag_id: str, run_id: str) -> list[TaskRecord]:
    """The DashScope tasks of one DAG run (the exports and deploys next to a fine-tune, the
    mapped siblings of a sweep member, the selection that chose among them)."""
    ti = TaskInstance
    tasks = _dashscope_tasks(session, [dag_id], TAB_KINDS)
    if not tasks:
        return []
    rows = session.execute(_select_tis(tasks).where(ti.dag_id == dag_id, ti.run_id == run_id))
    return _records(session, list(rows), tasks)


def recent_tasks(
    session: Session,
    readable_dag_ids: Collection[str],
    *,
    dag_id: str | None = None,
    kinds: Collection[Kind] = ("fine_tune", "deployment"),
    limit: int = 100,
) -> list[TaskRecord]:
    """The latest DashScope tasks of the DAGs in ``readable_dag_ids``, newest first."""
    dag_ids = set(readable_dag_ids)
    if dag_id is not None:
        dag_ids &= {dag_id}
    if not dag_ids:
        return []
    tasks = _dashscope_tasks(session, dag_ids, kinds)
    if not tasks:
        return []
    ti = TaskInstance
    rows = session.execute(
        _select_tis(tasks)
        .where(ti.dag_id.in_(dag_ids))
        .order_by(ti.start_date.desc().nulls_last(), ti.run_id.desc())
        .limit(limit)
    ).all()
    return _records(session, list(rows), tasks)


def every_task(session: Session) -> list[TaskRecord]:
    """Every DashScope task instance of every DAG, with what it recorded: the account page
    matches remote resources against all of them, then shows each user only what they may read
    (a resource's owner must be found before it can be hidden)."""
    tasks = _dashscope_tasks(session, all_dag_ids(session), ALL_KINDS)
    if not tasks:
        return []
    rows = session.execute(_select_tis(tasks)).all()
    return _records(session, list(rows), tasks)


def all_dag_ids(session: Session) -> set[str]:
    """Every DAG this Airflow knows (a job named after any other DAG is not from here)."""
    return set(session.scalars(select(DagModel.dag_id)))
