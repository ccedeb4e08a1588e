"""Files endpoints (``/files``): payloads under ``data``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from airflow_dashscope.client.endpoints.paging import every_page
from airflow_dashscope.client.errors import DashScopeError
from airflow_dashscope.client.models import DashScopeFile, FilePage, UploadResult
from airflow_dashscope.client.request import (
    ApiRequest,
    Flow,
    UploadInput,
    UploadPart,
    data_of,
    segment,
    single,
    upload_filename,
)

FILES_MAX_PAGE_SIZE = 100


class UploadFailedError(DashScopeError):
    """The service accepted the request but refused the file (``failed_uploads``)."""

    def __init__(self, name: str | None, code: str | None, message: str | None) -> None:
        super().__init__(f"DashScope refused the upload of {name!r}: {code}: {message}")
        self.name = name
        self.code = code


def upload_files(
    sources: Sequence[UploadInput],
    *,
    purpose: str = "fine-tune",
    descriptions: Sequence[str | None] | None = None,
    filenames: Sequence[str | None] | None = None,
) -> Flow[UploadResult]:
    """Upload files in one multipart request, streamed from disk or the file objects.

    Not repeated after an ambiguous failure: a second upload would store a second copy.
    """
    names = list(filenames or [None] * len(sources))
    parts = [
        ("files", UploadPart(source, name or upload_filename(source)))
        for source, name in zip(sources, names, strict=True)
    ]
    form: dict[str, str | list[str]] = {"purpose": purpose}
    if descriptions and any(descriptions):
        form["descriptions"] = [d or "" for d in descriptions]
    request = ApiRequest("POST", "/files", form=form, uploads=parts, idempotent=False)
    return single(request, lambda body: UploadResult.model_validate(data_of(body) or {}))


def upload_file(
    source: UploadInput,
    *,
    purpose: str = "fine-tune",
    description: str | None = None,
    filename: str | None = None,
) -> Flow[str]:
    """Upload one file and return its id; raises :class:`UploadFailedError` if refused."""
    result = yield from upload_files(
        [source], purpose=purpose, descriptions=[description], filenames=[filename]
    )
    if result.failed_uploads:
        failed = result.failed_uploads[0]
        raise UploadFailedError(failed.name, failed.code, failed.message)
    if not result.uploaded_files:
        raise DashScopeError("DashScope answered the upload with no uploaded file.")
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
