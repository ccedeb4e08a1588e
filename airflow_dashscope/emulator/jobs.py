"""The fine-tune job state machine, logs and checkpoints (no HTTP here).

Jobs advance lazily: every request first calls :func:`refresh_jobs` with the clock's current
time, which replays, in time order, every transition that became due since the last call
(PENDING -> QUEUING/RUNNING/FAILED, RUNNING -> SUCCEEDED/FAILED, CANCELING -> CANCELED).
Because transitions are stamped with the time they were due (not the time they were noticed),
advancing the clock by an hour in one call yields the same history as watching it live, and a
queue of jobs runs back to back, one at a time, in creation order.
"""

from __future__ import annotations

import hashlib
import math
import secrets
from typing import Any

from airflow_dashscope import catalog

from .clock import estimate_tokens, id_stamp, iso_time, job_time
from .errors import ApiError, bad_request, not_found, unsupported
from .settings import Settings
from .state import USER_IDENTITY, CheckpointRecord, ExportRecord, JobRecord, Store

IN_PROGRESS = frozenset({"PENDING", "QUEUING", "RUNNING", "CANCELING"})
TERMINAL = frozenset({"SUCCEEDED", "FAILED", "CANCELED"})

DEFAULT_HYPER: dict[str, Any] = {"n_epochs": 3, "batch_size": 16, "max_length": 8192}
DEFAULT_LORA: dict[str, Any] = {"lora_rank": 64, "lora_alpha": 32, "lora_dropout": 0.1}
DEFAULT_SAVE_TOTAL_LIMIT = 10
THROTTLE_RUNNING = "Too many fine-tune jobs are running. Please retry later."
THROTTLE_SUCCEEDED = "A user can have a maximum of 20 running or succeeded fine-tune jobs."


# ---------------------------------------------------------------------------------- create
def _positive_int(hp: dict[str, Any], key: str, default: int) -> int:
    value = hp.get(key, default)
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise bad_request(f"hyper_parameters.{key} must be a positive integer") from None
    if number < 1 or isinstance(value, bool):
        raise bad_request(f"hyper_parameters.{key} must be a positive integer")
    return number


def _str_list(body: dict[str, Any], key: str) -> list[str]:
    value = body.get(key)
    if value is None:
        return []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise bad_request(f"{key} must be a list of file ids")
    return list(value)


def find_parent_job(
    store: Store, workspace: str, model: str, now: float, export_s: float
) -> JobRecord | None:
    """The SUCCEEDED job whose output (or exported checkpoint) is the model ``model``."""
    for job in store.jobs.values():
        if job.workspace_id != workspace or job.status != "SUCCEEDED":
            continue
        if job.finetuned_output == model:
            return job
        for export in job.exports.values():
            if export.model_name == model and now >= export.requested_at + export_s:
                return job
    return None


def _new_job_id(store: Store, now: float) -> str:
    while True:
        job_id = f"ft-{id_stamp(now)}-{secrets.token_hex(2)}"
        if job_id not in store.jobs:
            return job_id


