"""Upload: validated first (a bad file never reaches the service), then one upload."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from airflow.sdk import ObjectStoragePath
from airflow.sdk.exceptions import AirflowException

from airflow_dashscope.client import DashScopeClient
from airflow_dashscope.emulator.runner import RunningEmulator
from airflow_dashscope.exceptions import (
    AirflowFailException,
    InvalidTrainingDataError,
    OverBudgetError,
    UnknownModelError,
)
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


def test_bad_data_fails_for_good(tmp_path: Path, make_context: Any) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text("not json\n")
    with pytest.raises(InvalidTrainingDataError) as failed:
        execute(DashScopeUploadFileOperator(task_id="upload", file_path=str(bad)), make_context())
    assert isinstance(failed.value, AirflowFailException)  # a retry would read the same file


def test_an_unknown_model_fails_before_uploading(
    training_path: Path, make_context: Any, emu: RunningEmulator
) -> None:
    op = DashScopeUploadFileOperator(
        task_id="upload", file_path=str(training_path), model="qwen-max"
    )
    with pytest.raises(UnknownModelError, match="qwen-max"):
        execute(op, make_context())
    # Is it an earlier job's output, or a model the service lists? Nothing is uploaded.
    assert emu.counters()["requests"] == {
        "GET /api/v1/fine-tunes": 1,
        "GET /api/v1/deployments/models": 1,
    }


def test_the_budget_is_checked_before_uploading(
    training_path: Path, make_context: Any, emu: RunningEmulator
) -> None:
    op = DashScopeUploadFileOperator(
        task_id="upload",
        file_path=str(training_path),
        model="qwen3-8b",
        n_epochs="3",
        max_billed_tokens="10",
    )
    with pytest.raises(OverBudgetError, match=r"exceed max_billed_tokens \(10\)"):
        execute(op, make_context())
    assert emu.counters()["requests_total"] == 0


def test_the_token_estimate_is_pushed_for_the_fine_tune(
    training_path: Path, make_context: Any, emu: RunningEmulator
) -> None:
    context = make_context()
    op = DashScopeUploadFileOperator(task_id="upload", file_path=str(training_path))
    file_id = execute(op, context)
    assert isinstance(file_id, str)
    assert context["ti"].xcom("training_tokens") > 0
