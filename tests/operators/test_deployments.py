"""Deploy: wait until RUNNING, never deploy twice, reject bad plans before any request."""

from __future__ import annotations

from typing import Any

import pytest
from airflow.sdk.exceptions import AirflowException

from airflow_dashscope.client import DashScopeClient
from airflow_dashscope.client.models import FineTuneJob
from airflow_dashscope.emulator.runner import RunningEmulator
from airflow_dashscope.operators import DashScopeDeployModelOperator
from airflow_dashscope.parameters import JobParameterError
from airflow_dashscope.triggers import DashScopeDeploymentTrigger
from tests.operators.helpers import defer, execute, run_deferred

MODES = pytest.mark.parametrize("deferrable", [True, False], ids=["deferred", "worker"])


def deploy(model_name: str, **options: Any) -> DashScopeDeployModelOperator:
    options.setdefault("deferrable", True)
    options.setdefault("poll_interval", 0.01)
    return DashScopeDeployModelOperator(task_id="deploy", model_name=model_name, **options)


@MODES
def test_deploy_waits_until_running(
    deferrable: bool,
    succeeded_job: FineTuneJob,
    make_context: Any,
    emu: RunningEmulator,
    clock_running: None,
) -> None:
    model = str(succeeded_job.finetuned_output)
    context = make_context()
    op = deploy(model, deferrable=deferrable)
    result = run_deferred(op, context) if deferrable else execute(op, context)
    assert result["status"] == "RUNNING"
    assert result["deployed_model"].startswith(model)
    assert context["ti"].xcom("deployed_model") == result["deployed_model"]
    assert emu.counters()["deployments_created"] == 1


def test_the_deferral_waits_on_the_new_deployment(
    succeeded_job: FineTuneJob, make_context: Any
) -> None:
    context = make_context()
    trigger = defer(deploy(str(succeeded_job.finetuned_output)), context)
    assert isinstance(trigger, DashScopeDeploymentTrigger)
    assert trigger.serialize()[1]["deployed_model"] == context["ti"].xcom("deployed_model")


def test_a_new_try_reuses_the_deployment(
    succeeded_job: FineTuneJob, make_context: Any, emu: RunningEmulator, clock_running: None
) -> None:
    model = str(succeeded_job.finetuned_output)
    first = make_context()
    defer(deploy(model), first)
    result = run_deferred(deploy(model), make_context())
    assert result["deployed_model"] == first["ti"].xcom("deployed_model")
    assert emu.counters()["deployments_created"] == 1


def test_a_conflict_on_create_is_resolved_by_reusing_the_deployment(
    succeeded_job: FineTuneJob, make_context: Any, client: DashScopeClient, emu: RunningEmulator
) -> None:
    model = str(succeeded_job.finetuned_output)
    op = deploy(model)
    real_find = op.find
    calls: list[int] = []

    def find_after_a_race() -> Any:
        calls.append(1)
        if len(calls) == 1:  # another try deploys it between our lookup and our create
            client.create_deployment(model)
            return None
        return real_find()

    op.find = find_after_a_race  # type: ignore[method-assign]
    context = make_context()
    defer(op, context)
    assert context["ti"].xcom("deployed_model") == client.find_deployment(model).deployed_model
    assert emu.counters()["deployments_created"] == 1


@pytest.mark.parametrize(
    ("options", "problem"),
    [
        ({"plan": "mu"}, "deploy_spec is required"),
        ({"capacity": 0}, "capacity must be a positive integer"),
        ({"plan": "spot"}, "plan must be one of"),
        ({"plan": "lora", "rpm_limit": 10}, "rpm_limit only applies to plan 'mu'"),
    ],
)
def test_bad_arguments_fail_before_any_request(
    options: dict[str, Any], problem: str, make_context: Any, emu: RunningEmulator
) -> None:
    with pytest.raises(JobParameterError, match=problem):
        execute(deploy("qwen3-8b-ft-x", **options), make_context())
    assert emu.counters()["requests_total"] == 0


def test_a_deployment_that_stops_fails_the_task(
    succeeded_job: FineTuneJob, make_context: Any, client: DashScopeClient
) -> None:
    context = make_context()
    op = deploy(str(succeeded_job.finetuned_output))
    trigger = defer(op, context)
    client.delete_deployment(context["ti"].xcom("deployed_model"))
    from tests.operators.conftest import first_event

    with pytest.raises(AirflowException, match=r"DELETING|not found|NotFound"):
        op.execute_complete(context, first_event(trigger))


def test_timeout(succeeded_job: FineTuneJob, make_context: Any) -> None:
    op = deploy(str(succeeded_job.finetuned_output), deferrable=False, timeout=0.05)
    with pytest.raises(AirflowException, match="Timed out"):
        execute(op, make_context())


def test_link() -> None:
    from airflow_dashscope.links import DashScopeDeploymentLink

    links = DashScopeDeployModelOperator.operator_extra_links
    assert any(isinstance(link, DashScopeDeploymentLink) for link in links)
