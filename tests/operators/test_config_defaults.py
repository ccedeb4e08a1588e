"""The ``[dashscope]`` section reaches the waiting operators: an operator that does not set
``poll_interval`` or ``deferrable`` takes the deployment-wide defaults (set here the way an
operator of Airflow sets them, through ``AIRFLOW__DASHSCOPE__...`` variables)."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_dashscope.client.models import FineTuneJob
from airflow_dashscope.operators import DashScopeDeployModelOperator
from tests.operators.helpers import defer


def deploy(model_name: str, **options: Any) -> DashScopeDeployModelOperator:
    return DashScopeDeployModelOperator(task_id="deploy", model_name=model_name, **options)


def test_an_operator_defers_at_the_configured_interval(
    succeeded_job: FineTuneJob, make_context: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIRFLOW__OPERATORS__DEFAULT_DEFERRABLE", "False")
    monkeypatch.setenv("AIRFLOW__DASHSCOPE__DEFAULT_DEFERRABLE", "True")
    monkeypatch.setenv("AIRFLOW__DASHSCOPE__DEFAULT_POLL_INTERVAL", "7.5")
    op = deploy(str(succeeded_job.finetuned_output))
    assert (op.deferrable, op.poll_interval) == (True, 7.5)
    trigger = defer(op, make_context())
    assert trigger.serialize()[1]["poll_interval"] == 7.5


def test_without_the_section_airflow_default_deferrable_applies(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("AIRFLOW__DASHSCOPE__DEFAULT_DEFERRABLE", raising=False)
    monkeypatch.delenv("AIRFLOW__DASHSCOPE__DEFAULT_POLL_INTERVAL", raising=False)
    monkeypatch.setenv("AIRFLOW__OPERATORS__DEFAULT_DEFERRABLE", "True")
    op = deploy("qwen3-8b-ft-1")
    assert (op.deferrable, op.poll_interval) == (True, 30.0)
    monkeypatch.setenv("AIRFLOW__OPERATORS__DEFAULT_DEFERRABLE", "False")
    assert deploy("qwen3-8b-ft-1").deferrable is False


def test_the_task_own_arguments_win(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW__DASHSCOPE__DEFAULT_DEFERRABLE", "True")
    monkeypatch.setenv("AIRFLOW__DASHSCOPE__DEFAULT_POLL_INTERVAL", "7.5")
    op = deploy("qwen3-8b-ft-1", deferrable=False, poll_interval=2)
    assert (op.deferrable, op.poll_interval) == (False, 2)


def test_a_bad_configured_interval_names_the_option(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW__DASHSCOPE__DEFAULT_POLL_INTERVAL", "soon")
    with pytest.raises(ValueError, match=r"\[dashscope\] default_poll_interval"):
        deploy("qwen3-8b-ft-1")


def test_sensors_take_the_same_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    from airflow_dashscope.sensors import DashScopeFineTuneJobSensor

    monkeypatch.setenv("AIRFLOW__OPERATORS__DEFAULT_DEFERRABLE", "False")
    monkeypatch.setenv("AIRFLOW__DASHSCOPE__DEFAULT_DEFERRABLE", "True")
    monkeypatch.setenv("AIRFLOW__DASHSCOPE__DEFAULT_POLL_INTERVAL", "7.5")
    sensor = DashScopeFineTuneJobSensor(task_id="wait", job_id="ft-1")
    assert (sensor.deferrable, sensor.poke_interval) == (True, 7.5)
    own = DashScopeFineTuneJobSensor(
        task_id="own", job_id="ft-1", deferrable=False, poke_interval=3
    )
    assert (own.deferrable, own.poke_interval) == (False, 3)
    monkeypatch.delenv("AIRFLOW__DASHSCOPE__DEFAULT_DEFERRABLE")
    assert DashScopeFineTuneJobSensor(task_id="airflow", job_id="ft-1").deferrable is False
