"""``dashscope://`` assets: one per model that fine-tuning or export makes available.

URI: ``dashscope://<workspace or "default">/models/<model id>``, e.g.
``dashscope://llm-8v53etv3hwb8orx1/models/qwen3-8b-ft-202511272033-8ae7``. The workspace is
part of the identity because model ids are only visible inside their workspace.

Why an alias: a model's id (``finetuned_output``, an exported checkpoint's ``model_name``) is
known only once the job has run, so no operator can list the asset in ``outlets`` when the DAG
is parsed. Airflow 3's answer is an :class:`~airflow.sdk.AssetAlias`: the operator declares
:data:`MODELS_ALIAS` in its ``outlets`` and, on success, :func:`emit_model_asset` adds the
concrete asset through it (``context["outlet_events"][alias].add(asset, extra=...)``). Airflow
then records an event for ``dashscope://.../models/<id>`` (creating the asset if new) with
the given ``extra``, and links the alias to it.

Scheduling downstream:

* ``schedule=MODELS_ALIAS`` (or ``AssetAlias("dashscope-models")``): runs whenever any new
  model is ready, including a model the scheduler has never seen before. The event (with its
  ``extra``: job id, base model...) is in the run's ``triggering_asset_events``.
* ``schedule=model_asset("llm-...", "qwen3-8b-ft-...")``: runs when that one known model is
  (re)published.

The ``handler`` (:func:`sanitize_uri`) and ``factory`` (:func:`create_asset`) are registered
for the ``dashscope`` scheme in ``get_provider_info``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import SplitResult, quote

from airflow.sdk import Asset, AssetAlias

SCHEME = "dashscope"
DEFAULT_WORKSPACE = "default"
#: Declare this in the ``outlets`` of any operator that calls :func:`emit_model_asset`.
MODELS_ALIAS_NAME = "dashscope-models"
MODELS_ALIAS = AssetAlias(name=MODELS_ALIAS_NAME)


def model_asset_uri(workspace: str | None, model_id: str) -> str:
    if not model_id:
        raise ValueError("a DashScope model asset needs a model id")
    return (
        f"{SCHEME}://{quote(workspace or DEFAULT_WORKSPACE, safe='')}"
        f"/models/{quote(model_id, safe='')}"
    )


def sanitize_uri(uri: SplitResult) -> SplitResult:
    """Airflow's URI handler for ``dashscope://``: rejects anything but a model URI."""
    segments = uri.path.strip("/").split("/")
    if not uri.netloc or len(segments) != 2 or segments[0] != "models" or not segments[1]:
        raise ValueError(
            f"A DashScope asset URI must look like dashscope://<workspace>/models/<model id>, "
            f"got {uri.geturl()!r}"
        )
    if uri.query or uri.fragment:
        raise ValueError(f"A DashScope asset URI takes no query or fragment: {uri.geturl()!r}")
    return uri


def create_asset(
    *, workspace: str | None = None, model_id: str, extra: dict[str, Any] | None = None
) -> Asset:
    """The asset of one model (Airflow's asset factory for the ``dashscope`` scheme)."""
    return Asset(uri=model_asset_uri(workspace, model_id), extra=extra or {})


def model_asset(workspace: str | None, model_id: str) -> Asset:
    """One known model's asset, for DAG authors: ``schedule=model_asset("llm-...", "qwen...")``."""
    return create_asset(workspace=workspace, model_id=model_id)


def emit_model_asset(
    context: Any, *, workspace: str | None, model_id: str, extra: dict[str, Any] | None = None
) -> Asset:
    """Record an asset event for a model that is ready, through :data:`MODELS_ALIAS`.

    The calling task must list :data:`MODELS_ALIAS` in its ``outlets`` (Airflow ignores
    alias events of an undeclared alias): this raises instead of losing the event silently.
    ``extra`` must be JSON-able (it is stored with the event).
    """
    task = context.get("task")
    outlets = getattr(task, "outlets", None) or []
    if not any(isinstance(o, AssetAlias) and o.name == MODELS_ALIAS_NAME for o in outlets):
        raise ValueError(
            f"Task {getattr(task, 'task_id', '?')!r} must declare "
            f"AssetAlias({MODELS_ALIAS_NAME!r}) in its outlets to emit DashScope model assets."
        )
    asset = create_asset(workspace=workspace, model_id=model_id)
    context["outlet_events"][MODELS_ALIAS].add(asset, extra=dict(extra or {}))
    return asset
