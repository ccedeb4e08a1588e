"""How a fine-tune job's end ends its task: the small return value, the cost and training
lines of the task log, the error that fails the task, and the cancel of a job given up on."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from airflow_dashscope.checks.budget import cost_text, price_of
from airflow_dashscope.checks.prices import NO_PRICE, cost_at, yuan
from airflow_dashscope.client.errors import DashScopeError, UnsupportedOperationError
from airflow_dashscope.exceptions import (
    DashScopeWaitError,
    RemoteJobFailedError,
    is_permanent_job_failure,
)
from airflow_dashscope.operators.identity import renamed
from airflow_dashscope.waiting import WaitEvent, classify_job, job_failure_reason

if TYPE_CHECKING:
    from airflow_dashscope.client import DashScopeClient
    from airflow_dashscope.client.models import FineTuneJob


class TaskLog(Protocol):
    """The task's logger (``operator.log``), as far as the cancel uses it."""

    def info(self, msg: str, /, *args: Any) -> Any: ...
    def warning(self, msg: str, /, *args: Any) -> Any: ...
    def error(self, msg: str, /, *args: Any) -> Any: ...


#: Keys of the task's return value (the full job object stays in the task log).
RESULT_KEYS = (
    "job_id",
    "job_name",
    "status",
    "model",
    "base_model",
    "training_type",
    "finetuned_output",
    "usage",
    "code",
    "message",
)


def summary(job: dict[str, Any]) -> dict[str, Any]:
    """The documented return value: ids, status, cost (nothing the next step cannot use)."""
    return {key: job[key] for key in RESULT_KEYS if job.get(key) is not None}


def billed_tokens(usage: Any) -> int | None:
    """The billed token count of a job's ``usage`` (an int, or an object with a count)."""
    if isinstance(usage, bool):
        return None
    if isinstance(usage, int):
        return usage
    if isinstance(usage, dict):
        for key in ("usage_tokens", "total_tokens", "tokens"):
            if isinstance(usage.get(key), int):
                return int(usage[key])
    return None


def costs(job: dict[str, Any], estimate: Any) -> dict[str, Any]:
    """The bill and the estimate in tokens and in yuan (text such as ``"0.03"``; None when the
    count or the model's price is unknown), at the price of the job's (base) model."""
    billed = billed_tokens(job.get("usage"))
    model, base_model = job.get("model"), job.get("base_model")
    return {
        "billed_tokens": billed,
        "billed_cost": cost_text(billed, model, base_model),
        "estimated_cost": cost_text(estimate, model, base_model),
    }


def cost_line(
    job_id: Any,
    usage: Any,
    estimate: int | None,
    *,
    model: str | None = None,
    base_model: Any = None,
) -> str:
    """What the job billed next to what was estimated before it was paid for, in tokens and
    (with the job's ``model``) in yuan."""
    billed = billed_tokens(usage)
    line = (
        f"Fine-tune job {job_id} billed "
        f"{'an unknown number of' if billed is None else billed} tokens "
        f"(estimated: {'not known' if estimate is None else estimate})"
    )
    price = price_of(model, base_model) if model else None
    if price is None:
        return f"{line}." if model is None else f"{line}; {NO_PRICE} for {model}."
    amounts = [
        f"about {yuan(cost_at(count, price))} {name}"
        for name, count in (("billed", billed), ("estimated", estimate))
        if isinstance(count, int)
    ]
    if not amounts:
        return f"{line}."
    return f"{line}: {', '.join(amounts)} at ¥{price} per 1,000 for {model}."


def success_lines(result: dict[str, Any], estimate: int | None, *, asked: str | None) -> list[str]:
    """The cost, and the model id the service chose when it is not the one asked for."""
    job_id, output = result.get("job_id"), result.get("finetuned_output")
    note = renamed(f"Fine-tune job {job_id}", asked, output)
    cost = cost_line(
        job_id,
        result.get("usage"),
        estimate,
        model=result.get("model"),
        base_model=result.get("base_model"),
    )
    return [cost, *([note] if note else [])]


def training_line(job_id: str, training: dict[str, Any]) -> str:
    """The training figures read from the job's log, in one line."""
    return (
        f"Training of job {job_id}: final loss {training.get('final_loss')}, best loss "
        f"{training.get('best_loss')} (step {training.get('best_step')}), "
        f"{training.get('steps')} steps, {training.get('epochs')} epochs."
    )


def job_event(job: FineTuneJob) -> WaitEvent:
    """The wait's end for a job already seen terminal (nothing left to wait for)."""
    outcome = classify_job(job)
    if outcome == "pending":
        raise ValueError(f"job {job.job_id} is still {job.status_name}")
    return WaitEvent(
        status=outcome,
        resource="fine_tune",
        id=job.job_id,
        message=f"DashScope fine-tune job {job.job_id} is {job.status_name}"
        + (f": {job_failure_reason(job)}" if outcome == "failed" else ""),
        result=job.to_dict(),
    )


def job_failure(explained: str, status: str, code: Any) -> Exception:
    """A job that FAILED on its data or parameters fails the task for good (no retry could
    fix it, and each would bill again); any other failure stays retryable."""
    if status == "failed" and is_permanent_job_failure(code):
        return RemoteJobFailedError(
            f"Fix the training data or the parameters: the job failed on its inputs ({code}), "
            f"and retrying the same request would fail (and bill) again.\n{explained}"
        )
    return DashScopeWaitError(explained)


def cancel_job(client: DashScopeClient, job_id: str, *, why: str, log: TaskLog) -> None:
    """Best effort: a job that already ended cannot be cancelled, and that is fine."""
    try:
        client.cancel_fine_tune(job_id)
        log.warning("Cancelled fine-tune job %s because %s.", job_id, why)
    except UnsupportedOperationError:
        log.info("Fine-tune job %s had already ended; nothing to cancel.", job_id)
    except DashScopeError as error:
        log.error("Could not cancel fine-tune job %s (%s): %s", job_id, why, error)


def training_summary(client: DashScopeClient, job_id: str, log: Any) -> dict[str, Any] | None:
    """Final and best loss, steps and epochs read from the job's whole log (best effort: a
    log that cannot be read leaves the result without it)."""
    from airflow_dashscope.waiting import LogFollower, read_rest_of_log
    from airflow_dashscope.waiting.training_log import summarize

    try:
        lines = read_rest_of_log(client, job_id, LogFollower())
    except DashScopeError as error:
        log.warning("Could not read the log of job %s: %s", job_id, error)
        return None
    training = summarize(lines).to_dict()
    log.info("%s", training_line(job_id, training))
    return training
