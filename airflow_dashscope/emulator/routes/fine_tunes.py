"""``/api/v1/fine-tunes``: create, list, get, cancel, delete, logs, checkpoints, export, and
the SDK's live event stream."""

# ruff: noqa: RUF002, RUF003  (quotes the vendor's Chinese pages)

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, StreamingResponse

from .. import checkpoints, jobs
from ..job_create import create_job
from ..web import emulator_of, int_param, json_body, output, paging, scope_of

router = APIRouter()
#: model-training-api-reference.md: ``line`` "默认值为100，上限为1000".
LOG_LINES_DEFAULT, LOG_LINES_MAX = 100, 1000
#: How often the event stream looks at its job (real seconds).
STREAM_POLL_SECONDS = 0.05


@router.post("/fine-tunes")
async def create_fine_tune(request: Request) -> JSONResponse:
    emu = emulator_of(request)
    body = await json_body(request)
    with emu.session() as now:
        job = create_job(emu.store, emu.settings, now, scope_of(request), body)
        emu.counters.bump("jobs_created")
        return output(jobs.job_object(job))


@router.get("/fine-tunes")
async def list_fine_tunes(request: Request) -> JSONResponse:
    """``model`` filters: "指定该参数表示只列举基于该模型的调优任务" (the job's model or base)."""
    emu = emulator_of(request)
    scope = scope_of(request)
    page_no, page_size = paging(request, 100, 10)
    model = request.query_params.get("model") or None
    with emu.session():
        found = [
            j
            for j in emu.store.jobs
            if (j.region, j.workspace_id) == scope
            and (model is None or model in (j.model, j.base_model))
        ]
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
        return output(jobs.job_object(jobs.get_job(emu.store, scope_of(request), job_id)))


@router.post("/fine-tunes/{job_id}/cancel")
async def cancel_fine_tune(request: Request, job_id: str) -> JSONResponse:
    emu = emulator_of(request)
    with emu.session() as now:
        job = jobs.get_job(emu.store, scope_of(request), job_id)
        jobs.cancel_job(emu.store, emu.settings, job, now)
    return output({"status": "success"})


@router.delete("/fine-tunes/{job_id}")
async def delete_fine_tune(request: Request, job_id: str) -> JSONResponse:
    emu = emulator_of(request)
    with emu.session():
        jobs.delete_job(emu.store, jobs.get_job(emu.store, scope_of(request), job_id))
    return output({"status": "success"})


@router.get("/fine-tunes/{job_id}/logs")
async def fine_tune_logs(request: Request, job_id: str) -> JSONResponse:
    """``offset``: lines to skip (default 0); ``line``: default 100, capped at 1000."""
    emu = emulator_of(request)
    offset = int_param(request, "offset", 0, 0, None)
    line = min(int_param(request, "line", LOG_LINES_DEFAULT, 1, None), LOG_LINES_MAX)
    with emu.session():
        job = jobs.get_job(emu.store, scope_of(request), job_id)
        return output(jobs.logs_page(job, offset, line))


@router.get("/fine-tunes/{job_id}/checkpoints")
async def fine_tune_checkpoints(request: Request, job_id: str) -> JSONResponse:
    emu = emulator_of(request)
    with emu.session() as now:
        job = jobs.get_job(emu.store, scope_of(request), job_id)
        return output(checkpoints.checkpoint_objects(job, now, emu.settings.export_seconds))


@router.get("/fine-tunes/{job_id}/export/{checkpoint}")
async def export_checkpoint(request: Request, job_id: str, checkpoint: str) -> JSONResponse:
    emu = emulator_of(request)
    model_name = request.query_params.get("model_name", "")
    with emu.session() as now:
        job = jobs.get_job(emu.store, scope_of(request), job_id)
        checkpoints.export_checkpoint(emu.store, emu.settings, job, checkpoint, model_name, now)
    return output(True)


@router.get("/fine-tunes/{job_id}/stream")
async def stream_fine_tune(request: Request, job_id: str) -> StreamingResponse:
    """SDK-only event stream that follows the job live: each new log line as an
    ``event:result`` frame, then ``status: <final status>`` once the job has ended.

    The guide says of ``dashscope fine_tunes.stream``: "如果调优未完成，指令进程将持续监控输出模型
    调优的日志"; the frame format is the one the SDK parses.
    """
    emu = emulator_of(request)
    scope = scope_of(request)
    with emu.session():
        jobs.get_job(emu.store, scope, job_id)

    async def frames() -> AsyncIterator[str]:
        sent = 0
        while True:
            with emu.session():
                job = emu.store.jobs.get(job_id)
                if job is None:  # deleted while followed
                    return
                lines, status = job.logs[sent:], job.status
            for text in lines:
                sent += 1
                yield _frame(job_id, sent, text)
            if status in jobs.TERMINAL:
                yield _frame(job_id, sent + 1, f"status: {status}")
                return
            await asyncio.sleep(STREAM_POLL_SECONDS)

    return StreamingResponse(frames(), media_type="text/event-stream")


def _frame(job_id: str, n: int, text: str) -> str:
    payload = json.dumps({"request_id": job_id, "output": text}, ensure_ascii=False)
    return f"id:{n}\nevent:result\n:HTTP_STATUS/200\ndata:{payload}\n\n"
