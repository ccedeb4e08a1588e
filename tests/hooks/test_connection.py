"""Reading a connection: clear errors for a wrong base URL, warnings for misspelt extras,
and the deployment-wide default region."""

from __future__ import annotations

import json
import logging

import pytest

from airflow_dashscope.client import BEIJING_BASE_URL, INTERNATIONAL_BASE_URL, DashScopeConfigError
from airflow_dashscope.hooks import DashScopeHook
from airflow_dashscope.hooks.connection import check_base_url, unknown_extra_warnings


def _set_connection(monkeypatch: pytest.MonkeyPatch, **fields: object) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_DS", json.dumps({"conn_type": "dashscope", **fields}))


def test_a_host_without_a_scheme_is_refused_with_what_to_write(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _set_connection(monkeypatch, password="k", host="127.0.0.1:8080/api/v1")
    with pytest.raises(DashScopeConfigError, match="no scheme") as raised:
        DashScopeHook("ds").client_config()
    assert "https://127.0.0.1:8080/api/v1" in str(raised.value)
    assert "'ds'" in str(raised.value)


@pytest.mark.parametrize(
    ("host", "suggestion"),
    [
        ("https://dashscope.aliyuncs.com", "https://dashscope.aliyuncs.com/api/v1"),
        ("https://dashscope.aliyuncs.com/", "https://dashscope.aliyuncs.com/api/v1"),
        (
            "https://dashscope-intl.aliyuncs.com/compatible-mode/v1",
            "https://dashscope-intl.aliyuncs.com/api/v1",
        ),
        ("http://127.0.0.1:9000", "http://127.0.0.1:9000/api/v1"),
    ],
)
def test_a_host_without_the_api_root_is_refused(host: str, suggestion: str) -> None:
    with pytest.raises(DashScopeConfigError, match="must end with /api/v1") as raised:
        check_base_url(host, "ds")
    assert f"e.g. {suggestion})" in str(raised.value)


def test_good_base_urls_pass_unchanged_but_for_a_trailing_slash() -> None:
    assert check_base_url("https://proxy.example/dashscope/api/v1/") == (
        "https://proxy.example/dashscope/api/v1"
    )
    assert check_base_url(BEIJING_BASE_URL) == BEIJING_BASE_URL


def test_unknown_extras_name_the_closest_known_key() -> None:
    messages = unknown_extra_warnings(
        {"workspce": "llm-x", "regoin": "cn-beijing", "colour": "blue", "timeout": 3}
    )
    assert messages == [
        "unknown extra 'workspce' is ignored (did you mean 'workspace'?)",
        "unknown extra 'regoin' is ignored (did you mean 'region'?)",
        "unknown extra 'colour' is ignored (known: workspace, region, timeout, max_retries, "
        "allow_insecure_http, max_connections)",
    ]
    assert unknown_extra_warnings({"extra__dashscope__workspace": "w", "max_retries": 1}) == []


def test_a_misspelt_extra_is_logged_when_the_connection_is_read(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    _set_connection(monkeypatch, password="k", extra={"workspce": "llm-x"})
    with caplog.at_level(logging.WARNING, logger="airflow_dashscope.hooks.connection"):
        config = DashScopeHook("ds").client_config()
    assert config.workspace is None
    assert "'workspce' is ignored (did you mean 'workspace'?)" in caplog.text


def test_the_deployment_default_region_applies_to_connections_without_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _set_connection(monkeypatch, password="k")
    assert DashScopeHook("ds").client_config().base_url == BEIJING_BASE_URL
    monkeypatch.setenv("AIRFLOW__DASHSCOPE__REGION", "ap-southeast-1")
    assert DashScopeHook("ds").client_config().base_url == INTERNATIONAL_BASE_URL
    # The connection's own region (or host) wins over the deployment default.
    _set_connection(monkeypatch, password="k", extra={"region": "cn-beijing"})
    assert DashScopeHook("ds").client_config().base_url == BEIJING_BASE_URL
