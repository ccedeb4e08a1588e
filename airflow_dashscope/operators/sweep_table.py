"""Choosing the best member of a sweep, without I/O: the value each member is judged on (the
metrics and which way each is better: ``sweep_metrics.py``), the ranking, why nobody
qualifies, and the comparison table of the task log.

A member is one map index of a mapped fine-tune task: its task state, its result (the
fine-tune operator's return value; none when the task failed), its job and the job's hyper
parameters. :func:`choose` picks the member with the best value (lowest loss, or highest
evaluation score; a tie goes to the lower map index, so a rerun picks the same one).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from airflow_dashscope.exceptions import DashScopeFatalError
from airflow_dashscope.operators.sweep_metrics import EVALUATION, direction_of


class NoQualifiedMemberError(DashScopeFatalError):
    """No member of the sweep can be chosen: no retry of the selection changes that."""


@dataclass
class Member:
    """One map index of the sweep (JSON form: :meth:`to_dict`, the ``sweep.members`` rows)."""

    map_index: int
    task_state: str | None
    result: Mapping[str, Any] | None
    job_id: str | None = None
    job_status: str | None = None
    hyper_parameters: dict[str, Any] = field(default_factory=dict)
    value: float | None = None
    #: Why the member cannot be chosen (None: it qualifies).
    excluded: str | None = None
    retired: bool = False
    #: What happened to its job when the losers were retired (kept: why).
    retirement: str | None = None

    @property
    def status(self) -> str:
        """The job's status, else the task's state (a member that made no job)."""
        if self.job_status:
            return self.job_status
        if self.result and self.result.get("status"):
            return str(self.result["status"])
        return (self.task_state or "unknown").upper()

    def to_dict(self) -> dict[str, Any]:
        return {
            "map_index": self.map_index,
            "job_id": self.job_id,
            "status": self.status,
            "task_state": self.task_state,
            "value": self.value,
            "hyper_parameters": self.hyper_parameters,
            "finetuned_output": (self.result or {}).get("finetuned_output"),
            "excluded": self.excluded,
            "retired": self.retired,
            "retirement": self.retirement,
        }


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def training_value(result: Mapping[str, Any], metric: str) -> float | None:
    """``result["training"][metric]`` (None when the log had none, or was unreadable)."""
    training = result.get("training")
    return _number(training.get(metric)) if isinstance(training, Mapping) else None


def evaluation_model(evaluation: Mapping[str, Any]) -> str | None:
    """The name of the evaluation's first model (the one it judges), e.g. ``candidate``."""
    for key in ("models", "scores"):
        names = evaluation.get(key)
        if isinstance(names, Mapping) and names:
            return str(next(iter(names)))
    return None


def evaluation_value(evaluation: Mapping[str, Any], metric: str | None) -> float | None:
    """``scores[<first model>][<metric>]["mean"]``; ``metric`` None: the evaluation's own."""
    name, metric = evaluation_model(evaluation), metric or evaluation.get("metric")
    scores = evaluation.get("scores")
    if name is None or not metric or not isinstance(scores, Mapping):
        return None
    score = (scores.get(name) or {}).get(str(metric))
    return _number(score.get("mean")) if isinstance(score, Mapping) else None


def evaluated_model_id(evaluation: Mapping[str, Any]) -> str | None:
    """The model id the evaluation's first model stands for (``models[<name>]``)."""
    models, name = evaluation.get("models"), evaluation_model(evaluation)
    if isinstance(models, Mapping) and name is not None and isinstance(models.get(name), str):
        return str(models[name])
    return None


def match_evaluations(
    members: Sequence[Member], evaluations: Mapping[int, Mapping[str, Any] | None]
) -> dict[int, Mapping[str, Any]]:
    """Member map index -> its evaluation. By model id when the evaluations name one (the
    member's ``finetuned_output``, or a deployment of it, ``<output>-<suffix>``), since a
    failed member shifts the map indexes of an evaluation mapped over the outputs; else by
    map index."""
    found = {i: e for i, e in evaluations.items() if e}
    if not any(evaluated_model_id(e) for e in found.values()):
        return found
    by_id: dict[int, Mapping[str, Any]] = {}
    for member in members:
        output = (member.result or {}).get("finetuned_output")
        for evaluation in found.values():
            model = evaluated_model_id(evaluation)
            if output and model and (model == output or model.startswith(f"{output}-")):
                by_id[member.map_index] = evaluation
                break
    return by_id


