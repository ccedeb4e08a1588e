"""The evaluation tab's JSON: each model's scores with their confidence intervals, the paired
comparison, the judge, the gate's verdict and the worst examples, from what the evaluation task
recorded (no I/O). Pure, so what the tab shows is tested without a browser.

The task's return value is the evaluation. A gate that fails ends the task skipped or failed,
with no return value: the operator pushes the same dict under :data:`EVALUATION_KEY` before the
gate decides, and that is read instead.
"""

from __future__ import annotations

from typing import Any

from airflow_dashscope.plugins.axes import nice_ticks
from airflow_dashscope.plugins.records import RESULT_KEY, TaskRecord
from airflow_dashscope.plugins.views import ENDED_TASK, REFRESH_SECONDS

#: The XCom key the evaluation operator pushes its result under before the gate decides.
EVALUATION_KEY = "evaluation"


def recorded_evaluation(record: TaskRecord) -> tuple[dict[str, Any] | None, str | None]:
    """The evaluation the task recorded and the XCom key it came from (None: none yet)."""
    for key in (RESULT_KEY, EVALUATION_KEY):
        value = record.xcoms.get(key)
        if isinstance(value, dict) and isinstance(value.get("scores"), dict):
            return value, key
    return None, None


def _interval(value: Any) -> dict[str, float | None] | None:
    if not isinstance(value, dict):
        return None
    out = {k: value.get(k) for k in ("mean", "low", "high")}
    if not all(isinstance(v, (int, float)) or v is None for v in out.values()):
        return None
    return out if out["mean"] is not None else None


def model_order(evaluation: dict[str, Any]) -> list[str]:
    """Model roles, the candidate first and the baseline last (the comparison's order)."""
    roles = list(evaluation.get("models") or {}) + [
        r for r in evaluation.get("scores") or {} if r not in (evaluation.get("models") or {})
    ]
    against = (evaluation.get("comparison") or {}).get("against")
    if against in roles:
        roles = [r for r in roles if r != against] + [against]
    return roles


def score_rows(evaluation: dict[str, Any], roles: list[str]) -> list[dict[str, Any]]:
    """One row per metric (the gate's first), each model's interval in ``roles`` order."""
    scores = evaluation.get("scores") or {}
    metrics: list[str] = []
    for role in roles:
        for metric in scores.get(role) or {}:
            if metric not in metrics:
                metrics.append(metric)
    main = evaluation.get("metric")
    if main in metrics:
        metrics = [main] + [m for m in metrics if m != main]
    return [
        {
            "metric": metric,
            "primary": metric == main,
            "models": {role: _interval((scores.get(role) or {}).get(metric)) for role in roles},
        }
        for metric in metrics
    ]


def score_ticks(rows: list[dict[str, Any]]) -> list[float]:
    """A shared axis for every metric's intervals (scores are 0..1 mostly; any range works)."""
    values = [
        v
        for row in rows
        for interval in row["models"].values()
        if interval
        for v in interval.values()
        if isinstance(v, (int, float))
    ]
    if not values:
        return [0.0, 1.0]
    return nice_ticks(min(0.0, min(values)), max(values))


def difference_ticks(comparison: Any) -> list[float] | None:
    """The paired difference's axis, always showing zero (no difference)."""
    diff = _interval(comparison.get("difference")) if isinstance(comparison, dict) else None
    if diff is None:
        return None
    values = [v for v in diff.values() if isinstance(v, (int, float))]
    return nice_ticks(min(0.0, *values), max(0.0, *values))


def verdict(gate: Any, state: str | None) -> dict[str, Any]:
    """The gate's rule and outcome in words: passed, failed, or no gate."""
    if not isinstance(gate, dict):
        return {"status": "NO GATE", "rule": None, "why": "no gate was set on this evaluation"}
    passed = gate.get("passed")
    status = "PASSED" if passed is True else "FAILED" if passed is False else "UNDECIDED"
    why = gate.get("why")
    if status == "FAILED" and state in ("skipped", "failed"):
        why = f"{why or 'the gate failed'} (the task ended {state})"
    return {"status": status, "rule": gate.get("rule"), "why": why}


def worst_rows(evaluation: dict[str, Any], roles: list[str]) -> list[dict[str, Any]]:
    """The worst examples, each model's answer and score side by side in ``roles`` order."""
    rows = []
    for item in evaluation.get("worst") or []:
        if not isinstance(item, dict):
            continue
        answers, scores = item.get("answers") or {}, item.get("scores") or {}
        rows.append(
            {
                "line": item.get("line"),
                "prompt": item.get("prompt"),
                "reference": item.get("reference"),
                "models": [
                    {"role": r, "answer": answers.get(r), "score": scores.get(r)} for r in roles
                ],
            }
        )
    return rows


def evaluation_view(record: TaskRecord, task: dict[str, Any]) -> dict[str, Any]:
    """Everything the evaluation tab shows (``task``: the task's info, ``views.task_info``)."""
    evaluation, source = recorded_evaluation(record)
    if evaluation is None:
        waiting = record.state not in ENDED_TASK
        return {
            "task": task,
            "evaluation": None,
            "why": "The evaluation has not finished yet."
            if waiting
            else f"The task ended {record.state} without recording an evaluation.",
            "refresh_seconds": REFRESH_SECONDS if waiting else None,
        }
    roles = model_order(evaluation)
    rows = score_rows(evaluation, roles)
    models = evaluation.get("models") or {}
    return {
        "task": task,
        "source": source,
        "evaluation": {
            "examples": evaluation.get("examples"),
            "metric": evaluation.get("metric"),
            "models": [{"role": r, "model": models.get(r)} for r in roles],
            "scores": rows,
            "ticks": score_ticks(rows),
            "comparison": evaluation.get("comparison"),
            "difference_ticks": difference_ticks(evaluation.get("comparison")),
            "judge": evaluation.get("judge"),
            "gate": verdict(evaluation.get("gate"), record.state),
            "worst": worst_rows(evaluation, roles),
            "usage": evaluation.get("usage"),
            "cost": evaluation.get("cost"),
            "estimated_cost": evaluation.get("estimated_cost"),
            "results_path": evaluation.get("results_path"),
            "digest": evaluation.get("digest"),
            "reused": evaluation.get("reused"),
        },
        "refresh_seconds": None,
    }
