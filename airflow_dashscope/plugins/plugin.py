"""The Airflow plugin: mounts the app under ``/dashscope`` and adds the tab and the page.

The app has no page at ``/dashscope`` itself: users reach it through Airflow's UI, which
shows each view at ``/plugin/<url_route>`` (the page: ``/plugin/dashscope``) in a frame of
its ``href``.

``external_views`` hrefs are relative (no leading slash) so they follow Airflow's base URL;
the UI fills ``{DAG_ID}``, ``{TASK_ID}``, ``{MAP_INDEX}`` and ``{RUN_ID}`` for the
``task_instance`` tab. Airflow shows the tab on every task instance; on a task that is not a
DashScope fine-tune it says so.
"""

from __future__ import annotations

from typing import Any

from airflow.plugins_manager import AirflowPlugin

from airflow_dashscope.links.results import TAB_ROUTE
from airflow_dashscope.plugins.app import create_app

URL_PREFIX = "/dashscope"

FINE_TUNING_TAB: dict[str, Any] = {
    "name": "Fine-tuning",
    "href": "dashscope/task/{DAG_ID}/{TASK_ID}/{MAP_INDEX}/{RUN_ID}",
    "destination": "task_instance",
    "url_route": TAB_ROUTE,
}
DASHSCOPE_PAGE: dict[str, Any] = {
    "name": "DashScope",
    "href": "dashscope/jobs",
    "destination": "nav",
    "icon": "dashscope/static/icon.svg",
    "url_route": "dashscope",
}


class DashScopePlugin(AirflowPlugin):
    """Fine-tune jobs and deployments of this Airflow's DAGs, in Airflow's UI."""

    name = "dashscope"
    fastapi_apps = [{"app": create_app(), "url_prefix": URL_PREFIX, "name": "DashScope"}]
    external_views = [FINE_TUNING_TAB, DASHSCOPE_PAGE]
