"""A connection that cannot work fails the task at once (only editing it helps), on every
path, naming the connection; one that cannot reach its host says where it tried to go."""

from __future__ import annotations

import json
import socket
from typing import Any

import pytest

from airflow_dashscope.client.errors import DashScopeConfigError
from airflow_dashscope.compat import AirflowFailException
from airflow_dashscope.emulator.runner import RunningEmulator
from airflow_dashscope.exceptions import DashScopeConnectionError, DashScopeTaskError
from airflow_dashscope.hooks import DashScopeHook
from airflow_dashscope.operators import DashScopeFineTuneOperator

HYPER = {"n_epochs": 1, "batch_size": 8, "max_length": 1024}


def _connect(monkeypatch: pytest.MonkeyPatch, conn_id: str, **fields: Any) -> None:
    monkeypatch.setenv(
        f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps({"conn_type": "dashscope", **fields})
    )


def _fine_tune(conn_id: str) -> DashScopeFineTuneOperator:
    return DashScopeFineTuneOperator(
        task_id="ft",
        dashscope_conn_id=conn_id,
        model="qwen3-8b",
        training_file_ids="file-1",
        hyper_parameters=HYPER,
        deferrable=False,
    )


def test_a_base_url_without_the_api_root_fails_the_task_at_once(
    dashscope_emulator: RunningEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = dashscope_emulator.base_url.removesuffix("/api/v1")
    _connect(monkeypatch, "no_root", host=root, password=dashscope_emulator.api_key)
    with pytest.raises(AirflowFailException) as failed:
        _fine_tune("no_root").execute({})
    message = str(failed.value)
    assert message.startswith("Edit the Airflow connection 'no_root'")
    assert f"{root}/api/v1" in message  # what to write instead
    assert isinstance(failed.value, DashScopeConnectionError)
    assert dashscope_emulator.counters()["requests_total"] == 0


@pytest.mark.parametrize(
    "fields",
    [
        {"host": "127.0.0.1:1/api/v1", "password": "k"},
        {"extra": {"region": "mars"}, "password": "k"},
        {},
    ],
    ids=["no scheme", "unknown region", "no key"],
)
def test_every_unusable_connection_is_fatal_on_the_worker_and_an_error_in_a_trigger(
    fields: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    _connect(monkeypatch, "broken", **fields)
    hook = DashScopeHook("broken")
    with pytest.raises(AirflowFailException, match="Edit the Airflow connection 'broken'"):
        hook.client_config()
    # Code written against the client (a trigger catches DashScopeError) still catches it.
    with pytest.raises(DashScopeConfigError):
        hook.client_config()


def test_an_unknown_workspace_fails_the_task_at_once_naming_the_connection(
    dashscope_emulator: RunningEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    _connect(
        monkeypatch,
        "ws",
        host=dashscope_emulator.base_url,
        password=dashscope_emulator.api_key,
        extra={"workspace": "llm-nope"},
    )
    with pytest.raises(DashScopeConnectionError) as failed:
        _fine_tune("ws").execute({})
    lines = str(failed.value).splitlines()
    assert "Airflow connection 'ws'" in lines[0] and "Edit" in lines[1]
    assert "'llm-nope'" in str(failed.value)
    assert dashscope_emulator.counters()["requests_total"] == 1


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_connection_refused_names_the_host_the_port_and_the_connection(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    port = _closed_port()
    _connect(
        monkeypatch,
        "offline",
        host=f"http://127.0.0.1:{port}/api/v1",
        password="k",
        extra={"max_retries": 0},
    )
    with pytest.raises(DashScopeTaskError) as failed:
        _fine_tune("offline").execute({})
    assert not isinstance(failed.value, AirflowFailException)  # it may come back: retried
    message = str(failed.value)
    assert f"127.0.0.1:{port}" in message
    assert "Airflow connection 'offline'" in message
    assert "python -m airflow_dashscope.emulator" in message
    assert all(len(line) <= 110 for line in message.splitlines()[:3])
