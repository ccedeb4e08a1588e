"""The fine-tune job state machine, its logs and the job object (no HTTP here).

Jobs advance lazily: every request first calls :func:`refresh_jobs` with the clock's current
time, which replays, in time order, every transition that became due since the last call
(PENDING -> QUEUING/RUNNING/FAILED, RUNNING -> SUCCEEDED/FAILED, CANCELING -> CANCELED).
Transitions are stamped with the time they were due (not the time they were noticed), so
advancing the clock by an hour in one call yields the same history as watching it live, and a
queue of jobs runs back to back, one at a time, in creation order.

Due transitions sit in a heap (``store.job_events``) and queued jobs in a second heap
(``store.job_queue``), so a request costs O(log n) in the number of jobs, not a scan of all of
them. Heap entries are never removed when a job changes: an entry that no longer matches its
job (cancelled, extended, failed) is skipped when it comes up.
"""

# ruff: noqa: RUF002, RUF003  (quotes the vendor's Chinese pages)

from __future__ import annotations

import hashlib
import heapq
import math
from typing import Any

from .clock import job_time, log_line
from .errors import bad_request, not_found, unsupported
from .learning import Curve, evaluates, learn
from .settings import Settings
from .state import USER_IDENTITY, CheckpointRecord, JobRecord, Store

IN_PROGRESS = ("PENDING", "QUEUING", "RUNNING", "CANCELING")
TERMINAL = frozenset({"SUCCEEDED", "FAILED", "CANCELED"})
#: model-training-api-reference.md, the CANCELED job of the list sample: ``"code": "1"``.
CANCELED_CODE = "1"

# Event kinds, in the order they apply when due at the same instant.
_END, _VALIDATED = "end", "validated"
_PRIORITY = {_END: 0, _VALIDATED: 1}


# ---------------------------------------------------------------------------------- schedule
def _due(job: JobRecord, settings: Settings) -> tuple[float, str] | None:
    """The next timed transition of ``job`` (the queue is handled apart)."""
    if job.status == "PENDING":
        return job.pending_until, _VALIDATED
    if job.status == "RUNNING" and job.started_at is not None:
        return job.started_at + job.run_seconds, _END
    if job.status == "CANCELING" and job.cancel_requested_at is not None:
        return job.cancel_requested_at + settings.cancel_seconds, _END
    return None


def schedule(store: Store, settings: Settings, job: JobRecord) -> None:
    """Put ``job``'s next transition on the heaps (after any change of its status/timing)."""
    due = _due(job, settings)
    if due is not None:
        heapq.heappush(store.job_events, (due[0], _PRIORITY[due[1]], job.seq, job.job_id, due[1]))
    if job.status == "QUEUING":
        heapq.heappush(store.job_queue, (job.seq, job.job_id))


def rebuild_schedule(store: Store, settings: Settings) -> None:
    """After loading records: the heaps and the published-model index."""
    store.job_events.clear()
    store.job_queue.clear()
    for job in store.jobs.with_status(*IN_PROGRESS):
        schedule(store, settings, job)
    for job in store.jobs.with_status("SUCCEEDED"):
        publish(store, job)


def publish(store: Store, job: JobRecord) -> None:
    """Index the model ids ``job`` makes available (its output and exported checkpoints)."""
    store.models[job.finetuned_output] = job.job_id
    for export in job.exports.values():
        store.models[export.published_as] = job.job_id


def _next_timed(store: Store, settings: Settings) -> tuple[float, int, int, JobRecord] | None:
    while store.job_events:
        t, prio, seq, job_id, kind = store.job_events[0]
        job = store.jobs.get(job_id)
        if job is not None and _due(job, settings) == (t, kind):
            return t, prio, seq, job
        heapq.heappop(store.job_events)
    return None


def _next_queued(store: Store) -> tuple[float, int, int, JobRecord] | None:
    if store.slot_holder is not None:
        return None
    while store.job_queue:
        seq, job_id = store.job_queue[0]
        job = store.jobs.get(job_id)
        if job is not None and job.status == "QUEUING" and job.queued_at is not None:
            return max(job.queued_at, store.slot_freed_at), 2, seq, job
        heapq.heappop(store.job_queue)
    return None


def refresh_jobs(store: Store, settings: Settings, now: float) -> None:
    """Replay every transition due by ``now``, in time order (caller holds the lock)."""
    while True:
        candidates = [e for e in (_next_timed(store, settings), _next_queued(store)) if e]
        if not candidates:
            break
        event = min(candidates, key=lambda e: e[:3])
        if event[0] > now:
            break
        _apply(store, settings, event[3], event[0])
    holder = store.jobs.get(store.slot_holder) if store.slot_holder else None
    if holder is not None and holder.status == "RUNNING":
        _materialize(holder, now)


