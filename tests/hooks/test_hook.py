from __future__ import annotations

import asyncio
import json
import logging

import pytest

from airflow_dashscope.client import BEIJING_BASE_URL, INTERNATIONAL_BASE_URL, DashScopeConfigError
from airflow_dashscope.emulator.runner import RunningEmulator
from airflow_dashscope.hooks import DashScopeHook


def _set_connection(monkeypatch: pytest.MonkeyPatch, conn_id: str, **fields: object) -> None:
    monkeypatch.setenv(
        f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps({"conn_type": "dashscope", **fields})
    )


def test_config_from_connection(monkeypatch: pytest.MonkeyPatch) -> None:
    _set_connection(
        monkeypatch,
        "ds",
        password="sk-conn",
        extra={"workspace": "llm-ws", "timeout": "12", "max_retries": 2},
    )
    config = DashScopeHook("ds").client_config()
    assert config.base_url == BEIJING_BASE_URL
    assert config.workspace == "llm-ws" and config.timeout == 12.0
    assert config.retry.max_retries == 2
    assert config.headers()["X-DashScope-WorkSpace"] == "llm-ws"


def test_region_selects_the_international_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    _set_connection(monkeypatch, "ds", password="k", extra={"region": "ap-southeast-1"})
    assert DashScopeHook("ds").client_config().base_url == INTERNATIONAL_BASE_URL


def test_api_key_falls_back_to_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    _set_connection(monkeypatch, "ds")
    with pytest.raises(DashScopeConfigError, match="DASHSCOPE_API_KEY"):
        DashScopeHook("ds").client_config()
    monkeypatch.setenv("DASHSCOPE_API_KEY", "sk-from-env")
    config = DashScopeHook("ds").client_config()
    assert config.api_key.get_secret_value() == "sk-from-env"


def test_plain_http_to_a_remote_host_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    _set_connection(monkeypatch, "ds", password="k", host="http://example.invalid/api/v1")
    with pytest.raises(DashScopeConfigError, match="plain http"):
        DashScopeHook("ds").client_config()
    _set_connection(
        monkeypatch,
        "ds",
        password="k",
        host="http://example.invalid/api/v1",
        extra={"allow_insecure_http": True},
    )
    assert DashScopeHook("ds").client_config().allow_insecure_http


def test_sync_and_async_clients_reach_the_emulator(
    dashscope_connection: RunningEmulator,
) -> None:
    hook = DashScopeHook()
    assert hook.get_conn() is hook.get_conn()  # one pooled client per hook
    assert hook.get_conn().list_files_page().total == 0

    async def use_async() -> int:
        client = await hook.aget_conn()
        assert client is await hook.aget_conn()
        page = await client.list_fine_tunes_page()
        await hook.aclose()
        return page.total

    assert asyncio.run(use_async()) == 0
    hook.close()


def test_test_connection(
    dashscope_connection: RunningEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert DashScopeHook().test_connection() == (True, "Connection to DashScope works.")
    monkeypatch.setattr(dashscope_connection.emulator.settings, "api_key", "another-key")
    ok, message = DashScopeHook().test_connection()
    assert not ok and "InvalidApiKey" in message


def test_the_key_is_masked_and_never_printed(
    dashscope_connection: RunningEmulator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    from airflow.sdk._shared.secrets_masker import redact

    key = dashscope_connection.api_key
    hook = DashScopeHook()
    client = hook.get_conn()
    assert redact(f"token {key}") != f"token {key}"
    dashscope_connection.inject_fault(status=503, count=1, path="/files$")
    with caplog.at_level(logging.DEBUG):
        client.list_files_page()
    texts = [repr(client), repr(client.config), str(client.config.api_key), caplog.text]
    assert all(key not in text for text in texts)
    hook.close()


def test_zero_retries_is_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    _set_connection(monkeypatch, "ds", password="k", extra={"max_retries": 0})
    assert DashScopeHook("ds").client_config().retry.max_retries == 0
