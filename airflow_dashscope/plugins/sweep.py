"""A sweep's members side by side: every member's loss curves overlaid, the chosen one marked,
and the comparison table; shown on the selection task's tab and on each mapped fine-tune
member's tab.

Members come from the selection's result (``sweep.members``) once it ran; before, from the
mapped siblings of the fine-tune task (same run, same task id), with nothing chosen. Each
member's curve is read from its job's log like the fine-tune tab's, a few logs at a time; a
retired (deleted) job's log may be gone, and its legend then says so.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from airflow_dashscope.client.errors import DashScopeError, is_gone
from airflow_dashscope.plugins.axes import loss_axes
from airflow_dashscope.plugins.records import TaskRecord
from airflow_dashscope.waiting.training_log import TrainingSummary, summarize

#: Job logs read at once for one sweep (each its own request; the reader caches them).
MAX_PARALLEL_LOGS = 4
DEFAULT_METRIC = "best_val_loss"

#: A member's curve, or why there is none.
Curve = TrainingSummary | str


def selection_for(record: TaskRecord, run_records: list[TaskRecord]) -> TaskRecord | None:
    """The sweep selection of ``record``'s run that chose among ``record``'s task's members."""
    for other in run_records:
        sweep = other.result.get("sweep") if other.kind == "sweep" else None
        if isinstance(sweep, dict) and sweep.get("fine_tune_task_id") == record.task_id:
            return other
    return None


def sibling_members(record: TaskRecord, run_records: list[TaskRecord]) -> list[dict[str, Any]]:
    """Members of a mapped fine-tune task before a selection ran: its mapped instances."""
    siblings = [
        r
        for r in run_records
        if r.kind == "fine_tune" and r.task_id == record.task_id and r.map_index >= 0
    ]
    return [
        {
            "map_index": r.map_index,
            "job_id": r.remote_id,
            "status": r.result.get("status") or (r.state or "").upper() or None,
            "value": None,
            "hyper_parameters": r.rendered.get("hyper_parameters") or {},
            "retired": False,
        }
        for r in sorted(siblings, key=lambda r: r.map_index)
    ]


def sweep_of(
    record: TaskRecord, run_records: list[TaskRecord]
) -> tuple[dict[str, Any], list[dict[str, Any]]] | None:
    """(settings, members) of the sweep ``record`` belongs to: the selection's when it ran,
    else the siblings'; None for a fine-tune task that is not mapped."""
    selection = record if record.kind == "sweep" else selection_for(record, run_records)
    sweep = selection.result.get("sweep") if selection is not None else None
    if isinstance(sweep, dict) and isinstance(sweep.get("members"), list):
        settings = {
            "metric": sweep.get("metric") or DEFAULT_METRIC,
            "direction": sweep.get("direction") or "min",
            "fine_tune_task_id": sweep.get("fine_tune_task_id"),
            "chosen_map_index": sweep.get("chosen_map_index"),
            "selection_task_id": selection.task_id if selection else None,
        }
        return settings, [m for m in sweep["members"] if isinstance(m, dict)]
    if record.kind != "fine_tune" or record.map_index < 0:
        return None
    settings = {
        "metric": DEFAULT_METRIC,
        "direction": "min",
        "fine_tune_task_id": record.task_id,
        "chosen_map_index": None,
        "selection_task_id": None,
    }
    return settings, sibling_members(record, run_records)


def read_curves(
    job_ids: list[str], read: Callable[[str], list[str]], *, workers: int = MAX_PARALLEL_LOGS
) -> dict[str, Curve]:
    """Each job's log summarized (``read(job_id) -> lines``), a few at a time; a log that
    cannot be read gives why instead ("retired": the job is gone)."""

    def one(job_id: str) -> Curve:
        try:
            return summarize(read(job_id))
        except DashScopeError as error:
            return "retired" if is_gone(error) else f"{type(error).__name__}: {error}"

    unique = list(dict.fromkeys(job_ids))
    if not unique:
        return {}
    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(unique)))) as pool:
        return dict(zip(unique, pool.map(one, unique), strict=True))


def _value(member: dict[str, Any], metric: str, curve: Curve | None) -> Any:
    value = member.get("value")
    if value is None and isinstance(curve, TrainingSummary):
        value = getattr(curve, metric, None)
    return value if isinstance(value, (int, float)) else None


def _label(member: dict[str, Any], chosen: bool, retired: bool) -> str:
    hyper = member.get("hyper_parameters") or {}
    shown = ", ".join(f"{k}={v}" for k, v in sorted(hyper.items()) if k != "logging_steps")
    label = f"#{member.get('map_index')}" + (f" ({shown})" if shown else "")
    return label + (" · chosen" if chosen else "") + (" · retired" if retired else "")


def _no_curve(job_id: Any, curve: Curve | None, *, retired: bool) -> str:
    """Why a member has no curve to draw."""
    if retired:
        return "retired: its log is gone"
    if isinstance(curve, str):
        return curve
    return "no loss logged yet" if job_id else "no job yet"


def sweep_view(
    settings: dict[str, Any],
    members: list[dict[str, Any]],
    curves: dict[str, Curve],
    *,
    current_map_index: int | None = None,
) -> dict[str, Any]:
    """The overlay's series and the comparison table, members in map index order."""
    chosen_index = settings.get("chosen_map_index")
    rows: list[dict[str, Any]] = []
    series: list[dict[str, Any]] = []
    curves_drawn: list[list[dict[str, Any]]] = []
    for member in sorted(members, key=lambda m: m.get("map_index", 0)):
        job_id = member.get("job_id")
        curve = curves.get(job_id) if job_id else None
        retired = bool(member.get("retired")) or curve == "retired"
        chosen = chosen_index is not None and member.get("map_index") == chosen_index
        points = curve.to_dict(points=True)["points"] if isinstance(curve, TrainingSummary) else []
        curves_drawn.append(points)
        note = None if points else _no_curve(job_id, curve, retired=retired)
        label = _label(member, chosen, retired)
        rows.append(
            {
                "map_index": member.get("map_index"),
                "job_id": job_id,
                "status": member.get("status"),
                "value": _value(member, settings["metric"], curve),
                "hyper_parameters": member.get("hyper_parameters") or {},
                "retired": retired,
                "chosen": chosen,
                "current": member.get("map_index") == current_map_index,
                "label": label,
                "note": note,
            }
        )
        series.append(
            {
                "map_index": member.get("map_index"),
                "label": label,
                "chosen": chosen,
                "retired": retired,
                "points": points,
            }
        )
    return {
        **settings,
        "members": rows,
        "series": series,
        "axes": loss_axes(curves_drawn),
    }
