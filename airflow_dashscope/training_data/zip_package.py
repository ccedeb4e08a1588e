"""Qwen-VL ZIP packages: layout and names, images, then data.jsonl streamed from the archive.

Rules (from the document): at most 2 GB; ``data.jsonl`` at the root; folder and file names
of ASCII letters, digits, ``_`` and ``-``; file names unique across the whole package;
images .bmp .jpeg .jpg .png .tif .tiff .webp, at most 1024 px a side and 10 MB; data.jsonl
names files without paths, and every named file exists.
"""

from __future__ import annotations

import zipfile
import zlib
from typing import IO

from airflow_dashscope.training_data.images import ImageHeaderError, read_image_size
from airflow_dashscope.training_data.names import (
    NAME_RULE,
    is_image_name,
    is_valid_file_name,
    is_valid_folder_name,
)
from airflow_dashscope.training_data.report import ProblemCollector
from airflow_dashscope.training_data.scan import scan_jsonl
from airflow_dashscope.training_data.sft import SftExampleCheck
from airflow_dashscope.training_data.tokens import TokenEstimate
from airflow_dashscope.training_data.vl import VlContentCheck

MAX_PACKAGE_BYTES = 2 * 1024**3
MAX_IMAGE_BYTES = 10 * 1024**2
MAX_IMAGE_SIDE = 1024
DATA_FILE = "data.jsonl"
_MEMBER_READ_ERRORS = (
    zipfile.BadZipFile,
    RuntimeError,
    NotImplementedError,
    EOFError,
    OSError,
    zlib.error,
)


def check_vl_package(
    stream: IO[bytes], sink: ProblemCollector, estimate: TokenEstimate, *, thinking: bool
) -> None:
    size = stream.seek(0, 2)
    stream.seek(0)
    if size > MAX_PACKAGE_BYTES:
        sink.error("", f"package is {size / 1024**3:.2f} GiB; the limit is 2 GB")
    try:
        archive = zipfile.ZipFile(stream)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        sink.error("", f"not a readable ZIP file: {exc}")
        return
    with archive:
        members = [info for info in archive.infolist() if not info.is_dir()]
        package_files = _check_names(archive.infolist(), sink)
        for info in members:
            if is_image_name(info.filename):
                _check_image(archive, info, sink)
        data = next((info for info in members if info.filename == DATA_FILE), None)
        if data is None:
            nested = [i.filename for i in members if i.filename.endswith("/" + DATA_FILE)]
            where = f" (found {nested[0]!r}: move it to the root)" if nested else ""
            sink.error("", f"no {DATA_FILE} at the root of the package{where}")
            return
        check = SftExampleCheck(thinking=thinking, content_check=VlContentCheck(package_files))
        sink.in_file(f"{sink.name}!{DATA_FILE}")
        try:
            with archive.open(data) as member:
                scan_jsonl(member, sink, estimate, check)
        except _MEMBER_READ_ERRORS as exc:
            sink.error("", f"cannot read {DATA_FILE}: {exc}")


def _check_names(infos: list[zipfile.ZipInfo], sink: ProblemCollector) -> set[str]:
    """Report bad and duplicate names; return the package's bare file names."""
    seen: dict[str, str] = {}
    for info in infos:
        parts = info.filename.rstrip("/").split("/")
        folders, last = (parts, None) if info.is_dir() else (parts[:-1], parts[-1])
        bad = [p for p in folders if not is_valid_folder_name(p)]
        if last is not None and not is_valid_file_name(last):
            bad.append(last)
        if bad:
            sink.error(info.filename, f"name {bad[0]!r} must use {NAME_RULE}{_hint(bad[0])}")
        if last is None:
            continue
        if last in seen:
            sink.error(
                info.filename,
                f"file name {last!r} is also used by {seen[last]!r}; file names must be "
                "unique in the whole package, even across folders",
            )
        else:
            seen[last] = info.filename
    return set(seen)


def _hint(name: str) -> str:
    if name.startswith(".") or name == "__MACOSX":
        return " (macOS metadata: zip with 'zip -r -X' or delete it)"
    return ""


def _check_image(archive: zipfile.ZipFile, info: zipfile.ZipInfo, sink: ProblemCollector) -> None:
    if info.file_size > MAX_IMAGE_BYTES:
        sink.error(info.filename, f"image is {info.file_size / 1024**2:.1f} MB; the limit is 10 MB")
    try:
        with archive.open(info) as member:
            size = read_image_size(member)
    except ImageHeaderError as exc:
        sink.error(info.filename, f"unreadable image: {exc}")
        return
    except _MEMBER_READ_ERRORS as exc:
        sink.error(info.filename, f"cannot read from the package: {exc}")
        return
    if size.width > MAX_IMAGE_SIDE or size.height > MAX_IMAGE_SIDE:
        sink.error(
            info.filename,
            f"image is {size.width}x{size.height} px; at most {MAX_IMAGE_SIDE} px wide and high",
        )
