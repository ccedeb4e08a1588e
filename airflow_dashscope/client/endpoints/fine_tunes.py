"""Fine-tune endpoints (``/fine-tunes``): payloads under ``output``.

Creating a job costs money, so :func:`create_fine_tune` never makes two: every request
carries a ``job_name`` (one is generated when the caller gives none), and after an
ambiguous failure (sent, no answer, or a 5xx) the flow looks the job up by that name
before it tries again.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from airflow_dashscope.client.endpoints.paging import every_page
from airflow_dashscope.client.errors import (
    DashScopeError,
    DashScopeTransportError,
    InternalServerError,
)
from airflow_dashscope.client.models import (
    Checkpoint,
    FineTuneJob,
    FineTuneJobPage,
    JobLogs,
    OperationStatus,
)
from airflow_dashscope.client.request import ApiRequest, Flow, output_of, segment, single

FINE_TUNES_MAX_PAGE_SIZE = 100


def generated_job_name() -> str:
    """A unique name, so that a create can be found again after an ambiguous failure."""
    return f"job-{uuid.uuid4().hex[:16]}"


def is_ambiguous(error: DashScopeError) -> bool:
    """The request may have been acted on although no success came back."""
    if isinstance(error, DashScopeTransportError):
        return error.request_sent
    return isinstance(error, InternalServerError)


def _parse_job(body: Any) -> FineTuneJob:
    return FineTuneJob.model_validate(output_of(body))


def create_fine_tune(
    model: str,
    training_file_ids: Sequence[str],
    *,
    validation_file_ids: Sequence[str] | None = None,
    training_type: str | None = None,
    hyper_parameters: Mapping[str, Any] | None = None,
    job_name: str | None = None,
    model_name: str | None = None,
    known_jobs: Sequence[FineTuneJob] | None = None,
    max_attempts: int = 3,
) -> Flow[FineTuneJob]:
    """Create a job; after an ambiguous failure, find it by name before creating again."""
    name = job_name or generated_job_name()
    body: dict[str, Any] = {
        "model": model,
        "training_file_ids": list(training_file_ids),
        "job_name": name,
    }
    if validation_file_ids:
        body["validation_file_ids"] = list(validation_file_ids)
    if training_type:
        body["training_type"] = str(training_type)
    if hyper_parameters:
        body["hyper_parameters"] = dict(hyper_parameters)
    if model_name:
        body["model_name"] = model_name
    # A caller's own name may already be used by older jobs: only a new one can be ours.
    existing_ids: set[str] = set()
    if known_jobs is not None:
        existing_ids = {job.job_id for job in known_jobs}
    elif job_name:
        existing_ids = {job.job_id for job in (yield from find_fine_tunes_by_name(name))}
    request = ApiRequest("POST", "/fine-tunes", json=body, idempotent=False)
    for attempt in range(1, max_attempts + 1):
        try:
            answer = yield request
        except DashScopeError as error:
            if not is_ambiguous(error):
                raise
            created = [
                job
                for job in (yield from find_fine_tunes_by_name(name))
                if job.job_id not in existing_ids
            ]
            if created:
                return created[0]
            if attempt == max_attempts:
                raise
            continue
        return _parse_job(answer)
    raise AssertionError("unreachable")  # pragma: no cover


def get_fine_tune(job_id: str) -> Flow[FineTuneJob]:
    return single(ApiRequest("GET", f"/fine-tunes/{segment(job_id)}"), _parse_job)


def _page_request(page_no: int, page_size: int) -> ApiRequest:
    return ApiRequest("GET", "/fine-tunes", params={"page_no": page_no, "page_size": page_size})


def _parse_page(body: Any) -> FineTuneJobPage:
    return FineTuneJobPage.model_validate(output_of(body) or {})


def list_fine_tunes_page(page_no: int = 1, page_size: int = 10) -> Flow[FineTuneJobPage]:
    return single(_page_request(page_no, page_size), _parse_page)


def list_fine_tunes(page_size: int = FINE_TUNES_MAX_PAGE_SIZE) -> Flow[list[FineTuneJob]]:
    """Every job, across all pages."""

    def parse(body: Any) -> tuple[list[FineTuneJob], int]:
        page = _parse_page(body)
        return page.jobs, page.total

    return every_page(lambda page_no: _page_request(page_no, page_size), parse)


def find_fine_tunes_by_name(job_name: str) -> Flow[list[FineTuneJob]]:
    """Jobs whose ``job_name`` is ``job_name``, newest first."""
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


def get_fine_tune_logs(job_id: str, *, offset: int = 1, line: int = 1000) -> Flow[JobLogs]:
    """At most ``line`` log lines from line number ``offset`` on, and the total so far.

    ``offset`` counts from 1 like the official SDKs; the documents' example sends 0, which
    the service reads as the first line too.
    """
    request = ApiRequest(
        "GET",
        f"/fine-tunes/{segment(job_id)}/logs",
        params={"offset": offset, "line": line},
    )
    return single(request, lambda body: JobLogs.model_validate(output_of(body) or {}))


def list_checkpoints(job_id: str) -> Flow[list[Checkpoint]]:
    """The job's checkpoints, newest step first."""

    def parse(body: Any) -> list[Checkpoint]:
        items = output_of(body) or []
        checkpoints = [Checkpoint.model_validate(item) for item in items]
        return sorted(checkpoints, key=lambda c: c.step_number, reverse=True)

    return single(ApiRequest("GET", f"/fine-tunes/{segment(job_id)}/checkpoints"), parse)


def export_checkpoint(job_id: str, checkpoint: str, model_name: str) -> Flow[bool]:
    """Start publishing a checkpoint as model ``model_name``; watch the checkpoint's status."""
    request = ApiRequest(
        "GET",
        f"/fine-tunes/{segment(job_id)}/export/{segment(checkpoint)}",
        params={"model_name": model_name},
    )

    def parse(body: Any) -> bool:
        output = output_of(body)
        if output is False:
            raise DashScopeError(f"DashScope declined to export {checkpoint} of job {job_id}.")
        return True

    return single(request, parse)
