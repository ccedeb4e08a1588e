"""``dashscope://`` assets: one per model that fine-tuning or export makes available, and
one per deployment.

URIs: ``dashscope://<workspace or "default">/models/<model id>`` (trained and exported
models) and ``dashscope://<workspace>/deployments/<deployed_model>`` (deployments), e.g.
``dashscope://llm-8v53etv3hwb8orx1/models/qwen3-8b-ft-202511272033-8ae7``. The workspace is
part of the identity because model ids are only visible inside their workspace.

Three kinds of event, each through its own alias and each with ``extra["kind"]``:
``trained`` (a fine-tune job's output, :data:`TRAINED_ALIAS`), ``exported`` (a published
checkpoint, :data:`EXPORTED_ALIAS`) and ``deployed`` (:data:`DEPLOYMENTS_ALIAS`). Airflow
queues runs per asset, so deployments have assets of their own: a DAG scheduled on
:data:`DEPLOYMENTS_ALIAS` runs once per deployment, never for the training or export that
led to it. A DAG that wants every model event lists both model aliases in its schedule.

Why an alias: a model's id (``finetuned_output``, an exported checkpoint's ``model_name``) is
known only once the job has run, so no operator can list the asset in ``outlets`` when the DAG
is parsed. Airflow 3's answer is an :class:`~airflow.sdk.AssetAlias`: the operator declares
its kind's alias in its ``outlets`` and, on success, :func:`emit_model_asset` adds the
concrete asset through it (``context["outlet_events"][alias].add(asset, extra=...)``). Airflow
then records an event for ``dashscope://.../models/<id>`` (creating the asset if new) with
the given ``extra``, and links the alias to it.

Scheduling downstream:

* ``schedule=DEPLOYMENTS_ALIAS``: runs once per new deployment, including one the
  scheduler has never seen before. The event (with its ``extra``: kind, deployed model,
  model name...) is in the run's ``triggering_asset_events``.
* ``schedule=TRAINED_ALIAS`` / ``EXPORTED_ALIAS``: once per new trained / exported model.
* ``schedule=model_asset("llm-...", "qwen3-8b-ft-...")``: runs when that one known model is
  (re)published.

The ``handler`` (:func:`sanitize_uri`) and ``factory`` (:func:`create_asset`) are registered
for the ``dashscope`` scheme in ``get_provider_info``.
"""

from __future__ import annotations

from typing import Any, Literal
from urllib.parse import SplitResult, quote

from airflow.sdk import Asset, AssetAlias

SCHEME = "dashscope"
DEFAULT_WORKSPACE = "default"
#: What an asset event announces.
AssetKind = Literal["trained", "exported", "deployed"]
TRAINED_ALIAS = AssetAlias(name="dashscope-trained-models")
EXPORTED_ALIAS = AssetAlias(name="dashscope-exported-models")
DEPLOYMENTS_ALIAS = AssetAlias(name="dashscope-deployments")
_ALIASES: dict[str, AssetAlias] = {
    "trained": TRAINED_ALIAS,
    "exported": EXPORTED_ALIAS,
    "deployed": DEPLOYMENTS_ALIAS,
}
#: The URI collection of each kind: deployments apart, so their events queue their own DAGs.
_COLLECTIONS: dict[str, str] = {
    "trained": "models",
    "exported": "models",
    "deployed": "deployments",
}


def alias_for(kind: AssetKind) -> AssetAlias:
    """The alias an operator of this kind declares in its ``outlets``."""
    return _ALIASES[kind]


def model_asset_uri(workspace: str | None, model_id: str, collection: str = "models") -> str:
    if not model_id:
        raise ValueError("a DashScope model asset needs a model id")
    return (
        f"{SCHEME}://{quote(workspace or DEFAULT_WORKSPACE, safe='')}"
        f"/{collection}/{quote(model_id, safe='')}"
    )


def sanitize_uri(uri: SplitResult) -> SplitResult:
    """Airflow's URI handler for ``dashscope://``: a model or deployment URI, nothing else."""
    segments = uri.path.strip("/").split("/")
    if (
        not uri.netloc
        or len(segments) != 2
        or segments[0] not in ("models", "deployments")
        or not segments[1]
    ):
        raise ValueError(
            "A DashScope asset URI must look like dashscope://<workspace>/models/<model id> "
            f"or dashscope://<workspace>/deployments/<deployed model>, got {uri.geturl()!r}"
        )
    if uri.query or uri.fragment:
        raise ValueError(f"A DashScope asset URI takes no query or fragment: {uri.geturl()!r}")
    return uri


def create_asset(
    *,
    workspace: str | None = None,
    model_id: str,
    extra: dict[str, Any] | None = None,
    collection: str = "models",
) -> Asset:
    """The asset of one model (Airflow's asset factory for the ``dashscope`` scheme)."""
    return Asset(uri=model_asset_uri(workspace, model_id, collection), extra=extra or {})


def model_asset(workspace: str | None, model_id: str) -> Asset:
    """One known model's asset, for DAG authors: ``schedule=model_asset("llm-...", "qwen...")``."""
    return create_asset(workspace=workspace, model_id=model_id)


def deployment_asset(workspace: str | None, deployed_model: str) -> Asset:
    """One known deployment's asset (``schedule=deployment_asset("llm-...", "qwen...-ab12")``)."""
    return create_asset(workspace=workspace, model_id=deployed_model, collection="deployments")


def emit_model_asset(
    context: Any,
    *,
    workspace: str | None,
    model_id: str,
    kind: AssetKind = "trained",
    extra: dict[str, Any] | None = None,
) -> Asset:
    """Record an asset event of ``kind`` for a model (or deployment) that is ready, through
    the kind's alias, with ``extra["kind"] = kind``.

    The calling task must list that alias in its ``outlets`` (Airflow ignores alias events
    of an undeclared alias): this raises instead of losing the event silently. ``extra``
    must be JSON-able (it is stored with the event).
    """
    alias = alias_for(kind)
    task = context.get("task")
    outlets = getattr(task, "outlets", None) or []
    if not any(isinstance(o, AssetAlias) and o.name == alias.name for o in outlets):
        raise ValueError(
            f"Task {getattr(task, 'task_id', '?')!r} must declare "
            f"AssetAlias({alias.name!r}) in its outlets to emit DashScope {kind} assets."
        )
    asset = create_asset(workspace=workspace, model_id=model_id, collection=_COLLECTIONS[kind])
    context["outlet_events"][alias].add(asset, extra={"kind": kind, **dict(extra or {})})
    return asset
