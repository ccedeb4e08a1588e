from __future__ import annotations

import io
from pathlib import Path

import pytest

from airflow_dashscope.client import InvalidParameterError, UploadFailedError
from airflow_dashscope.emulator.runner import RunningEmulator

from .conftest import Call


def test_upload_get_list_delete(api: Call, training_file: Path) -> None:
    file_id = api("upload_file", training_file, description="sample")
    info = api("get_file", file_id)
    assert info.file_id == file_id
    assert info.name == "train.jsonl"
    assert info.size == training_file.stat().st_size
    assert info.description == "sample"
    assert info.gmt_create is not None and info.gmt_create.tzinfo is not None
    assert [f.file_id for f in api("list_files")] == [file_id]
    api("delete_file", file_id)
    with pytest.raises(InvalidParameterError, match="File not found"):
        api("get_file", file_id)


def test_upload_from_file_object_and_several_files(api: Call) -> None:
    result = api(
        "upload_files",
        [io.BytesIO(b'{"text": "a"}\n'), io.BytesIO(b'{"text": "b"}\n')],
        filenames=["a.jsonl", "b.jsonl"],
        descriptions=["first", None],
    )
    assert [f.name for f in result.uploaded_files] == ["a.jsonl", "b.jsonl"]
    assert result.failed_uploads == []


def test_list_walks_every_page(api: Call, training_file: Path) -> None:
    ids = {api("upload_file", training_file) for _ in range(5)}
    assert {f.file_id for f in api("list_files", page_size=2)} == ids
    page = api("list_files_page", page_no=2, page_size=2)
    assert page.total == 5 and page.page_no == 2 and len(page.files) == 2


def test_refused_upload_raises_with_the_service_code(
    api: Call,
    dashscope_emulator: RunningEmulator,
    training_file: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(dashscope_emulator.emulator.settings, "max_file_bytes", 10)
    with pytest.raises(UploadFailedError, match=r"BadRequest\.TooLarge"):
        api("upload_file", training_file)


def test_upload_from_object_storage_path(api: Call, training_file: Path) -> None:
    from airflow.sdk import ObjectStoragePath

    path = ObjectStoragePath(f"file://{training_file}")
    file_id = api("upload_file", path)
    assert api("get_file", file_id).size == training_file.stat().st_size
