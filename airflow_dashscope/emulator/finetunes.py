"""``/api/v1/fine-tunes``: create, list, get, cancel, delete, logs, checkpoints, export."""

from __future__ import annotations

import json
from collections.abc import Iterator

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, StreamingResponse

from . import jobs
from .web import emulator_of, int_param, json_body, output, paging, workspace_of

router = APIRouter()


@router.post("/fine-tunes")
async def create_fine_tune(request: Request) -> JSONResponse:
    emu = emulator_of(request)
    body = await json_body(request)
    with emu.session() as now:
        job = jobs.create_job(emu.store, emu.settings, now, workspace_of(request), body)
        emu.persist()
        emu.counters.bump("jobs_created")
        return output(jobs.job_object(job))


@router.get("/fine-tunes")
async def list_fine_tunes(request: Request) -> JSONResponse:
    emu = emulator_of(request)
    workspace = workspace_of(request)
    page_no, page_size = paging(request, 100, 10)
    with emu.session():
        found = [j for j in emu.store.jobs.values() if j.workspace_id == workspace]
        found.sort(key=lambda j: j.seq, reverse=True)
        page = found[(page_no - 1) * page_size : page_no * page_size]
        return output(
            {
                "page_no": page_no,
                "page_size": page_size,
                "total": len(found),
                "jobs": [jobs.job_object(j) for j in page],
            }
        )


@router.get("/fine-tunes/{job_id}")
async def get_fine_tune(request: Request, job_id: str) -> JSONResponse:
    emu = emulator_of(request)
    with emu.session():
        return output(jobs.job_object(jobs.get_job(emu.store, workspace_of(request), job_id)))


@router.post("/fine-tunes/{job_id}/cancel")
async def cancel_fine_tune(request: Request, job_id: str) -> JSONResponse:
    emu = emulator_of(request)
    with emu.session() as now:
        jobs.cancel_job(jobs.get_job(emu.store, workspace_of(request), job_id), now)
        emu.persist()
    return output({"status": "success"})


@router.delete("/fine-tunes/{job_id}")
async def delete_fine_tune(request: Request, job_id: str) -> JSONResponse:
    emu = emulator_of(request)
    with emu.session():
        job = jobs.get_job(emu.store, workspace_of(request), job_id)
        jobs.check_deletable(job)
        del emu.store.jobs[job.job_id]
        emu.persist()
    return output({"status": "success"})


@router.get("/fine-tunes/{job_id}/logs")
async def fine_tune_logs(request: Request, job_id: str) -> JSONResponse:
    emu = emulator_of(request)
    offset = int_param(request, "offset", 1, 0, None)
    line = int_param(request, "line", 1000, 1, None)
    with emu.session():
        job = jobs.get_job(emu.store, workspace_of(request), job_id)
        return output(jobs.logs_page(job, offset, line))


@router.get("/fine-tunes/{job_id}/checkpoints")
async def fine_tune_checkpoints(request: Request, job_id: str) -> JSONResponse:
    emu = emulator_of(request)
    with emu.session() as now:
        job = jobs.get_job(emu.store, workspace_of(request), job_id)
        return output(jobs.checkpoint_objects(job, now, emu.settings.export_seconds))


@router.get("/fine-tunes/{job_id}/export/{checkpoint}")
async def export_checkpoint(request: Request, job_id: str, checkpoint: str) -> JSONResponse:
    emu = emulator_of(request)
    model_name = request.query_params.get("model_name", "")
    with emu.session() as now:
        job = jobs.get_job(emu.store, workspace_of(request), job_id)
        jobs.export_checkpoint(job, checkpoint, model_name, now)
        emu.persist()
    return output(True)


@router.get("/fine-tunes/{job_id}/stream")
async def stream_fine_tune(request: Request, job_id: str) -> StreamingResponse:
    """SDK-only event stream: a snapshot of the log lines and the status, then the end.

    It does not follow the job live (the emulator's clock may be manual); clients poll.
    """
    emu = emulator_of(request)
    with emu.session():
        job = jobs.get_job(emu.store, workspace_of(request), job_id)
        lines = list(job.logs)
        status = job.status

    def frames() -> Iterator[str]:
        for n, text in enumerate([*lines, f"status: {status}"], start=1):
            payload = json.dumps({"request_id": job_id, "output": text}, ensure_ascii=False)
            yield f"id:{n}\nevent:result\n:HTTP_STATUS/200\ndata:{payload}\n\n"

    return StreamingResponse(frames(), media_type="text/event-stream")
