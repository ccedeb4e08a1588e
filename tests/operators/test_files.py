"""Upload: validated first (a bad file never reaches the service), then one upload."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from airflow.sdk import ObjectStoragePath
from airflow.sdk.exceptions import AirflowException

from airflow_dashscope.client import DashScopeClient
from airflow_dashscope.emulator.runner import RunningEmulator
from airflow_dashscope.operators import DashScopeDeleteFileOperator, DashScopeUploadFileOperator
from tests.operators.helpers import execute


def test_upload_returns_the_file_id_and_logs_the_statistics(
    training_path: Path,
    make_context: Any,
    client: DashScopeClient,
    capsys: pytest.CaptureFixture[str],
) -> None:
    op = DashScopeUploadFileOperator(task_id="upload", file_path=str(training_path))
    file_id = execute(op, make_context())
    assert client.get_file(file_id).name == "train.jsonl"
    log = capsys.readouterr().out
    assert "OK" in log and "examples=16" in log


def test_an_object_storage_path_is_validated_and_uploaded(
    training_path: Path, make_context: Any, client: DashScopeClient
) -> None:
    path = ObjectStoragePath(f"file://{training_path}")
    file_id = execute(DashScopeUploadFileOperator(task_id="upload", file_path=path), make_context())
    assert client.get_file(file_id).size == training_path.stat().st_size


def test_invalid_data_fails_with_the_report_before_any_request(
    tmp_path: Path, make_context: Any, emu: RunningEmulator
) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"messages": [{"role": "user", "content": "hi"}]}\nnot json\n')
    op = DashScopeUploadFileOperator(task_id="upload", file_path=str(bad))
    with pytest.raises(AirflowException, match="INVALID") as failed:
        execute(op, make_context())
    assert "bad.jsonl:2: <line>: invalid JSON" in str(failed.value)
    assert emu.counters()["requests_total"] == 0


def test_validation_can_be_skipped(tmp_path: Path, make_context: Any, emu: RunningEmulator) -> None:
    raw = tmp_path / "raw.jsonl"
    raw.write_text("anything\n")
    op = DashScopeUploadFileOperator(task_id="upload", file_path=str(raw), validate=False)
    assert execute(op, make_context())


def test_delete_file_is_idempotent(
    training_path: Path, make_context: Any, client: DashScopeClient, capsys: Any
) -> None:
    file_id = client.upload_file(str(training_path))
    op = DashScopeDeleteFileOperator(task_id="delete", file_id=file_id)
    execute(op, make_context())
    assert all(f.file_id != file_id for f in client.list_files())
    execute(op, make_context())
    assert "already deleted" in capsys.readouterr().out


def test_template_fields() -> None:
    assert {"file_path", "purpose", "description"} <= set(
        DashScopeUploadFileOperator.template_fields
    )
