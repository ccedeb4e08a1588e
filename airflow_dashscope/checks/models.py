"""Is this model one a fine-tune can start from? Asked before an upload or a create.

A model is known when it is a base model of the region's table, the output of an earlier
SUCCEEDED job, or (asked last, since it costs a request) a model the service lists as
deployable. The upload and the fine-tune operator both ask :func:`known_model`, with the
same :func:`deployable_lookup`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from airflow_dashscope.checks import catalog
from airflow_dashscope.exceptions import UnknownModelError

if TYPE_CHECKING:  # annotations only: DAG files parse without the client's models
    from airflow_dashscope.client import DashScopeClient
    from airflow_dashscope.client.models import FineTuneJob


class CallingOperator(Protocol):
    """What :func:`deployable_lookup` needs of an operator: its client, and ``calling``
    (client errors as task errors)."""

    @property
    def client(self) -> DashScopeClient: ...

    def calling(self, doing: str, call: Any, *args: Any, **kwargs: Any) -> Any: ...


def deployable_lookup(operator: CallingOperator) -> Callable[[], list[str]]:
    """The names of the models the service lists as deployable, asked only when called."""

    def names() -> list[str]:
        models = operator.calling(
            "listing the deployable models", operator.client.list_deployable_models
        )
        return [item.model_name for item in models]

    return names


def known_model(
    model: str,
    training_type: str,
    jobs: list[FineTuneJob],
    *,
    region: str | None = None,
    deployable: Callable[[], list[str]] = list,
) -> FineTuneJob | None:
    """None for a base model of the region's table (or a region no page documents, where
    nothing can be refused) or a model the service lists as deployable; the earlier
    SUCCEEDED job whose output ``model`` is; raises :class:`UnknownModelError` (naming the
    base models for ``training_type``) otherwise. ``deployable`` is asked last, and only for
    a model found nowhere else."""
    if not catalog.is_documented_region(region) or catalog.is_known_base_model(model, region):
        return None
    for job in jobs:
        if job.finetuned_output == model and job.status_name == "SUCCEEDED":
            return job
    if model in deployable():
        return None
    supported = ", ".join(catalog.models_supporting(training_type, region))
    raise UnknownModelError(
        f"Use a base model that supports {training_type} or the output of a SUCCEEDED "
        f"fine-tune job of this workspace: model {model!r} is neither.\n"
        f"  Base models for {training_type}: {supported or 'none'}."
    )
