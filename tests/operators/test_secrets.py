"""The API key never reaches a task log line, an exception, an XCom or trigger kwargs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from airflow.sdk.exceptions import AirflowException

from airflow_dashscope.client import AuthenticationError
from airflow_dashscope.emulator.runner import RunningEmulator
from airflow_dashscope.exceptions import AirflowFailException, DashScopeRequestRejectedError
from airflow_dashscope.operators import DashScopeFineTuneOperator, DashScopeUploadFileOperator
from tests.operators.conftest import HYPER, first_event
from tests.operators.helpers import defer, execute


def test_the_key_is_nowhere_in_logs_xcom_trigger_or_errors(
    training_path: Path,
    make_context: Any,
    emu: RunningEmulator,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    key = emu.api_key
    context = make_context()
    file_id = execute(
        DashScopeUploadFileOperator(task_id="upload", file_path=str(training_path)), context
    )
    op = DashScopeFineTuneOperator(
        task_id="finetune",
        model="qwen3-8b",
        training_file_ids=[file_id],
        hyper_parameters=HYPER,
        deferrable=True,
        poll_interval=0.01,
    )
    trigger = defer(op, context)
    _, trigger_kwargs = trigger.serialize()
    emu.advance(2)
    emu.fail_job(context["ti"].xcom("job_id"), "InvalidApiKey", "the service refused")
    with pytest.raises(AirflowException) as failed:
        op.execute_complete(context, first_event(trigger))
    rendered = {name: getattr(op, name) for name in op.template_fields}
    seen = [
        capsys.readouterr().out,
        caplog.text,
        repr(context["ti"].xcoms),
        repr(trigger_kwargs),
        str(failed.value),
        repr(rendered),
    ]
    assert all(key not in text for text in seen)
    assert "the service refused" in str(failed.value)


def test_a_bad_key_fails_without_echoing_it(
    training_path: Path, make_context: Any, monkeypatch: pytest.MonkeyPatch, emu: RunningEmulator
) -> None:
    import json

    wrong = "sk-wrong-key-0123456789"
    monkeypatch.setenv(
        "AIRFLOW_CONN_DASHSCOPE_DEFAULT",
        json.dumps({"conn_type": "dashscope", "host": emu.base_url, "password": wrong}),
    )
    op = DashScopeUploadFileOperator(task_id="upload", file_path=str(training_path))
    with pytest.raises(DashScopeRequestRejectedError) as failed:
        execute(op, make_context())
    assert isinstance(failed.value, AirflowFailException)  # a retry would be refused too
    cause = failed.value.__cause__
    assert isinstance(cause, AuthenticationError)
    assert wrong not in str(failed.value) and wrong not in repr(cause.body)
