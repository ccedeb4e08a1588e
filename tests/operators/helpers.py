"""Running an operator the way Airflow does: execute, and for a deferral the trigger's first
event handed to ``execute_complete``."""

from __future__ import annotations

from typing import Any

import pytest

try:  # Airflow >= 3.2
    from airflow.sdk.exceptions import TaskDeferred
except ImportError:  # Airflow 3.1
    from airflow.exceptions import TaskDeferred  # type: ignore[no-redef,attr-defined]
from airflow.triggers.base import BaseTrigger

from airflow_dashscope.operators import DashScopeFineTuneOperator
from tests.operators.conftest import HYPER, first_event


def execute(operator: Any, context: dict[str, Any]) -> Any:
    """``operator.execute`` with the operator in the context, as the task runner puts it."""
    context["task"] = operator
    return operator.execute(context)


def deferral(operator: Any, context: dict[str, Any]) -> TaskDeferred:
    """Run ``execute`` up to its deferral; returns it (trigger, method, kwargs)."""
    with pytest.raises(TaskDeferred) as deferred:
        execute(operator, context)
    assert deferred.value.method_name == "execute_complete"
    return deferred.value


def defer(operator: Any, context: dict[str, Any]) -> BaseTrigger:
    """Run ``execute`` up to its deferral; returns the trigger."""
    return deferral(operator, context).trigger


def run_deferred(operator: Any, context: dict[str, Any]) -> Any:
    """execute -> TaskDeferred -> the trigger's event -> execute_complete with the deferral's
    kwargs, as Airflow resumes a task."""
    deferred = deferral(operator, context)
    event = first_event(deferred.trigger)
    return operator.execute_complete(context, event, **(deferred.kwargs or {}))


def fine_tune(file_id: str, **options: Any) -> DashScopeFineTuneOperator:
    """A fine-tune of ``file_id`` on qwen3-8b, deferrable and polling fast unless told."""
    options.setdefault("deferrable", True)
    options.setdefault("poll_interval", 0.01)
    return DashScopeFineTuneOperator(
        task_id=options.pop("task_id", "finetune"),
        model=options.pop("model", "qwen3-8b"),
        training_file_ids=file_id,
        hyper_parameters=options.pop("hyper_parameters", HYPER),
        **options,
    )


def run(op: Any, context: dict[str, Any]) -> Any:
    """Run ``op`` to its end in the mode it was built with."""
    return run_deferred(op, context) if op.deferrable else execute(op, context)
