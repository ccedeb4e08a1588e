"""``/api/v1/files``: multipart upload streamed to disk, list, get, delete.

Starlette's form parser spools every file part to a temporary file (in memory only up to
1 MB), and the part is then copied to the state dir in 1 MB chunks in a worker thread, so a
large upload never sits in the emulator's memory.
"""

from __future__ import annotations

import contextlib
import uuid

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from ..errors import bad_request, new_request_id
from ..file_store import api_key_id, copy_upload, file_object, get_file, limit_failure
from ..state import FileRecord
from ..web import api_key_of, data, emulator_of, paging, scope_of

router = APIRouter()


def _url_root(request: Request) -> str:
    return str(request.base_url).rstrip("/")


@router.post("/files")
async def upload_files(request: Request) -> JSONResponse:
    emu = emulator_of(request)
    region, workspace = scope_of(request)
    form = await request.form(max_files=10_000, max_fields=10_000)
    try:
        uploads = [u for u in form.getlist("files") if isinstance(u, UploadFile)]
        if not uploads:
            raise bad_request("Missing files")
        descriptions = [d for d in form.getlist("descriptions") if isinstance(d, str)]
        purpose_raw = form.get("purpose")
        purpose = purpose_raw if isinstance(purpose_raw, str) and purpose_raw else "fine-tune"
        uploaded: list[dict[str, str]] = []
        failed: list[dict[str, str]] = []
        for index, upload in enumerate(uploads):
            name = upload.filename or f"file-{index}"
            with emu.store.lock:
                failure = limit_failure(emu.store, emu.settings, upload.size or 0)
            if failure is not None:
                failed.append({"name": name, "code": failure[0], "message": failure[1]})
                continue
            file_id = str(uuid.uuid4())
            dest = emu.store.file_path(file_id)
            size, md5, lines = await run_in_threadpool(copy_upload, upload.file, str(dest))
            with emu.session() as now:
                failure = limit_failure(emu.store, emu.settings, size)
                if failure is not None:
                    dest.unlink()
                    failed.append({"name": name, "code": failure[0], "message": failure[1]})
                    continue
                emu.store.files.add(
                    FileRecord(
                        file_id=file_id,
                        numeric_id=emu.store.next_file_number(),
                        region=region,
                        workspace_id=workspace,
                        name=name,
                        description=descriptions[index] if index < len(descriptions) else "",
                        purpose=purpose,
                        size=size,
                        md5=md5,
                        created_at=now,
                        lines=lines,
                        api_key_id=api_key_id(api_key_of(request)),
                    )
                )
            emu.counters.bump("files_uploaded")
            uploaded.append({"file_id": file_id, "name": name})
    finally:
        await form.close()
    return data({"uploaded_files": uploaded, "failed_uploads": failed})


@router.get("/files")
async def list_files(request: Request) -> JSONResponse:
    emu = emulator_of(request)
    scope = scope_of(request)
    page_no, page_size = paging(request, 100, 10)
    with emu.session():
        records = [f for f in emu.store.files if (f.region, f.workspace_id) == scope]
    records.sort(key=lambda f: f.numeric_id, reverse=True)
    page = records[(page_no - 1) * page_size : page_no * page_size]
    root = _url_root(request)
    return data(
        {
            "total": len(records),
            "page_no": page_no,
            "page_size": page_size,
            "files": [file_object(f, root) for f in page],
        }
    )


@router.get("/files/{file_id}")
async def get_file_info(request: Request, file_id: str) -> JSONResponse:
    emu = emulator_of(request)
    with emu.session():
        record = get_file(emu.store, scope_of(request), file_id)
        return data(file_object(record, _url_root(request)))


@router.delete("/files/{file_id}")
async def delete_file(request: Request, file_id: str) -> JSONResponse:
    emu = emulator_of(request)
    with emu.session():
        record = get_file(emu.store, scope_of(request), file_id)
        emu.store.files.remove(record.file_id)
        with contextlib.suppress(FileNotFoundError):
            emu.store.file_path(record.file_id).unlink()
    return JSONResponse({"request_id": new_request_id()})
