"""The evaluation and sweep links lead to the task instance's tab, under Airflow's base URL."""

from __future__ import annotations

import pytest
from airflow.models.taskinstancekey import TaskInstanceKey

from airflow_dashscope.links.results import DashScopeEvaluationLink, DashScopeSweepLink
from airflow_dashscope.plugins.plugin import FINE_TUNING_TAB


@pytest.mark.parametrize(
    ("base_url", "prefix"),
    [("http://localhost:8080", ""), ("https://example.test/airflow/", "/airflow")],
)
def test_the_links_open_the_tab(
    monkeypatch: pytest.MonkeyPatch, base_url: str, prefix: str
) -> None:
    monkeypatch.setenv("AIRFLOW__API__BASE_URL", base_url)
    key = TaskInstanceKey("my dag", "evaluate", "manual__2025/01", 1, -1)
    run = "manual__2025%2F01"
    route = FINE_TUNING_TAB["url_route"]
    assert DashScopeEvaluationLink().get_link(None, ti_key=key) == (
        f"{prefix}/dags/my%20dag/runs/{run}/tasks/evaluate/plugin/{route}"
    )
    mapped = TaskInstanceKey("d", "fine_tune", "r", 1, 2)
    assert DashScopeSweepLink().get_link(None, ti_key=mapped) == (
        f"{prefix}/dags/d/runs/r/tasks/fine_tune/mapped/2/plugin/{route}"
    )
