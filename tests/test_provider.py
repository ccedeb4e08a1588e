"""The provider is registered with Airflow, and its connection form reaches the API server."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

from airflow_dashscope.get_provider_info import get_provider_info


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


def _form_metadata_available() -> bool:
    """Airflow 3.1 builds the form from the hook's wtforms widgets, which need the FAB UI."""
    from importlib.util import find_spec

    from airflow import __version__

    return tuple(int(p) for p in __version__.split(".")[:2]) >= (3, 2) or bool(find_spec("wtforms"))


@pytest.mark.skipif(
    not _form_metadata_available(), reason="Airflow 3.1 without the FAB UI draws no form"
)
def test_connection_form_is_in_the_hook_metadata() -> None:
    from airflow.api_fastapi.core_api.services.ui.connections import HookMetaService

    meta = {m.connection_type: m for m in HookMetaService.hook_meta_data()}
    dashscope = meta["dashscope"]
    assert dashscope.hook_class_name == "airflow_dashscope.hooks.dashscope.DashScopeHook"
    widgets = dashscope.extra_fields or {}
    assert {"workspace", "region", "timeout", "max_retries"} <= {
        name.rsplit("__", 1)[-1] for name in widgets
    }
    behaviour = dashscope.standard_fields
    assert behaviour is not None
    assert behaviour.password is not None and behaviour.password.title == "API key"
    assert behaviour.login is not None and behaviour.login.hidden


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
        *(a[k] for a in info["asset-uris"] for k in ("handler", "factory")),
    ]
    for path in classpaths:
        module, _, name = path.rpartition(".")
        assert callable(getattr(importlib.import_module(module), name)), path
