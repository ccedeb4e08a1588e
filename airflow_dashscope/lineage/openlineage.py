"""OpenLineage for the DashScope operators: what each task read and what it made.

Install the ``openlineage`` extra (``apache-airflow-providers-openlineage``) and configure its
transport; the OpenLineage listener then calls ``get_openlineage_facets_on_complete`` of the
operators, which the mixins below provide. Without the extra nothing here is imported.

Datasets of the service live under one namespace per workspace, ``dashscope://<workspace>``
(``default`` for the account's default one, as in the ``dashscope://`` Airflow assets):

============================  =====================================================
``files/<file id>``           an uploaded training or validation file
``models/<model id>``         a base model, a fine-tuned model or an exported checkpoint
``fine-tunes/<job id>``       a fine-tune job's checkpoints (what an export reads)
``deployments/<deployed id>`` a deployment serving a model
============================  =====================================================

So a lineage graph reads: ``s3://bucket/train.jsonl`` -> upload -> ``files/file-...`` ->
fine-tune (with ``models/qwen3-8b``) -> ``models/qwen3-8b-ft-...`` and ``fine-tunes/ft-...``
-> export -> ``models/my-model`` -> deploy -> ``deployments/my-model-...``. The upload's
source is a local file (namespace ``file``, name its absolute path) or an object-storage
URL (namespace ``s3://bucket``, name the key), as OpenLineage's naming conventions say.

The dataset building is pure (:func:`fine_tune_datasets` and friends); the mixins only
gather what the operator stored: its rendered arguments and its return value (XCom
``return_value``, written before the listener runs).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

from airflow_dashscope.checks.ids import as_id_list
from airflow_dashscope.lineage.assets import DEFAULT_WORKSPACE, SCHEME

if TYPE_CHECKING:
    from airflow.providers.common.compat.openlineage.facet import Dataset
    from airflow.providers.openlineage.extractors import OperatorLineage

log = logging.getLogger(__name__)


class LineageDataset:
    """An OpenLineage dataset id, free of the OpenLineage packages (a plain slotted class, not
    a dataclass: this module loads with every DAG file that uses the operators)."""

    __slots__ = ("name", "namespace")

    def __init__(self, namespace: str, name: str) -> None:
        self.namespace = namespace
        self.name = name

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, LineageDataset):
            return NotImplemented
        return (self.namespace, self.name) == (other.namespace, other.name)

    def __hash__(self) -> int:
        return hash((self.namespace, self.name))

    def __repr__(self) -> str:
        return f"LineageDataset(namespace={self.namespace!r}, name={self.name!r})"


Datasets = tuple[list[LineageDataset], list[LineageDataset]]


def namespace(workspace: str | None) -> str:
    return f"{SCHEME}://{quote(workspace or DEFAULT_WORKSPACE, safe='')}"


def _dataset(workspace: str | None, kind: str, resource_id: Any) -> LineageDataset:
    return LineageDataset(namespace(workspace), f"{kind}/{resource_id}")


def file_datasets(
    workspace: str | None, file_ids: str | Sequence[str] | None
) -> list[LineageDataset]:
    return [_dataset(workspace, "files", file_id) for file_id in as_id_list(file_ids)]


def model_dataset(workspace: str | None, model: str) -> LineageDataset:
    return _dataset(workspace, "models", model)


def source_dataset(source: Any) -> LineageDataset:
    """The file an upload read: an object-storage URL or a local path (made absolute)."""
    text = str(source)
    parts = urlsplit(text)
    if parts.scheme and parts.scheme != "file" and "://" in text:
        return LineageDataset(f"{parts.scheme}://{parts.netloc}", parts.path.lstrip("/"))
    path = parts.path if parts.scheme == "file" else text
    return LineageDataset("file", os.path.abspath(os.path.expanduser(path)))


def upload_datasets(workspace: str | None, source: Any, file_id: str | None) -> Datasets:
    return [source_dataset(source)], file_datasets(workspace, file_id)


def fine_tune_datasets(
    workspace: str | None,
    *,
    model: str,
    training_file_ids: str | Sequence[str] | None,
    validation_file_ids: str | Sequence[str] | None = None,
    job_id: str | None = None,
    finetuned_output: str | None = None,
) -> Datasets:
    """Inputs: the training and validation files and the base model; outputs: the new model
    and the job's checkpoints (once the job exists)."""
    inputs = [
        *file_datasets(workspace, training_file_ids),
        *file_datasets(workspace, validation_file_ids),
        model_dataset(workspace, model),
    ]
    outputs = []
    if finetuned_output:
        outputs.append(model_dataset(workspace, finetuned_output))
    if job_id:
        outputs.append(_dataset(workspace, "fine-tunes", job_id))
    return inputs, outputs