# ---------------------------------------------------------------------------------- advance
def _step_time(job: JobRecord, step: int) -> float:
    assert job.started_at is not None
    return job.started_at + job.run_seconds * step / job.total_steps


def checkpoint_id(job_id: str, step: int) -> str:
    return "ckpt-" + hashlib.md5(f"{job_id}/{step}".encode()).hexdigest()[:12]


def usage_tokens(job: JobRecord) -> int:
    """model-training-and-deployment-billing.md: (training tokens + mixed-in tokens) x epochs."""
    return (job.train_tokens + job.mixed_tokens) * job.n_epochs


def _every(job: JobRecord, key: str, default: int) -> int:
    value = job.hyper_parameters.get(key)
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    return default


def _multiples(every: int, start: int, reached: int, total: int) -> set[int]:
    """Multiples of ``every`` in ``[start, reached]``, plus the last step once reached."""
    steps = set(range(every * math.ceil(start / every), reached + 1, every))
    return steps | ({total} if reached == total else set())


def _metrics(job: JobRecord, curve: Curve, step: int) -> tuple[str, str]:
    """A step's trainer records, in the keys of the Hugging Face trainer's log history (the
    reference's sample prints its end record): ``{'loss', 'learning_rate', 'epoch', 'step'}``
    and ``{'eval_loss', 'epoch', 'step'}``; the training line says ``step N/total`` too."""
    epoch = round(step / job.steps_per_epoch, 4)
    train = {
        "loss": round(curve.train_loss(step), 4),
        "learning_rate": float(f"{curve.learning_rate_at(step):.4g}"),
        "epoch": epoch,
        "step": step,
    }
    evaluation = {"eval_loss": round(curve.eval_loss(step), 4), "epoch": epoch, "step": step}
    return f"step {step}/{job.total_steps} {train}", str(evaluation)


def _materialize(job: JobRecord, t: float) -> None:
    """Append the log lines and checkpoints of every step reached by time ``t``."""
    if job.started_at is None or job.run_seconds <= 0:
        reached = job.total_steps if job.started_at is not None else 0
    else:
        fraction = min(1.0, max(0.0, (t - job.started_at) / job.run_seconds))
        reached = math.floor(fraction * job.total_steps + 1e-9)
    if reached <= job.step_done:
        return
    start, total = job.step_done + 1, job.total_steps
    eval_steps: set[int] = set()
    if evaluates(job):
        eval_steps = _multiples(_every(job, "eval_steps", job.logging_steps), start, reached, total)
    log_steps = _multiples(job.logging_steps, start, reached, total) | eval_steps
    ckpts = {s for s in job.checkpoint_steps if start <= s <= reached}
    curve = Curve.of(job)
    checkpoints = list(job.checkpoints)
    for step in sorted(log_steps | ckpts):
        when = min(_step_time(job, step), t)
        train, evaluation = _metrics(job, curve, step)
        if step in log_steps:
            job.log(log_line(when, train))
        if step in eval_steps:
            job.log(log_line(when, evaluation))
        if step in ckpts:
            checkpoints.append(CheckpointRecord(step, when, checkpoint_id(job.job_id, step)))
            job.log(log_line(when, f"Saved checkpoint checkpoint-{step}"))
            if job.save_total_limit is not None and len(checkpoints) > job.save_total_limit:
                checkpoints.pop(0)
    job.checkpoints = checkpoints
    job.step_done = reached


def _finish(store: Store, job: JobRecord, t: float) -> None:
    """SUCCEEDED: learn, publish, and log the end as the reference's sample does."""
    _end(store, job, t, "SUCCEEDED", None)
    learn(store, job)
    publish(store, job)
    curve = Curve.of(job)
    losses = [curve.train_loss(s) for s in range(1, job.total_steps + 1)]
    runtime = max(job.run_seconds, 1e-3)
    summary = {
        "train_runtime": round(runtime, 4),
        "train_samples_per_second": round(job.train_examples * job.n_epochs / runtime, 3),
        "train_steps_per_second": round(job.total_steps / runtime, 3),
        "train_loss": sum(losses) / len(losses),
        "epoch": float(job.n_epochs),
    }
    usage = usage_tokens(job)
    job.log(log_line(t, str(summary)))
    job.log(log_line(t, f"Actual number of consumed tokens is {usage}!"))
    job.log(log_line(t, f"Training finished. Model {job.finetuned_output} is ready."))
    job.log(log_line(t, f"training usage {usage}"))


def _free_slot(store: Store, job: JobRecord, t: float) -> None:
    if store.slot_holder == job.job_id:
        store.slot_holder = None
        store.slot_freed_at = max(store.slot_freed_at, t)
        store.meta_dirty = True


