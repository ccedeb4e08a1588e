"""Files: the training and validation data the service keeps for fine-tunes.

The file object of the file-management page: ``id`` (internal, a Number in the list table
and a String in the get table), ``file_id``, ``name``, ``description``, ``purpose`` (list
items only, on some pages), ``size``, ``md5``, ``region``, ``url``, ``user_id``,
``api_key_id``, ``gmt_create``. Every field but ``file_id`` may be missing.
"""

from __future__ import annotations

import base64
import binascii

from pydantic import Field

from airflow_dashscope.client.models.base import DashScopeModel, LenientText, ServiceTime


class DashScopeFile(DashScopeModel):
    file_id: str
    id: int | str | None = None
    name: str | None = None
    description: str | None = None
    purpose: str | None = None
    size: int | None = None
    md5: str | None = None
    region: str | None = None
    url: str | None = None
    user_id: LenientText | None = None
    api_key_id: str | None = None
    gmt_create: ServiceTime | None = None

    def md5_digest(self) -> bytes | None:
        """The raw 16-byte digest, whichever form ``md5`` is written in: hex (the page's
        samples) or base64 of the digest (recorded traffic). None if unreadable."""
        value = (self.md5 or "").strip()
        if len(value) == 32:
            try:
                return bytes.fromhex(value)
            except ValueError:
                return None
        try:
            digest = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            return None
        return digest if len(digest) == 16 else None

    def has_content(self, size: int, digest: bytes) -> bool:
        """Holds exactly these bytes (size and MD5, ``md5`` in either form): what tells an
        upload the service already keeps from a new one."""
        return self.size == size and self.md5_digest() == digest


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
