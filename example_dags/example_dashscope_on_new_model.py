"""Smoke-test every newly deployed DashScope model, scheduled on the model assets.

The fine-tune, export and deploy operators record an asset event
``dashscope://<workspace>/models/<model id>`` through the alias ``dashscope-models`` when a
model is ready. This DAG is scheduled on that alias, so it runs after each of them; it only
acts on deployment events (those carry ``deployed_model``), asks the model a question and
fails if the answer is empty.
"""

from __future__ import annotations

from typing import Any

import pendulum
from airflow.sdk import DAG, task

from airflow_dashscope.assets import MODELS_ALIAS
from airflow_dashscope.operators import DashScopeInvokeModelOperator


def deployed_models(triggering_asset_events: Any) -> list[str]:
    """The ``deployed_model`` of each deployment among the events that started this run."""
    found: list[str] = []
    for events in (triggering_asset_events or {}).values():
        for event in events:
            deployed = (event.extra or {}).get("deployed_model")
            if deployed and deployed not in found:
                found.append(deployed)
    return found


with DAG(
    dag_id="example_dashscope_on_new_model",
    description="Ask each newly deployed DashScope model a question",
    schedule=MODELS_ALIAS,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    tags=["dashscope", "example"],
) as dag:

    @task
    def new_deployments(triggering_asset_events: Any = None) -> list[str]:
        return deployed_models(triggering_asset_events)

    smoke_test = DashScopeInvokeModelOperator.partial(
        task_id="smoke_test",
        messages=[{"role": "user", "content": "Say hello in one sentence."}],
    ).expand(model=new_deployments())
