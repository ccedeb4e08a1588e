"""What a fine-tune request's literal values allow checking when the DAG file is parsed.

A DAG whose fine-tune asks for something the service would refuse (a missing required
hyperparameter, an unknown training type, a hyperparameter of the wrong type) should fail
as a DAG import error, not after its upload task has paid for storage and a file id.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from airflow_dashscope.checks.parameters import (
    JobParameterError,
    normalize_hyper_parameters,
    validate_fine_tune_parameters,
)
from airflow_dashscope.exceptions import InvalidRequestError


def enum_value(value: Any) -> Any:
    """``TrainingType.SFT`` -> ``"sft"``: the public enums are accepted, their values sent."""
    return getattr(value, "value", value)


def is_templated(value: Any) -> bool:
    """Filled only when the task runs: an ``XComArg`` (``task.output``) or Jinja text."""
    if isinstance(value, str):
        return "{{" in value or "{%" in value
    return callable(getattr(value, "resolve", None)) and callable(
        getattr(value, "iter_references", None)
    )


def check_literal_request(task_id: str, model: Any, training_type: Any, hyper: Any) -> None:
    """The checks a DAG file's literal values allow, run at DAG parse: a request the service
    would refuse is a DAG import error, before any upload of the run is paid for. Templated
    values are checked when the task runs."""
    kind = enum_value(training_type)
    if is_templated(kind) or not (hyper is None or isinstance(hyper, Mapping)):
        return  # the type decides which hyperparameters apply; the dict may come from XCom
    given = dict(hyper or {})
    pending = [name for name, value in given.items() if is_templated(value)]
    try:
        validate_fine_tune_parameters(
            model if isinstance(model, str) and not is_templated(model) else "(templated)",
            kind,
            normalize_hyper_parameters(given),
            pending=pending,
        )
    except JobParameterError as error:
        problems = "\n".join(f"  - {problem}" for problem in error.problems)
        raise InvalidRequestError(
            f"Fix the arguments of fine-tune task {task_id!r} in the DAG file (checked at DAG "
            f"parse, so nothing was uploaded or trained):\n{problems}\nEvery job needs "
            "hyper_parameters with n_epochs, batch_size and max_length, e.g. "
            "hyper_parameters={'n_epochs': 1, 'batch_size': 8, 'max_length': 2048}."
        ) from None