def _end(store: Store, job: JobRecord, t: float, status: str, code: list[str] | None) -> None:
    _free_slot(store, job, t)
    job.status, job.ended_at = status, t
    if code is not None:
        job.code, job.message = code
        job.log(log_line(t, f"Job failed: {job.code}: {job.message}", "ERROR"))


def _apply(store: Store, settings: Settings, job: JobRecord, t: float) -> None:
    if job.status == "PENDING":
        if job.fail_on_start:
            _end(store, job, t, "FAILED", job.fail_on_start)
            return
        job.status, job.queued_at = "QUEUING", t
        job.log(log_line(t, "Training data validated; waiting for a training slot"))
    elif job.status == "QUEUING":
        job.status, job.started_at = "RUNNING", t
        store.slot_holder = job.job_id
        store.meta_dirty = True
        job.log(
            log_line(
                t,
                f"Training started: {job.n_epochs} epochs, {job.steps_per_epoch} steps per "
                f"epoch, {job.total_steps} steps in total",
            )
        )
    elif job.status == "RUNNING":
        _materialize(job, t)
        if job.fail_at_end:
            _end(store, job, t, "FAILED", job.fail_at_end)
        else:
            _finish(store, job, t)
    elif job.status == "CANCELING":
        _end(store, job, t, "CANCELED", None)
        job.code = CANCELED_CODE
        job.log(log_line(t, "Job canceled"))
    schedule(store, settings, job)


# ---------------------------------------------------------------------------------- actions
def get_job(store: Store, scope: tuple[str, str] | None, job_id: str) -> JobRecord:
    job = store.jobs.get(job_id)
    if job is None or (scope is not None and (job.region, job.workspace_id) != scope):
        raise not_found()
    return job


def cancel_job(store: Store, settings: Settings, job: JobRecord, now: float) -> None:
    if job.status in TERMINAL:
        raise unsupported(
            "The fine-tune job can not be canceled because it is succeeded,failed or canceled"
        )
    if job.status == "CANCELING":
        return
    if job.status == "RUNNING":
        _materialize(job, now)
    job.status, job.cancel_requested_at = "CANCELING", now
    job.log(log_line(now, "Cancel requested"))
    schedule(store, settings, job)


def check_deletable(job: JobRecord) -> None:
    if job.status not in TERMINAL:
        raise unsupported(
            "The fine-tune job can not be deleted because it is still in progress "
            f"(status {job.status}); cancel it first."
        )


def delete_job(store: Store, job: JobRecord) -> None:
    check_deletable(job)
    store.jobs.remove(job.job_id)
    for model, owner in list(store.models.items()):
        if owner == job.job_id:
            del store.models[model]


def fail_job(
    store: Store, settings: Settings, job: JobRecord, now: float, code: str, message: str, when: str
) -> None:
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
    _end(store, job, now, "FAILED", [code, message])


def extend_job(store: Store, settings: Settings, job: JobRecord, seconds: float) -> None:
    """Control API: make a job's RUNNING phase longer by ``seconds``."""
    if job.status in TERMINAL:
        raise unsupported(f"The fine-tune job is already {job.status}.")
    if seconds < 0:
        raise bad_request("seconds must be >= 0")
    job.run_seconds += seconds
    schedule(store, settings, job)


def logs_page(job: JobRecord, offset: int, line: int) -> dict[str, Any]:
    """model-training-api-reference.md: "忽略前offset行输出，从第offset+1行开始读取"."""
    return {"total": len(job.logs), "logs": job.logs[offset : offset + line]}


# ---------------------------------------------------------------------------------- views
def job_object(job: JobRecord) -> dict[str, Any]:
    """The job object as model-training-api-reference.md shows it."""
    out: dict[str, Any] = {
        "job_id": job.job_id,
        "job_name": job.job_name,
        "status": job.status,
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
    if job.status == "SUCCEEDED":
        # "仅调优任务状态为“SUCCEED”时出现，返回的是调优完成的模型ID"
        out["finetuned_output"] = job.finetuned_output
    if job.model_name:
        out["model_name"] = job.model_name
    if job.save_total_limit is not None:
        out["max_output_cnt"] = job.save_total_limit
        if job.checkpoints:
            out["output_cnt"] = len(job.checkpoints)
    if job.status in TERMINAL and job.ended_at is not None:
        out["end_time"] = job_time(job.ended_at)
    if job.status == "SUCCEEDED":
        out["usage"] = usage_tokens(job)
    elif job.status == "CANCELED":
        out["code"], out["usage"] = CANCELED_CODE, 0
    elif job.status == "FAILED":
        out["code"], out["message"] = job.code, job.message
    return out