def _checkpoint_steps(hp: dict[str, Any], training_type: str, spe: int, total: int) -> list[int]:
    if training_type not in catalog.CHECKPOINT_TRAINING_TYPES:
        return []
    strategy = hp.get("save_strategy", "epoch")
    if strategy == "epoch":
        return [spe * k for k in range(1, total // spe + 1)]
    if strategy == "steps":
        default = hp.get("eval_steps", 50)
        every = _positive_int(hp, "save_steps", default if isinstance(default, int) else 50)
        steps = list(range(every, total + 1, every))
        if not steps or steps[-1] != total:
            steps.append(total)
        return steps
    raise bad_request(f"Invalid save_strategy: {strategy}, must be epoch or steps")


def create_job(
    store: Store, settings: Settings, now: float, workspace: str, body: dict[str, Any]
) -> JobRecord:
    """Validate a ``POST /fine-tunes`` body and add the PENDING job (caller holds the lock)."""
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise bad_request("Missing model")
    training_ids = _str_list(body, "training_file_ids")
    if not training_ids:
        raise bad_request("Missing training files")
    validation_ids = _str_list(body, "validation_file_ids")
    for kind, ids in (("Training", training_ids), ("Validation", validation_ids)):
        for file_id in ids:
            record = store.files.get(file_id)
            if record is None or record.workspace_id != workspace:
                raise bad_request(f"{kind} file not found: {file_id}")
    training_type = body.get("training_type") or "sft"
    if training_type not in catalog.TRAINING_TYPES:
        raise bad_request(
            f"Invalid training_type: {training_type}, must be one of "
            + ", ".join(catalog.TRAINING_TYPES)
        )
    hp = body.get("hyper_parameters") or {}
    if not isinstance(hp, dict):
        raise bad_request("hyper_parameters must be an object")

    parent = None
    if catalog.is_known_base_model(model):
        base_model = model
    else:
        parent = find_parent_job(store, workspace, model, now, settings.export_seconds)
        if parent is None:
            raise bad_request(f"Model not found: {model}")
        base_model = parent.base_model

    active = [j for j in store.jobs.values() if j.status in IN_PROGRESS]
    succeeded = [j for j in store.jobs.values() if j.status == "SUCCEEDED"]
    if len(active) + len(succeeded) >= settings.max_jobs:
        message = THROTTLE_SUCCEEDED if len(succeeded) >= settings.max_jobs else THROTTLE_RUNNING
        raise ApiError(429, "Throttling", message)

    n_epochs = _positive_int(hp, "n_epochs", DEFAULT_HYPER["n_epochs"])
    batch_size = _positive_int(hp, "batch_size", DEFAULT_HYPER["batch_size"])
    _positive_int(hp, "max_length", DEFAULT_HYPER["max_length"])
    samples = sum(store.files[f].lines for f in training_ids)
    spe = max(1, math.ceil(samples / batch_size))
    total = spe * n_epochs
    default_logging = max(1, math.ceil(total / 20))
    logging_steps = _positive_int(hp, "logging_steps", default_logging)
    ckpt_steps = _checkpoint_steps(hp, training_type, spe, total)
    limit = None
    if training_type in catalog.CHECKPOINT_TRAINING_TYPES:
        limit = _positive_int(hp, "save_total_limit", DEFAULT_SAVE_TOTAL_LIMIT)

    fail: list[str] | None = None
    if not catalog.supports(base_model, training_type):
        fail = [
            "UnsupportedOperation",
            f"Model {base_model} does not support training type {training_type}. Supported: "
            + ", ".join(catalog.supported_training_types(base_model)),
        ]
    lora: dict[str, Any] = {}
    if training_type in catalog.EFFICIENT_TRAINING_TYPES:
        inherited = (
            parent.lora
            if parent and parent.training_type in catalog.EFFICIENT_TRAINING_TYPES
            else {}
        )
        lora = {**DEFAULT_LORA, **inherited}
        for key in catalog.LORA_HYPER_PARAMETERS:
            if key in hp and inherited and hp[key] != inherited[key] and fail is None:
                fail = [
                    "InvalidParameter",
                    f"{key} must remain consistent with the previous efficient fine-tune of "
                    f"{model}: expected {inherited[key]}, got {hp[key]}",
                ]
            if key in hp and not inherited:
                lora[key] = hp[key]

    job_id = _new_job_id(store, now)
    model_name = body.get("model_name")
    job = JobRecord(
        job_id=job_id,
        workspace_id=workspace,
        seq=store.next_seq(),
        model=model,
        base_model=base_model,
        training_type=training_type,
        training_file_ids=training_ids,
        validation_file_ids=validation_ids,
        hyper_parameters=hp,
        job_name=str(body.get("job_name") or job_id),
        model_name=model_name if isinstance(model_name, str) and model_name else None,
        finetuned_output=f"{base_model}-{job_id}",
        created_at=now,
        pending_until=now + settings.pending_seconds,
        run_seconds=settings.job_seconds,
        total_steps=total,
        steps_per_epoch=spe,
        n_epochs=n_epochs,
        logging_steps=logging_steps,
        checkpoint_steps=ckpt_steps,
        save_total_limit=limit,
        train_tokens=sum(estimate_tokens(store.files[f].size) for f in training_ids),
        fail_on_start=fail,
        lora=lora,
    )
    job.logs.append(
        f"{job_time(now)} [INFO] Job {job_id} created: model={model}, "
        f"base_model={base_model}, training_type={training_type}"
    )
    store.jobs[job_id] = job
    return job


# ---------------------------------------------------------------------------------- advance
def _loss(job: JobRecord, step: int) -> float:
    progress = step / job.total_steps
    return 0.35 + 2.0 * math.exp(-3.0 * progress)


def _step_time(job: JobRecord, step: int) -> float:
    assert job.started_at is not None
    return job.started_at + job.run_seconds * step / job.total_steps


def _checkpoint_id(job_id: str, step: int) -> str:
    return "ckpt-" + hashlib.md5(f"{job_id}/{step}".encode()).hexdigest()[:12]


def _materialize(job: JobRecord, t: float) -> None:
    """Append the log lines and checkpoints of every step reached by time ``t``."""
    if job.started_at is None or job.run_seconds <= 0:
        reached = job.total_steps if job.started_at is not None else 0
    else:
        fraction = min(1.0, max(0.0, (t - job.started_at) / job.run_seconds))
        reached = math.floor(fraction * job.total_steps + 1e-9)
    if reached <= job.step_done:
        return
    start = job.step_done + 1
    log_steps = set(
        range(
            job.logging_steps * math.ceil(start / job.logging_steps), reached + 1, job.logging_steps
        )
    )
    ckpts = {s for s in job.checkpoint_steps if start <= s <= reached}
    if reached == job.total_steps:
        log_steps.add(reached)
    for step in sorted(log_steps | ckpts):
        when = min(_step_time(job, step), t)
        stamp = job_time(when)
        epoch = math.ceil(step / job.steps_per_epoch)
        if step in log_steps:
            lr = 1e-5 * (1 - step / (job.total_steps + 1))
            job.logs.append(
                f"{stamp} [INFO] step {step}/{job.total_steps} epoch {epoch}/{job.n_epochs} "
                f"loss {_loss(job, step):.4f} lr {lr:.3e}"
            )
        if step in ckpts:
            job.checkpoints.append(CheckpointRecord(step, when, _checkpoint_id(job.job_id, step)))
            job.logs.append(f"{stamp} [INFO] Saved checkpoint checkpoint-{step}")
            if job.save_total_limit is not None and len(job.checkpoints) > job.save_total_limit:
                job.checkpoints.pop(0)
    job.step_done = reached


def _free_slot(store: Store, job: JobRecord, t: float) -> None:
    if job.held_slot:
        job.held_slot = False
        store.slot_freed_at = max(store.slot_freed_at, t)


def _next_event(store: Store, settings: Settings) -> tuple[float, int, int, JobRecord] | None:
    events: list[tuple[float, int, int, JobRecord]] = []
    slot_busy = any(j.held_slot for j in store.jobs.values())
    queued: list[JobRecord] = []
    for job in store.jobs.values():
        if job.status == "PENDING":
            events.append((job.pending_until, 1, job.seq, job))
        elif job.status == "RUNNING" and job.started_at is not None:
            events.append((job.started_at + job.run_seconds, 0, job.seq, job))
        elif job.status == "CANCELING" and job.cancel_requested_at is not None:
            events.append((job.cancel_requested_at + settings.cancel_seconds, 0, job.seq, job))
        elif job.status == "QUEUING":
            queued.append(job)
    if queued and not slot_busy:
        first = min(queued, key=lambda j: j.seq)
        assert first.queued_at is not None
        events.append((max(first.queued_at, store.slot_freed_at), 2, first.seq, first))
    return min(events, key=lambda e: e[:3]) if events else None


def _apply(store: Store, job: JobRecord, t: float) -> None:
    stamp = job_time(t)
    if job.status == "PENDING":
        if job.fail_on_start:
            job.status, job.ended_at = "FAILED", t
            job.code, job.message = job.fail_on_start
            job.logs.append(f"{stamp} [ERROR] Job failed: {job.code}: {job.message}")
            return
        job.status, job.queued_at = "QUEUING", t
        job.logs.append(f"{stamp} [INFO] Training data validated; waiting for a training slot")
    elif job.status == "QUEUING":
        job.status, job.started_at, job.held_slot = "RUNNING", t, True
        job.logs.append(
            f"{stamp} [INFO] Training started: {job.n_epochs} epochs, {job.steps_per_epoch} "
            f"steps per epoch, {job.total_steps} steps in total"
        )
    elif job.status == "RUNNING":
        _materialize(job, t)
        _free_slot(store, job, t)
        job.ended_at = t
        if job.fail_at_end:
            job.status = "FAILED"
            job.code, job.message = job.fail_at_end
            job.logs.append(f"{stamp} [ERROR] Job failed: {job.code}: {job.message}")
        else:
            job.status = "SUCCEEDED"
            job.logs.append(
                f"{stamp} [INFO] Training finished. Model {job.finetuned_output} is ready."
            )
    elif job.status == "CANCELING":
        _free_slot(store, job, t)
        job.status, job.ended_at = "CANCELED", t
        job.logs.append(f"{stamp} [INFO] Job canceled")


def refresh_jobs(store: Store, settings: Settings, now: float) -> None:
    """Replay every transition due by ``now``, in time order (caller holds the lock)."""
    while True:
        event = _next_event(store, settings)
        if event is None or event[0] > now:
            break
        _apply(store, event[3], event[0])
    for job in store.jobs.values():
        if job.status == "RUNNING":
            _materialize(job, now)


# ---------------------------------------------------------------------------------- actions
def get_job(store: Store, workspace: str | None, job_id: str) -> JobRecord:
    job = store.jobs.get(job_id)
    if job is None or (workspace is not None and job.workspace_id != workspace):
        raise not_found()
    return job


def cancel_job(job: JobRecord, now: float) -> None:
    if job.status in TERMINAL:
        raise unsupported(
            "The fine-tune job cannot be canceled because it has succeeded, failed, or been "
            "canceled."
        )
    if job.status == "CANCELING":
        return
    if job.status == "RUNNING":
        _materialize(job, now)
    job.status, job.cancel_requested_at = "CANCELING", now
    job.logs.append(f"{job_time(now)} [INFO] Cancel requested")


def check_deletable(job: JobRecord) -> None:
    if job.status not in TERMINAL:
        raise unsupported(
            "The fine-tune job cannot be deleted because it is still in progress "
            f"(status {job.status}); cancel it first."
        )


def fail_job(store: Store, job: JobRecord, now: float, code: str, message: str, when: str) -> None:
    """Control API: fail ``job`` now, or make it fail instead of succeeding at its end."""
    if job.status in TERMINAL:
        raise unsupported(f"The fine-tune job is already {job.status}.")
    if when == "end":
        job.fail_at_end = [code, message]
        return
    if when != "now":
        raise bad_request("when must be 'now' or 'end'")
    if job.status == "RUNNING":
        _materialize(job, now)
    _free_slot(store, job, now)
    job.status, job.ended_at, job.code, job.message = "FAILED", now, code, message
    job.logs.append(f"{job_time(now)} [ERROR] Job failed: {code}: {message}")


def extend_job(job: JobRecord, seconds: float) -> None:
    """Control API: make a job's RUNNING phase longer by ``seconds``."""
    if job.status in TERMINAL:
        raise unsupported(f"The fine-tune job is already {job.status}.")
    if seconds < 0:
        raise bad_request("seconds must be >= 0")
    job.run_seconds += seconds


def logs_page(job: JobRecord, offset: int, line: int) -> dict[str, Any]:
    """``offset`` is a 1-based line number; 0 is read as 1 (the docs use 0, the SDKs 1)."""
    start = max(offset, 1) - 1
    return {"total": len(job.logs), "logs": job.logs[start : start + max(line, 0)]}


# ---------------------------------------------------------------------------------- views
def _export_status(export: ExportRecord, now: float, export_s: float) -> str:
    elapsed = now - export.requested_at
    if elapsed >= export_s:
        return "SUCCEEDED"
    return "PROCESSING" if elapsed >= export_s / 4 else "PENDING"


def checkpoint_objects(job: JobRecord, now: float, export_s: float) -> list[dict[str, Any]]:
    """Checkpoints newest step first, with their publication status."""
    items = []
    final = job.checkpoints[-1].step if job.checkpoints else None
    for ckpt in reversed(job.checkpoints):
        name = f"checkpoint-{ckpt.step}"
        export = job.exports.get(name)
        is_final = ckpt.step == final and ckpt.step == job.total_steps
        if export is not None:
            status, model_name = _export_status(export, now, export_s), export.model_name
        elif is_final and job.status == "SUCCEEDED":
            status, model_name = "SUCCEEDED", job.finetuned_output
        else:
            status = "PENDING"
            model_name = job.finetuned_output if is_final else f"{job.finetuned_output}-{name}"
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


def export_checkpoint(job: JobRecord, checkpoint: str, model_name: str, now: float) -> None:
    if not model_name:
        raise bad_request("Missing model_name")
    match = next(
        (c for c in job.checkpoints if checkpoint in (f"checkpoint-{c.step}", c.checkpoint_id)),
        None,
    )
    if match is None:
        raise not_found()
    if job.status != "SUCCEEDED":
        raise unsupported(
            f"Checkpoints can only be exported from a SUCCEEDED job; the job is {job.status}."
        )
    name = f"checkpoint-{match.step}"
    if name in job.exports:
        raise unsupported(f"Checkpoint {name} has already been exported.")
    job.exports[name] = ExportRecord(model_name=model_name, requested_at=now)


def job_object(job: JobRecord) -> dict[str, Any]:
    """The job object exactly as the documents show it."""
    out: dict[str, Any] = {
        "job_id": job.job_id,
        "job_name": job.job_name,
        "status": job.status,
        "finetuned_output": job.finetuned_output,
        "model": job.model,
        "base_model": job.base_model,
        "training_file_ids": list(job.training_file_ids),
        "validation_file_ids": list(job.validation_file_ids),
        "hyper_parameters": dict(job.hyper_parameters),
        "training_type": job.training_type,
        "create_time": job_time(job.created_at),
        "workspace_id": job.workspace_id,
        "user_identity": USER_IDENTITY,
        "modifier": USER_IDENTITY,
        "creator": USER_IDENTITY,
        "group": "llm",
    }
    if job.model_name:
        out["model_name"] = job.model_name
    if job.save_total_limit is not None:
        out["max_output_cnt"] = job.save_total_limit
        if job.checkpoints:
            out["output_cnt"] = len(job.checkpoints)
    if job.status in TERMINAL and job.ended_at is not None:
        out["end_time"] = job_time(job.ended_at)
    if job.status == "SUCCEEDED":
        out["usage"] = job.train_tokens * job.n_epochs
    elif job.status == "CANCELED":
        out["usage"] = job.train_tokens * job.n_epochs * job.step_done // job.total_steps
    if job.status == "FAILED":
        out["code"], out["message"] = job.code, job.message
    return out
