"""``/api/v1/files``: multipart upload streamed to disk, list, get, delete.

Starlette's form parser spools every file part to a temporary file (in memory only up to
1 MB), and the part is then copied to the state dir in 1 MB chunks in a worker thread, so a
300 MB upload never sits in the emulator's memory.
"""

from __future__ import annotations

import contextlib
import hashlib
import uuid
from typing import IO, Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from .clock import job_time
from .errors import bad_request, new_request_id
from .settings import MB
from .state import FileRecord, Store
from .web import data, emulator_of, paging, workspace_of

router = APIRouter()
CHUNK = MB


def _copy(src: IO[bytes], dest: str) -> tuple[int, str, int]:
    """Copy ``src`` to ``dest``; returns (size, md5, number of lines)."""
    md5 = hashlib.md5()
    size = lines = 0
    last = b""
    src.seek(0)
    with open(dest, "wb") as out:
        while chunk := src.read(CHUNK):
            out.write(chunk)
            md5.update(chunk)
            size += len(chunk)
            lines += chunk.count(b"\n")
            last = chunk[-1:]
    if size and last != b"\n":
        lines += 1
    return size, md5.hexdigest(), lines


def file_object(record: FileRecord) -> dict[str, Any]:
    return {
        "file_id": record.file_id,
        "name": record.name,
        "description": record.description,
        "purpose": record.purpose,
        "size": record.size,
        "md5": record.md5,
        "gmt_create": job_time(record.created_at),
    }


def _limit_failure(
    store: Store, size: int, max_file: int, max_files: int, max_total: int
) -> tuple[str, str] | None:
    if size > max_file:
        return "BadRequest.TooLarge", f"File size exceeds the limit of {max_file // MB} MB."
    if len(store.files) >= max_files:
        return "BadRequest.TooMany", f"The number of files exceeds the limit of {max_files}."
    if sum(f.size for f in store.files.values()) + size > max_total:
        return (
            "BadRequest.TooLarge",
            f"Total file storage exceeds the limit of {max_total // MB} MB.",
        )
    return None


def _get(store: Store, workspace: str, file_id: str) -> FileRecord:
    record = store.files.get(file_id)
    if record is None or record.workspace_id != workspace:
        raise bad_request("File not found.")
    return record


@router.post("/files")
async def upload_files(request: Request) -> JSONResponse:
    emu = emulator_of(request)
    workspace = workspace_of(request)
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
        s = emu.settings
        for index, upload in enumerate(uploads):
            name = upload.filename or f"file-{index}"
            size = upload.size if upload.size is not None else 0
            with emu.store.lock:
                failure = _limit_failure(
                    emu.store, size, s.max_file_bytes, s.max_files, s.max_total_bytes
                )
            if failure is not None:
                failed.append({"name": name, "code": failure[0], "message": failure[1]})
                continue
            file_id = str(uuid.uuid4())
            dest = emu.store.file_path(file_id)
            size, md5, lines = await run_in_threadpool(_copy, upload.file, str(dest))
            with emu.session() as now:
                failure = _limit_failure(
                    emu.store, size, s.max_file_bytes, s.max_files, s.max_total_bytes
                )
                if failure is not None:
                    dest.unlink()
                    failed.append({"name": name, "code": failure[0], "message": failure[1]})
                    continue
                emu.store.files[file_id] = FileRecord(
                    file_id=file_id,
                    workspace_id=workspace,
                    name=name,
                    description=descriptions[index] if index < len(descriptions) else "",
                    purpose=purpose,
                    size=size,
                    md5=md5,
                    created_at=now,
                    lines=lines,
                )
                emu.persist()
            emu.counters.bump("files_uploaded")
            uploaded.append({"file_id": file_id, "name": name})
    finally:
        await form.close()
    return data({"uploaded_files": uploaded, "failed_uploads": failed})


@router.get("/files")
async def list_files(request: Request) -> JSONResponse:
    emu = emulator_of(request)
    workspace = workspace_of(request)
    page_no, page_size = paging(request, 100, 10)
    with emu.session():
        records = [f for f in emu.store.files.values() if f.workspace_id == workspace]
    records.sort(key=lambda f: f.created_at, reverse=True)
    page = records[(page_no - 1) * page_size : page_no * page_size]
    return data(
        {
            "total": len(records),
            "page_no": page_no,
            "page_size": page_size,
            "files": [file_object(f) for f in page],
        }
    )


@router.get("/files/{file_id}")
async def get_file(request: Request, file_id: str) -> JSONResponse:
    emu = emulator_of(request)
    with emu.session():
        return data(file_object(_get(emu.store, workspace_of(request), file_id)))


@router.delete("/files/{file_id}")
async def delete_file(request: Request, file_id: str) -> JSONResponse:
    emu = emulator_of(request)
    with emu.session():
        record = _get(emu.store, workspace_of(request), file_id)
        del emu.store.files[record.file_id]
        with contextlib.suppress(FileNotFoundError):
            emu.store.file_path(record.file_id).unlink()
        emu.persist()
    return JSONResponse({"request_id": new_request_id()})
