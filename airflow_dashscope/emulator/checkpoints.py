"""Checkpoints, their export (publication) and which model ids can be deployed (no HTTP).

fine-tuning-api-guide.md: "model_name指的是模型 ID，可用于模型部署。（finetuned_output 输出的是
最后一个 checkpoint 的 model_name）". The final checkpoint is published under the job's
``finetuned_output`` when the job succeeds; any checkpoint can be exported, and the id it is
published under is what the checkpoint list shows (see ``Settings.export_model_id``).
"""

# ruff: noqa: RUF002  (quotes the vendor's Chinese pages)

from __future__ import annotations

import dataclasses
from typing import Any

from .clock import iso_time, log_line
from .errors import bad_request, not_found, unsupported
from .settings import Settings
from .state import CheckpointRecord, ExportRecord, JobRecord, Store


def _find(job: JobRecord, checkpoint: str) -> CheckpointRecord:
    for ckpt in job.checkpoints:
        if checkpoint in (f"checkpoint-{ckpt.step}", ckpt.checkpoint_id):
            return ckpt
    raise not_found()


def export_status(export: ExportRecord, now: float, export_s: float) -> str:
    if export.failed_at is not None and now >= export.failed_at:
        return "FAILED"
    elapsed = now - export.requested_at
    if elapsed >= export_s:
        return "FAILED" if export.fail else "SUCCEEDED"
    return "PROCESSING" if elapsed >= export_s / 4 else "PENDING"


def checkpoint_objects(job: JobRecord, now: float, export_s: float) -> list[dict[str, Any]]:
    """Checkpoints newest step first, with their publication status."""
    items = []
    for ckpt in reversed(job.checkpoints):
        name = f"checkpoint-{ckpt.step}"
        export = job.exports.get(name)
        is_final = ckpt.step == job.total_steps
        if export is not None:
            status, model_name = export_status(export, now, export_s), export.published_as
        elif is_final:
            status = "SUCCEEDED" if job.status == "SUCCEEDED" else "PENDING"
            model_name = job.finetuned_output
        else:
            status, model_name = "PENDING", f"{job.finetuned_output}-{name}"
        items.append(
            {
                "create_time": iso_time(ckpt.created_at),
                "full_name": f"{job.job_id}-{name}",
                "job_id": job.job_id,
                "checkpoint": name,
                "checkpoint_id": ckpt.checkpoint_id,
                "step": ckpt.step,
                "model_name": model_name,
                "status": status,
            }
        )
    return items


def export_checkpoint(
    store: Store, settings: Settings, job: JobRecord, checkpoint: str, model_name: str, now: float
) -> None:
    if not model_name:
        raise bad_request("Missing model_name")
    ckpt = _find(job, checkpoint)
    if job.status != "SUCCEEDED":
        raise unsupported(
            f"Checkpoints can only be exported from a SUCCEEDED job; the job is {job.status}."
        )
    name = f"checkpoint-{ckpt.step}"
    earlier = job.exports.get(name)
    if earlier is not None and export_status(earlier, now, settings.export_seconds) != "FAILED":
        raise unsupported(f"Checkpoint {name} has already been exported.")
    published = model_name
    if settings.export_model_id == "derived":
        published = f"{model_name}-{ckpt.checkpoint_id[-6:]}"
    faults = dict(job.export_faults)
    export = ExportRecord(model_name, published, now, fail=faults.pop(name, None))
    job.exports = {**job.exports, name: export}
    job.export_faults = faults
    store.models[published] = job.job_id
    job.log(log_line(now, f"Export of {name} as {published} requested"))


def fail_export(
    settings: Settings, job: JobRecord, checkpoint: str, code: str, message: str, now: float
) -> None:
    """Control API: fail the export of ``checkpoint`` now, or its next export when it ends."""
    name = f"checkpoint-{_find(job, checkpoint).step}"
    export = job.exports.get(name)
    if export is None or export_status(export, now, settings.export_seconds) == "FAILED":
        job.export_faults = {**job.export_faults, name: [code, message]}
        return
    if export_status(export, now, settings.export_seconds) == "SUCCEEDED":
        raise unsupported(f"The export of {name} has already succeeded.")
    failed = dataclasses.replace(export, fail=[code, message], failed_at=now)
    job.exports = {**job.exports, name: failed}
    job.log(log_line(now, f"Export of {name} failed: {code}: {message}", "ERROR"))


def published_job(
    store: Store, settings: Settings, scope: tuple[str, str], model: str, now: float
) -> JobRecord | None:
    """The SUCCEEDED job whose output or SUCCEEDED export is model id ``model`` in ``scope``."""
    job = store.jobs.get(store.models.get(model, ""))
    if job is None or job.status != "SUCCEEDED" or (job.region, job.workspace_id) != scope:
        return None
    if model == job.finetuned_output:
        return job
    for export in job.exports.values():
        if export.published_as == model:
            ok = export_status(export, now, settings.export_seconds) == "SUCCEEDED"
            return job if ok else None
    return None


def published_models(
    store: Store, settings: Settings, scope: tuple[str, str], now: float
) -> list[tuple[str, JobRecord]]:
    """Every deployable fine-tuned model id in ``scope``, newest job first."""
    found = []
    for model in store.models:
        job = published_job(store, settings, scope, model, now)
        if job is not None:
            found.append((model, job))
    found.sort(key=lambda item: item[1].seq, reverse=True)
    return found
