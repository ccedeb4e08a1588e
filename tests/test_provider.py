"""The provider is registered with Airflow, and its connection form reaches the API server."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from typing import Any

import pytest

from airflow_dashscope import __version__
from airflow_dashscope.get_provider_info import CONN_FIELDS, UI_FIELD_BEHAVIOUR, get_provider_info
from airflow_dashscope.hooks import DashScopeHook, defaults


def _airflow(*args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "airflow", *args], capture_output=True, text=True, check=True
    )
    return done.stdout


def test_providers_list_shows_the_package() -> None:
    assert "airflow-provider-dashscope" in _airflow("providers", "list", "-o", "plain")


def test_providers_hooks_shows_the_connection_type() -> None:
    out = _airflow("providers", "hooks", "-o", "plain")
    assert "dashscope" in out and "airflow_dashscope.hooks.dashscope.DashScopeHook" in out


#: The form as the API server sends it to the UI, computed in a fresh interpreter: Airflow
#: 3.1 builds it from the hook's wtforms widgets (under its own stand-ins when the FAB UI is
#: absent), 3.2+ from ``conn-fields``; a process that already made a ProvidersManager would
#: not show the 3.1 path.
FORM = """
import json
from airflow.api_fastapi.core_api.services.ui.connections import HookMetaService

meta = {m.connection_type: m for m in HookMetaService.hook_meta_data()}["dashscope"]
print("FORM=" + json.dumps({
    "hook": meta.hook_class_name,
    "extra": meta.extra_fields,
    "standard": meta.standard_fields.model_dump() if meta.standard_fields else None,
}))
"""


def connection_form() -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-c", FORM], capture_output=True, text=True, check=True
    ).stdout
    (line,) = [x for x in out.splitlines() if x.startswith("FORM=")]
    return json.loads(line.removeprefix("FORM="))


def test_connection_form_reaches_the_api_server() -> None:
    form = connection_form()
    assert form["hook"] == "airflow_dashscope.hooks.dashscope.DashScopeHook"
    extra = form["extra"]
    assert set(extra) == set(CONN_FIELDS)
    for name, field in CONN_FIELDS.items():
        # Label and description (with its example) reach the form on every Airflow line.
        assert extra[name]["schema"]["title"] == field["label"]
        assert extra[name]["description"] == field["description"]
    region = extra["region"]["schema"]
    assert region["enum"] == ["cn-beijing", "ap-southeast-1", "us-east-1"]  # no "null" choice
    assert "llm-" in extra["workspace"]["description"]
    # The timeout takes fractions: a number (3.2+) or a string the hook parses (3.1).
    assert {"number", "string"} & set(extra["timeout"]["schema"]["type"])
    assert "integer" not in extra["timeout"]["schema"]["type"]
    standard = form["standard"]
    assert standard["password"]["title"] == "API key" and standard["login"]["hidden"]
    assert standard["host"]["placeholder"].startswith("https://dashscope.aliyuncs.com/api/v1")
    assert standard["password"]["placeholder"].startswith("sk-")


def test_hook_form_on_airflow_3_1_is_built_from_the_same_metadata() -> None:
    """The 3.1 methods derive from conn-fields and ui-field-behaviour: nothing to drift."""
    behaviour = DashScopeHook.get_ui_field_behaviour()
    assert behaviour["hidden_fields"] == UI_FIELD_BEHAVIOUR["hidden-fields"]
    assert behaviour["placeholders"] == UI_FIELD_BEHAVIOUR["placeholders"]


def test_config_section_is_listed() -> None:
    out = _airflow("config", "list", "--section", "dashscope", "--include-descriptions")
    assert "[dashscope]" in out
    for option in (
        "region",
        "default_poll_interval",
        "default_deferrable",
        "max_fine_tune_jobs",
        "max_files",
        "max_file_storage_bytes",
    ):
        assert option in out


def test_config_helpers_read_the_section(monkeypatch: pytest.MonkeyPatch) -> None:
    assert defaults.default_region() == "cn-beijing"
    assert defaults.default_poll_interval() == 30.0
    monkeypatch.setenv("AIRFLOW__OPERATORS__DEFAULT_DEFERRABLE", "True")
    assert defaults.default_deferrable() is True  # empty: follows [operators]
    monkeypatch.setenv("AIRFLOW__DASHSCOPE__DEFAULT_DEFERRABLE", "False")
    assert defaults.default_deferrable() is False
    monkeypatch.setenv("AIRFLOW__DASHSCOPE__DEFAULT_POLL_INTERVAL", "2.5")
    assert defaults.default_poll_interval() == 2.5
    monkeypatch.setenv("AIRFLOW__DASHSCOPE__DEFAULT_POLL_INTERVAL", "soon")
    with pytest.raises(ValueError, match=r"\[dashscope\] default_poll_interval"):
        defaults.default_poll_interval()


def test_version_is_defined_once() -> None:
    from importlib.metadata import version

    assert get_provider_info()["versions"] == [__version__]
    assert version("airflow-provider-dashscope") == __version__


def test_provider_info_names_only_things_that_import() -> None:
    info = get_provider_info()
    modules = [
        module
        for section in ("hooks", "operators", "sensors", "triggers")
        for entry in info[section]
        for module in entry["python-modules"]
    ]
    assert len(modules) >= 8
    for module in modules:
        importlib.import_module(module)
    classpaths = [
        *info["extra-links"],
        *(c["hook-class-name"] for c in info["connection-types"]),
        *(
            a[k]
            for a in info["asset-uris"]
            for k in ("handler", "factory", "to_openlineage_converter")
        ),
    ]
    for path in classpaths:
        module, _, name = path.rpartition(".")
        assert callable(getattr(importlib.import_module(module), name)), path