def export_datasets(workspace: str | None, *, job_id: str, model_name: str | None) -> Datasets:
    outputs = [model_dataset(workspace, model_name)] if model_name else []
    return [_dataset(workspace, "fine-tunes", job_id)], outputs


def deploy_datasets(
    workspace: str | None, *, model_name: str, deployed_model: str | None
) -> Datasets:
    outputs = [_dataset(workspace, "deployments", deployed_model)] if deployed_model else []
    return [model_dataset(workspace, model_name)], outputs


def to_openlineage(datasets: Iterable[LineageDataset]) -> list[Dataset]:
    from airflow.providers.common.compat.openlineage.facet import Dataset

    return [Dataset(namespace=d.namespace, name=d.name) for d in datasets]


def asset_to_openlineage(asset: Any, lineage_context: Any = None) -> Dataset:
    """The OpenLineage dataset of a ``dashscope://<workspace>/models/<id>`` Airflow asset
    (registered as the scheme's ``to_openlineage_converter``): the same id the operators
    report, so asset events and operator lineage name one model alike."""
    from airflow.providers.common.compat.openlineage.facet import Dataset

    parts = urlsplit(asset.uri)
    return Dataset(namespace=f"{SCHEME}://{parts.netloc}", name=parts.path.lstrip("/"))


def stored_result(task_instance: Any) -> Any:
    """The task's return value as the operator stored it (XCom ``return_value``)."""
    try:
        map_index = getattr(task_instance, "map_index", -1)
        return task_instance.xcom_pull(
            task_ids=task_instance.task_id,
            key="return_value",
            map_indexes=map_index if map_index is not None and map_index >= 0 else None,
        )
    except Exception as error:  # lineage must never fail the task
        log.info("OpenLineage: no stored result for %s (%s).", task_instance.task_id, error)
        return None


def _as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


class DashScopeLineageMixin:
    """Gives an operator ``get_openlineage_facets_on_complete``; a subclass says which
    datasets its stored arguments and result stand for (:meth:`lineage_datasets`)."""

    def lineage_datasets(self, workspace: str | None, result: Any) -> Datasets:
        raise NotImplementedError

    def lineage_workspace(self) -> str | None:
        from airflow_dashscope.links.console import task_console

        return task_console(self)[1]

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> OperatorLineage:
        from airflow.providers.openlineage.extractors import OperatorLineage

        inputs, outputs = self.lineage_datasets(
            self.lineage_workspace(), stored_result(task_instance)
        )
        return OperatorLineage(inputs=to_openlineage(inputs), outputs=to_openlineage(outputs))


class UploadLineage(DashScopeLineageMixin):
    """The local or object-storage file read (``file_path``) -> the uploaded file."""

    def lineage_datasets(self, workspace: str | None, result: Any) -> Datasets:
        file_id = result if isinstance(result, str) else None
        return upload_datasets(workspace, getattr(self, "file_path", ""), file_id)


class FineTuneLineage(DashScopeLineageMixin):
    """Training and validation files and the base model -> the fine-tuned model."""

    def lineage_datasets(self, workspace: str | None, result: Any) -> Datasets:
        job = _as_dict(result)
        return fine_tune_datasets(
            workspace,
            model=str(getattr(self, "model", "")),
            training_file_ids=getattr(self, "training_file_ids", None),
            validation_file_ids=getattr(self, "validation_file_ids", None),
            job_id=job.get("job_id") or getattr(self, "_job_id", None),
            finetuned_output=job.get("finetuned_output"),
        )


class ExportLineage(DashScopeLineageMixin):
    """A fine-tune job's checkpoint -> the exported model."""

    def lineage_datasets(self, workspace: str | None, result: Any) -> Datasets:
        checkpoint = _as_dict(result)
        return export_datasets(
            workspace,
            job_id=str(getattr(self, "job_id", "")),
            model_name=checkpoint.get("model_name") or getattr(self, "model_name", None),
        )


class DeployLineage(DashScopeLineageMixin):
    """A model -> its deployment."""

    def lineage_datasets(self, workspace: str | None, result: Any) -> Datasets:
        deployment = _as_dict(result)
        return deploy_datasets(
            workspace,
            model_name=str(getattr(self, "model_name", "")),
            deployed_model=deployment.get("deployed_model"),
        )