def judge(
    members: Sequence[Member],
    metric: str,
    *,
    evaluations: Mapping[int, Mapping[str, Any]] | None = None,
    evaluation_metric: str | None = None,
) -> None:
    """Set each member's ``value``, or ``excluded`` with the reason it cannot be chosen."""
    direction_of(metric)
    for member in members:
        if member.result is None:
            member.excluded = f"task {member.task_state or 'did not succeed'}: no result"
        elif member.result.get("status") != "SUCCEEDED":
            member.excluded = f"job {member.result.get('status')}: no model"
        elif metric == EVALUATION:
            evaluation = (evaluations or {}).get(member.map_index)
            if evaluation is None:
                member.excluded = "no evaluation"
            else:
                member.value = evaluation_value(evaluation, evaluation_metric)
                if member.value is None:
                    wanted = evaluation_metric or evaluation.get("metric")
                    member.excluded = f"its evaluation has no mean score for {wanted}"
        else:
            member.value = training_value(member.result, metric)
            if member.value is None:
                member.excluded = (
                    "no training summary (log unreadable)"
                    if not isinstance(member.result.get("training"), Mapping)
                    else f"its log has no {metric}"
                )


def choose(members: Sequence[Member], metric: str, task_id: str) -> Member:
    """The best qualified member (ties: the lower map index); raises
    :class:`NoQualifiedMemberError` saying why none qualifies and what to change."""
    qualified = [m for m in members if m.excluded is None and m.value is not None]
    if qualified:
        sign = -1.0 if direction_of(metric) == "max" else 1.0
        return min(qualified, key=lambda m: (sign * (m.value or 0.0), m.map_index))
    raise NoQualifiedMemberError(why_none(members, metric, task_id))


def why_none(members: Sequence[Member], metric: str, task_id: str) -> str:
    """The reason no member qualifies, with the remedy."""
    if not members:
        return (
            f"No member of {task_id} ran in this DAG run: nothing to choose from. Check that "
            f"{task_id} is a mapped fine-tune upstream of this task (expand(...))."
        )
    succeeded = [m for m in members if (m.result or {}).get("status") == "SUCCEEDED"]
    if not succeeded:
        states = ", ".join(f"{m.map_index}: {m.status}" for m in members)
        return (
            f"No member of {task_id} succeeded ({states}): nothing to choose from. See the "
            "members' task logs; fix the failing inputs and clear the sweep."
        )
    if metric in ("best_val_loss", "final_val_loss"):
        return (
            f"No member of {task_id} logged a validation loss ({metric}): give the fine-tune "
            "validation_file_ids, or a split in its hyper_parameters (e.g. "
            '{"split": 0.8}), or choose metric="best_loss".'
        )
    if metric == EVALUATION:
        reasons = "; ".join(f"{m.map_index}: {m.excluded}" for m in succeeded)
        return (
            f"No succeeded member of {task_id} has an evaluation score ({reasons}): pass "
            "evaluations=<the mapped evaluation>.output, one per member, and the "
            "evaluation_metric its scores carry; give the evaluation "
            'trigger_rule="all_done", or a failed member keeps it from running.'
        )
    reasons = "; ".join(f"{m.map_index}: {m.excluded}" for m in succeeded)
    return f"No succeeded member of {task_id} has {metric} ({reasons})."


def differing(members: Sequence[Member]) -> list[str]:
    """The hyper parameters whose values differ between members (the sweep's axes)."""
    keys = sorted({key for m in members for key in m.hyper_parameters})
    return [k for k in keys if len({repr(m.hyper_parameters.get(k)) for m in members}) > 1]


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def table(members: Sequence[Member], metric: str, chosen: Member | None) -> str:
    """The comparison as aligned text: map index, job, the differing hyper parameters,
    status, the metric, and the choice (or why a member is out)."""
    axes = differing(members)
    header = ["map", "job", *axes, "status", metric, "choice"]
    rows = [header]
    for m in members:
        if chosen is not None and m.map_index == chosen.map_index:
            note = "<- chosen"
        else:
            note = m.excluded or ""
            if m.retired:
                note = f"{note}; retired" if note else "retired"
            elif m.retirement:
                note = f"{note}; kept: {m.retirement}" if note else f"kept: {m.retirement}"
        rows.append(
            [
                str(m.map_index),
                m.job_id or "-",
                *(_cell(m.hyper_parameters.get(axis)) for axis in axes),
                m.status,
                _cell(m.value),
                note,
            ]
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header) - 1)]
    return "\n".join(
        "  ".join([*(cell.ljust(w) for cell, w in zip(row, widths, strict=False)), row[-1]])
        for row in rows
    )
