"""Uploaded files: copying to disk, the account's limits and the file object (no HTTP here).

model-customization-file-management-service.md: one file at most 1 GB, 5 GB and 100 files in
all (not deleted); over a limit the file is listed in ``failed_uploads`` with
``BadRequest.TooLarge`` ("Out of space, <839> B of <1024> B storage space has been used.") or
``BadRequest.TooMany`` ("Out of number, <10> of <10> files has been uploaded.").
"""

from __future__ import annotations

import base64
import hashlib
from typing import IO, Any

from .clock import job_time
from .errors import bad_request
from .settings import Settings
from .state import USER_IDENTITY, FileRecord, Store

CHUNK = 1024 * 1024


def copy_upload(src: IO[bytes], dest: str) -> tuple[int, str, int]:
    """Copy ``src`` to ``dest``; returns (size, md5 as base64 of the digest, number of lines)."""
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
    return size, base64.b64encode(md5.digest()).decode("ascii"), lines


def api_key_id(api_key: str) -> str:
    """A stable id for the key that made the upload; never the key itself."""
    return "sk-" + hashlib.sha256(api_key.encode()).hexdigest()[:12]


def limit_failure(store: Store, settings: Settings, size: int) -> tuple[str, str] | None:
    """(code, message) when one more file of ``size`` bytes would break a limit."""
    if size > settings.max_file_bytes:
        return (
            "BadRequest.TooLarge",
            f"File too large, <{size}> B exceeds the limit of <{settings.max_file_bytes}> B.",
        )
    count = len(store.files)
    if count >= settings.max_files:
        return (
            "BadRequest.TooMany",
            f"Out of number, <{count}> of <{settings.max_files}> files has been uploaded.",
        )
    used = sum(f.size for f in store.files)
    if used + size > settings.max_total_bytes:
        return (
            "BadRequest.TooLarge",
            f"Out of space, <{used}> B of <{settings.max_total_bytes}> B storage space has "
            "been used.",
        )
    return None


def get_file(store: Store, scope: tuple[str, str], file_id: str) -> FileRecord:
    record = store.files.get(file_id)
    if record is None or (record.region, record.workspace_id) != scope:
        raise bad_request("File not found.")
    return record


def file_object(record: FileRecord, url_root: str) -> dict[str, Any]:
    """The file object, the same in a list and alone: ``purpose`` included in both (recorded
    real traffic shows it on ``GET /files/{id}`` although the page's get table omits it)."""
    return {
        "id": record.numeric_id,
        "file_id": record.file_id,
        "name": record.name,
        "description": record.description,
        "size": record.size,
        "md5": record.md5,
        "gmt_create": job_time(record.created_at),
        "url": f"{url_root}/__emulator__/files/{record.file_id}",
        "region": record.region,
        "user_id": USER_IDENTITY,
        "api_key_id": record.api_key_id,
        "purpose": record.purpose,
    }
