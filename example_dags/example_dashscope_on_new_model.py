"""Smoke-test every new DashScope deployment, scheduled on the deployment events.

The deploy operator records an event on ``dashscope://<workspace>/deployments/<id>`` through
the alias ``dashscope-deployments`` when a deployment it made is RUNNING (a reused one, or
one made with ``announce=False``, records none). Trained and exported models have aliases
and assets of their own, so this DAG runs once per new deployment: here, each production
model ``example_dashscope_retrain`` promotes. It asks the model a question and fails if the
answer is empty.

It does not delete what it tests: the deployment belongs to the DAG that made it, which is
why pipelines that tear their deployment down do not announce it.
"""

from __future__ import annotations

from typing import Any

import pendulum
from airflow.sdk import DAG, task

from airflow_dashscope.lineage.assets import DEPLOYMENTS_ALIAS
from airflow_dashscope.operators import DashScopeInvokeModelOperator


def deployed_models(triggering_asset_events: Any) -> list[str]:
    """The ``deployed_model`` of each deployment among the events that started this run."""
    found: list[str] = []
    for events in (triggering_asset_events or {}).values():
        for event in events:
            extra = event.extra or {}
            deployed = extra.get("deployed_model")
            if extra.get("kind") == "deployed" and deployed and deployed not in found:
                found.append(deployed)
    return found


with DAG(
    dag_id="example_dashscope_on_new_model",
    description="Ask each newly deployed DashScope model a question",
    schedule=DEPLOYMENTS_ALIAS,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    tags=["dashscope", "example"],
) as dag:

    @task
    def new_deployments(triggering_asset_events: Any = None) -> list[str]:
        return deployed_models(triggering_asset_events)

    @task
    def check(answers: list[dict[str, Any]]) -> None:
        empty = [a["model"] for a in answers if not str(a.get("text") or "").strip()]
        if empty:
            raise ValueError(f"These deployments answered nothing: {empty}")

    smoke_test = DashScopeInvokeModelOperator.partial(
        task_id="smoke_test",
        messages=[{"role": "user", "content": "Say hello in one sentence."}],
    ).expand(model=new_deployments())
    check(smoke_test.output)
