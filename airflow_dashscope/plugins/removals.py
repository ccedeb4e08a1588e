"""Which task of this Airflow removed a deployment, so the tab says "removed by <task>" rather
than NOT FOUND for a deployment a DAG tore down on purpose.

Three kinds of task remove deployments, each read from what it left in the metadata DB:

* the retention operator returns ``{"deleted": [{"resource": "deployment", "id": ...}]}``;
* a promotion returns ``{"retired": [deployed_model, ...]}``;
* the delete operator returns nothing; its rendered ``deployed_model`` names what it deleted
  (a task that rendered ``deployed_model``, succeeded and returned nothing: the scale operator
  returns the deployment, the deploy operator its result).

Only the DAG of the task being shown is searched (a teardown lives beside what it tears down).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import Any

from airflow.models.renderedtifields import RenderedTaskInstanceFields
from airflow.models.taskinstance import TaskInstance
from airflow.models.xcom import XComModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from airflow_dashscope.plugins.records import RESULT_KEY, decode


def removed_ids(result: Any) -> set[str]:
    """The deployments one task's return value says it removed (retention or promotion)."""
    if not isinstance(result, dict):
        return set()
    found = {str(d) for d in result.get("retired") or [] if isinstance(d, str)}
    if result.get("dry_run"):
        return found
    for entry in result.get("deleted") or []:
        if isinstance(entry, dict) and entry.get("resource") == "deployment" and entry.get("id"):
            found.add(str(entry["id"]))
    return found


def removers(
    results: Iterable[tuple[str, Any]],
    deletes: Iterable[tuple[str, Any]],
    wanted: Collection[str],
) -> dict[str, str]:
    """``deployed_model -> task_id`` for the ``wanted`` ids: ``results`` are (task id, return
    value) pairs, ``deletes`` (task id, rendered ``deployed_model``) of delete tasks."""
    found: dict[str, str] = {}
    for task_id, result in results:
        for deployed in removed_ids(result) & set(wanted):
            found.setdefault(deployed, task_id)
    for task_id, deployed in deletes:
        if isinstance(deployed, str) and deployed in wanted:
            found.setdefault(deployed, task_id)
    return found


def find_removers(session: Session, dag_id: str, wanted: Collection[str]) -> dict[str, str]:
    """The task of ``dag_id`` that removed each of the ``wanted`` deployments (if one did)."""
    if not wanted:
        return {}
    rows = session.execute(
        select(XComModel.task_id, XComModel.run_id, XComModel.map_index, XComModel.value).where(
            XComModel.dag_id == dag_id, XComModel.key == RESULT_KEY
        )
    ).all()
    results = [(row.task_id, decode(row)) for row in rows]
    returned = {(row.task_id, row.run_id, row.map_index) for row in rows}
    rtif, ti = RenderedTaskInstanceFields, TaskInstance
    rendered = session.execute(
        select(rtif.task_id, rtif.run_id, rtif.map_index, rtif.rendered_fields)
        .join(
            ti,
            (ti.dag_id == rtif.dag_id)
            & (ti.run_id == rtif.run_id)
            & (ti.task_id == rtif.task_id)
            & (ti.map_index == rtif.map_index),
        )
        .where(rtif.dag_id == dag_id, ti.state == "success")
    ).all()
    deletes = [
        (row.task_id, row.rendered_fields.get("deployed_model"))
        for row in rendered
        if isinstance(row.rendered_fields, dict)
        and (row.task_id, row.run_id, row.map_index) not in returned
    ]
    return removers(results, deletes, wanted)
