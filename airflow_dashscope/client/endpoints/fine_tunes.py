"""Fine-tune endpoints (``/fine-tunes``): payloads under ``output``.

Creating a job costs money, so :func:`create_fine_tune` never makes two: every request
carries a ``job_name`` (one is generated when the caller gives none), and after an
ambiguous failure (sent, no answer, or a 5xx) the flow looks the job up by that name
before it fails or tries again (``endpoints.creates``).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from airflow_dashscope.client.endpoints.creates import create_once
from airflow_dashscope.client.endpoints.paging import every_page
from airflow_dashscope.client.errors import (
    ConflictError,
    DashScopeError,
    UnsupportedOperationError,
)
from airflow_dashscope.client.models import (
    Checkpoint,
    FineTuneJob,
    FineTuneJobPage,
    JobLogs,
    OperationStatus,
    TrainingType,
)
from airflow_dashscope.client.request import (
    ApiRequest,
    Flow,
    output_of,
    segment,
    single,
    wire_value,
)

FINE_TUNES_MAX_PAGE_SIZE = 100
#: ``line`` of ``GET /fine-tunes/{id}/logs``: default 100, at most 1000 (training API page).
LOG_LINES_DEFAULT = 100
LOG_LINES_MAX = 1000


def generated_job_name() -> str:
    """A unique name, so that a create can be found again after an ambiguous failure."""
    return f"job-{uuid.uuid4().hex[:16]}"


def _parse_job(body: Any) -> FineTuneJob:
    return FineTuneJob.model_validate(output_of(body))


def fine_tune_body(
    model: str,
    training_file_ids: Sequence[str],
    *,
    job_name: str,
    validation_file_ids: Sequence[str] | None = None,
    training_type: TrainingType | str | None = None,
    hyper_parameters: Mapping[str, Any] | None = None,
    model_name: str | None = None,
    finetuned_output_suffix: str | None = None,
) -> dict[str, Any]:
    """The create body: only the fields the training API page documents, enums by value."""
    if not model:
        raise ValueError("create_fine_tune needs a model.")
    if isinstance(training_file_ids, str) or not training_file_ids:
        raise ValueError("create_fine_tune needs a non-empty list of training_file_ids.")
    body: dict[str, Any] = {
        "model": model,
        "training_file_ids": list(training_file_ids),
        "job_name": job_name,
    }
    optional: dict[str, Any] = {
        "validation_file_ids": list(validation_file_ids or []),
        "training_type": training_type,
        "hyper_parameters": {
            key: value for key, value in (hyper_parameters or {}).items() if value is not None
        },
        "model_name": model_name,
        "finetuned_output_suffix": finetuned_output_suffix,
    }
    body.update({key: value for key, value in optional.items() if value})
    return dict(wire_value(body))


def create_fine_tune(
    model: str,
    training_file_ids: Sequence[str],
    *,
    validation_file_ids: Sequence[str] | None = None,
    training_type: TrainingType | str | None = None,
    hyper_parameters: Mapping[str, Any] | None = None,
    job_name: str | None = None,
    model_name: str | None = None,
    finetuned_output_suffix: str | None = None,
    known_jobs: Sequence[FineTuneJob] | None = None,
    max_attempts: int | None = None,
) -> Flow[FineTuneJob]:
    """Create a job, never two: after an ambiguous failure, find it by name first.

    A caller's own ``job_name`` may already be used by older jobs, which can never be this
    create's: they are listed once before creating, or given as ``known_jobs`` (the jobs with
    this ``job_name`` the caller has just listed), which saves that listing.
    """
    name = job_name or generated_job_name()
    body = fine_tune_body(
        model,
        training_file_ids,
        job_name=name,
        validation_file_ids=validation_file_ids,
        training_type=training_type,
        hyper_parameters=hyper_parameters,
        model_name=model_name,
        finetuned_output_suffix=finetuned_output_suffix,
    )
    older: set[str] = set()
    if known_jobs is not None:
        older = {job.job_id for job in known_jobs}
    elif job_name:
        older = {job.job_id for job in (yield from find_fine_tunes_by_name(name))}

    def lookup() -> Flow[FineTuneJob | None]:
        jobs = yield from find_fine_tunes_by_name(name)
        return next((job for job in jobs if job.job_id not in older), None)

    request = ApiRequest("POST", "/fine-tunes", json=body, idempotent=False)
    return (yield from create_once(lambda: request, _parse_job, lookup, max_attempts=max_attempts))


def get_fine_tune(job_id: str) -> Flow[FineTuneJob]:
    return single(ApiRequest("GET", f"/fine-tunes/{segment(job_id)}"), _parse_job)


def _page_request(page_no: int, page_size: int, model: str | None) -> ApiRequest:
    params: dict[str, Any] = {"page_no": page_no, "page_size": page_size, "model": model}
    return ApiRequest("GET", "/fine-tunes", params=params)


def _parse_page(body: Any) -> FineTuneJobPage:
    return FineTuneJobPage.model_validate(output_of(body) or {})


def list_fine_tunes_page(
    page_no: int = 1, page_size: int = 10, *, model: str | None = None
) -> Flow[FineTuneJobPage]:
    """One page of jobs; ``model`` keeps only the jobs of that model (the service filters)."""
    return single(_page_request(page_no, page_size, model), _parse_page)


def list_fine_tunes(
    page_size: int = FINE_TUNES_MAX_PAGE_SIZE, *, model: str | None = None
) -> Flow[list[FineTuneJob]]:
    """Every job (of ``model``, if given), across all pages."""

    def parse(body: Any) -> tuple[list[FineTuneJob], int]:
        page = _parse_page(body)
        return page.jobs, page.total

    return every_page(lambda page_no: _page_request(page_no, page_size, model), parse)


def find_fine_tunes_by_name(job_name: str) -> Flow[list[FineTuneJob]]:
    """Jobs whose ``job_name`` is ``job_name``, newest first.

    Lists without the ``model`` filter: the page does not say whether it matches a job's
    ``model`` or its ``base_model``, and a missed job here would be paid for twice.
    """
    jobs = yield from list_fine_tunes()
    matches = [job for job in jobs if job.job_name == job_name]
    return sorted(matches, key=lambda job: job.job_id, reverse=True)


def _parse_operation(body: Any) -> OperationStatus:
    output = output_of(body)
    return OperationStatus.model_validate(output if isinstance(output, dict) else {})


def cancel_fine_tune(job_id: str) -> Flow[OperationStatus]:
    request = ApiRequest("POST", f"/fine-tunes/{segment(job_id)}/cancel")
    return single(request, _parse_operation)


def delete_fine_tune(job_id: str) -> Flow[OperationStatus]:
    return single(ApiRequest("DELETE", f"/fine-tunes/{segment(job_id)}"), _parse_operation)


def get_fine_tune_logs(
    job_id: str, offset: int = 0, line: int = LOG_LINES_DEFAULT
) -> Flow[JobLogs]:
    """Up to ``line`` log lines after the first ``offset`` ones, and the total so far.

    As the training API page defines it: ``offset`` is the number of lines to skip (the
    answer starts at line ``offset + 1``; past the end it is empty), ``line`` is at most 1000.
    """
    if offset < 0:
        raise ValueError(f"logs offset is the number of lines to skip (>= 0), got {offset}.")
    if not 1 <= line <= LOG_LINES_MAX:
        raise ValueError(f"logs line must be between 1 and {LOG_LINES_MAX}, got {line}.")
    request = ApiRequest(
        "GET",
        f"/fine-tunes/{segment(job_id)}/logs",
        params={"offset": offset, "line": line},
    )
    return single(request, lambda body: JobLogs.model_validate(output_of(body) or {}))


def fine_tune_stream_request(job_id: str) -> ApiRequest:
    """``GET /fine-tunes/{id}/stream``: server-sent events that follow the job live (the
    guide's ``dashscope fine_tunes.stream``; the SDKs read it, no page documents the wire)."""
    headers = {"Accept": "text/event-stream"}
    return ApiRequest("GET", f"/fine-tunes/{segment(job_id)}/stream", headers=headers)


def list_checkpoints(job_id: str) -> Flow[list[Checkpoint]]:
    """The job's checkpoints, newest step first."""

    def parse(body: Any) -> list[Checkpoint]:
        items = output_of(body) or []
        checkpoints = [Checkpoint.model_validate(item) for item in items]
        return sorted(checkpoints, key=lambda c: c.step_number, reverse=True)

    return single(ApiRequest("GET", f"/fine-tunes/{segment(job_id)}/checkpoints"), parse)


def find_checkpoint(job_id: str, checkpoint: str) -> Flow[Checkpoint | None]:
    """The checkpoint named ``checkpoint`` (``checkpoint-N``, id or full name), if any."""
    checkpoints = yield from list_checkpoints(job_id)
    return next((c for c in checkpoints if c.matches(checkpoint)), None)


def get_checkpoint(job_id: str, checkpoint: str) -> Flow[Checkpoint]:
    """One checkpoint as the checkpoint list shows it; raises if the job has no such one."""
    found = yield from find_checkpoint(job_id, checkpoint)
    if found is None:
        raise DashScopeError(f"Fine-tune job {job_id} has no checkpoint {checkpoint!r}.")
    return found


def exported_model_id(job_id: str, checkpoint: str) -> Flow[str | None]:
    """The id to deploy an exported checkpoint under, read back from the checkpoint list.

    None until the export SUCCEEDED. The pages disagree on whether this is the
    ``model_name`` asked for at export, so it is never assumed to be.
    """
    found = yield from get_checkpoint(job_id, checkpoint)
    if found.status_name != "SUCCEEDED":
        return None
    return found.model_name


def export_checkpoint(
    job_id: str, checkpoint: str, model_name: str, *, max_attempts: int | None = None
) -> Flow[bool]:
    """Start publishing a checkpoint, asking for id ``model_name``; watch its status.

    Sent once: after an ambiguous failure the checkpoint is read back, and an export already
    under way (PROCESSING or SUCCEEDED) is this one. A queued export still shows PENDING, so
    the export is then sent again, and its refusal as "already exported" also means the
    first one went through. Deploy the id :func:`exported_model_id` reads back, not
    ``model_name``.
    """
    request = ApiRequest(
        "GET",
        f"/fine-tunes/{segment(job_id)}/export/{segment(checkpoint)}",
        params={"model_name": model_name},
        idempotent=False,
    )

    def parse(body: Any) -> bool:
        if output_of(body) is False:
            raise DashScopeError(f"DashScope declined to export {checkpoint} of job {job_id}.")
        return True

    def lookup() -> Flow[bool | None]:
        found = yield from find_checkpoint(job_id, checkpoint)
        started = found is not None and found.status_name in ("PROCESSING", "SUCCEEDED")
        return True if started else None

    def already_exported(error: DashScopeError) -> bool | None:
        refused = isinstance(error, (UnsupportedOperationError, ConflictError))
        return True if refused and "already" in str(error).lower() else None

    return (
        yield from create_once(
            lambda: request,
            parse,
            lookup,
            max_attempts=max_attempts,
            refusal_result=already_exported,
        )
    )
