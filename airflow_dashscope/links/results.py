"""Extra links from an evaluation or a sweep selection to its view in Airflow's UI.

The view is the plugin's task tab (``plugins/plugin.py``), which draws an evaluation's scores
and worst examples, or a sweep's overlaid loss curves. Each class is also how the UI knows
what a task is (``plugins/records.py`` reads a task's links from its serialized DAG), so a
user's subclass of the operator is recognised too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

from airflow.sdk import BaseOperatorLink

if TYPE_CHECKING:
    from airflow.sdk.types import TaskInstanceKey

#: The tab's ``url_route`` (``plugins/plugin.py``), under a task instance's page.
TAB_ROUTE = "dashscope-fine-tuning"


def base_path() -> str:
    """The path of Airflow's ``[api] base_url`` (``/airflow`` behind a proxy prefix; empty
    at the root), so the link works when Airflow is not served at the host's root."""
    from airflow_dashscope.compat import conf

    base = conf.get("api", "base_url", fallback="") or ""
    return urlsplit(base).path.rstrip("/")


def tab_path(ti_key: TaskInstanceKey) -> str:
    """The task instance's tab, from the host's root, under Airflow's base URL (Airflow 3's
    route)."""
    path = base_path() + (
        f"/dags/{quote(ti_key.dag_id, safe='')}/runs/{quote(ti_key.run_id, safe='')}"
        f"/tasks/{quote(ti_key.task_id, safe='')}"
    )
    if ti_key.map_index >= 0:
        path += f"/mapped/{ti_key.map_index}"
    return f"{path}/plugin/{TAB_ROUTE}"


class _TabLink(BaseOperatorLink):
    def get_link(self, operator: Any, *, ti_key: TaskInstanceKey) -> str:
        return tab_path(ti_key)


class DashScopeEvaluationLink(_TabLink):
    """An evaluation's scores against the baseline and its worst examples."""

    name = "Evaluation"


class DashScopeSweepLink(_TabLink):
    """A sweep selection's members: their loss curves overlaid, the chosen one marked."""

    name = "Sweep"
