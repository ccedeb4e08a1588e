"""The plugin is declared where Airflow looks for it, and declares what the UI needs."""

from __future__ import annotations

import importlib
import importlib.metadata
import json
from pathlib import Path

import airflow
import jsonschema

from airflow_dashscope.get_provider_info import get_provider_info
from airflow_dashscope.plugins.plugin import DashScopePlugin


def _load(path: str) -> object:
    module, _, name = path.replace(":", ".").rpartition(".")
    return getattr(importlib.import_module(module), name)


def test_provider_metadata_and_entry_point_name_the_plugin() -> None:
    info = get_provider_info()
    schema = json.loads((Path(airflow.__file__).parent / "provider_info.schema.json").read_text())
    jsonschema.validate(info, schema)
    (declared,) = info["plugins"]
    assert _load(declared["plugin-class"]) is DashScopePlugin
    (entry,) = [
        e
        for e in importlib.metadata.entry_points(group="airflow.plugins")
        if e.value.startswith("airflow_dashscope.")
    ]
    assert entry.load() is DashScopePlugin


def test_the_tab_and_the_page_are_relative_views_of_the_mounted_app() -> None:
    (app,) = DashScopePlugin.fastapi_apps
    prefix = app["url_prefix"].strip("/")
    views = {view["destination"]: view for view in DashScopePlugin.external_views}
    tab, page = views["task_instance"], views["nav"]
    assert tab["name"] == "Fine-tuning" and page["name"] == "DashScope"
    for view in (tab, page):
        # Relative to Airflow's base URL, under the app; the UI needs url_route for a tab.
        assert view["href"].startswith(prefix + "/") and view["url_route"]
    for placeholder in ("{DAG_ID}", "{RUN_ID}", "{TASK_ID}", "{MAP_INDEX}"):
        assert placeholder in tab["href"]
    routes = {getattr(route, "path", "") for route in app["app"].routes}
    assert "/jobs" in routes and "/task/{dag_id}/{task_id}/{map_index}/{run_id:path}" in routes
