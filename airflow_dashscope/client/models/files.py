"""Files: the training and validation data the service keeps for fine-tunes."""

from __future__ import annotations

from pydantic import Field

from airflow_dashscope.client.models.base import DashScopeModel, ServiceTime


class DashScopeFile(DashScopeModel):
    file_id: str
    name: str | None = None
    description: str | None = None
    purpose: str | None = None
    size: int | None = None
    md5: str | None = None
    gmt_create: ServiceTime | None = None


class UploadedFile(DashScopeModel):
    file_id: str
    name: str | None = None


class FailedUpload(DashScopeModel):
    name: str | None = None
    code: str | None = None
    message: str | None = None


class UploadResult(DashScopeModel):
    """A partly failed upload is still HTTP 200: check ``failed_uploads``."""

    uploaded_files: list[UploadedFile] = Field(default_factory=list)
    failed_uploads: list[FailedUpload] = Field(default_factory=list)


class FilePage(DashScopeModel):
    total: int = 0
    page_no: int = 1
    page_size: int = 10
    files: list[DashScopeFile] = Field(default_factory=list)
