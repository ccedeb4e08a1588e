"""Files endpoints (``/files``): payloads under ``data``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from airflow_dashscope.client.endpoints.creates import create_once
from airflow_dashscope.client.endpoints.paging import every_page
from airflow_dashscope.client.errors import (
    DashScopeError,
    ResourceLimitError,
    UnexpectedAnswerError,
)
from airflow_dashscope.client.models import DashScopeFile, FilePage, UploadedFile, UploadResult
from airflow_dashscope.client.request import (
    ApiRequest,
    Flow,
    UploadInput,
    UploadPart,
    data_of,
    fingerprint,
    segment,
    single,
    upload_filename,
)

FILES_MAX_PAGE_SIZE = 100


class UploadFailedError(DashScopeError):
    """The service accepted the request but refused the file (``failed_uploads``)."""

    def __init__(self, name: str | None, code: str | None, message: str | None) -> None:
        refused = f"DashScope refused the upload of {name!r}: {code}: {message}"
        if ResourceLimitError.matches(message or ""):  # the file count or storage limit
            refused = f"{ResourceLimitError.hint}\n  {refused}"
        super().__init__(refused)
        self.name = name
        self.code = code


def upload_files(
    sources: Sequence[UploadInput],
    *,
    purpose: str = "fine-tune",
    descriptions: Sequence[str | None] | None = None,
    filenames: Sequence[str | None] | None = None,
    max_attempts: int | None = None,
) -> Flow[UploadResult]:
    """Upload files in one multipart request, streamed from disk or the file objects.

    Never stores a second copy: after an ambiguous failure (a 5xx, or no answer after
    sending) the file list is read, and a file with the same name, size and MD5 is taken as
    the upload; only the files not found are sent again (after the retry policy's backoff).
    """
    names = list(filenames or [None] * len(sources))
    parts = [
        UploadPart(source, name or upload_filename(source))
        for source, name in zip(sources, names, strict=True)
    ]
    notes = list(descriptions or [None] * len(parts))
    if len(notes) != len(parts):
        raise ValueError("Give one description per file (or none).")
    found: dict[int, UploadedFile] = {}

    def request() -> ApiRequest:
        left = [index for index in range(len(parts)) if index not in found]
        form: dict[str, str | list[str]] = {"purpose": purpose}
        if any(notes[index] for index in left):
            form["descriptions"] = [notes[index] or "" for index in left]
        uploads = [("files", parts[index]) for index in left]
        return ApiRequest("POST", "/files", form=form, uploads=uploads, idempotent=False)

    def parse(body: Any) -> UploadResult:
        result = UploadResult.model_validate(data_of(body) or {})
        result.uploaded_files[:0] = [found[index] for index in sorted(found)]
        return result

    def lookup() -> Flow[UploadResult | None]:
        stored = yield from list_files()
        taken = {uploaded.file_id for uploaded in found.values()}
        for index, part in enumerate(parts):
            if index in found:
                continue
            same = _same_file(stored, part, taken)
            if same is not None:
                found[index] = UploadedFile(file_id=same.file_id, name=same.name)
                taken.add(same.file_id)
        if len(found) < len(parts):
            return None
        return UploadResult(uploaded_files=[found[index] for index in range(len(parts))])

    return (yield from create_once(request, parse, lookup, max_attempts=max_attempts))


def _same_file(
    stored: Sequence[DashScopeFile], part: UploadPart, taken: set[str]
) -> DashScopeFile | None:
    """A stored file with the name, size and MD5 of ``part`` (not already matched)."""
    candidates = [f for f in stored if f.name == part.filename and f.file_id not in taken]
    if not candidates:
        return None
    size, digest = fingerprint(part)
    return next(
        (f for f in candidates if f.has_content(size, digest)),
        None,
    )


def upload_file(
    source: UploadInput,
    *,
    purpose: str = "fine-tune",
    description: str | None = None,
    filename: str | None = None,
    max_attempts: int | None = None,
) -> Flow[str]:
    """Upload one file and return its id; raises :class:`UploadFailedError` if refused."""
    result = yield from upload_files(
        [source],
        purpose=purpose,
        descriptions=[description],
        filenames=[filename],
        max_attempts=max_attempts,
    )
    if result.failed_uploads:
        failed = result.failed_uploads[0]
        raise UploadFailedError(failed.name, failed.code, failed.message)
    if not result.uploaded_files:
        raise UnexpectedAnswerError("DashScope answered the upload with no uploaded file.")
    return result.uploaded_files[0].file_id


def _page_request(page_no: int, page_size: int) -> ApiRequest:
    return ApiRequest("GET", "/files", params={"page_no": page_no, "page_size": page_size})


def _parse_page(body: Any) -> FilePage:
    return FilePage.model_validate(data_of(body) or {})


def list_files_page(page_no: int = 1, page_size: int = 10) -> Flow[FilePage]:
    return single(_page_request(page_no, page_size), _parse_page)


def list_files(page_size: int = FILES_MAX_PAGE_SIZE) -> Flow[list[DashScopeFile]]:
    """Every file, across all pages."""

    def parse(body: Any) -> tuple[list[DashScopeFile], int]:
        page = _parse_page(body)
        return page.files, page.total

    return every_page(lambda page_no: _page_request(page_no, page_size), parse)


def get_file(file_id: str) -> Flow[DashScopeFile]:
    request = ApiRequest("GET", f"/files/{segment(file_id)}")
    return single(request, lambda body: DashScopeFile.model_validate(data_of(body)))


def delete_file(file_id: str) -> Flow[None]:
    return single(ApiRequest("DELETE", f"/files/{segment(file_id)}"), lambda body: None)
