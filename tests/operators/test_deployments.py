"""Deploy: wait until RUNNING, never deploy twice, reject bad plans before any request."""

from __future__ import annotations

from typing import Any

import pytest
from airflow.sdk.exceptions import AirflowException

from airflow_dashscope.client import DashScopeClient
from airflow_dashscope.client.models import DeploymentPlan, FineTuneJob
from airflow_dashscope.emulator.runner import RunningEmulator
from airflow_dashscope.exceptions import AirflowFailException, InvalidRequestError
from airflow_dashscope.lineage.assets import DEPLOYMENTS_ALIAS
from airflow_dashscope.operators import DashScopeDeployModelOperator
from airflow_dashscope.triggers import DashScopeDeploymentTrigger
from tests.operators.conftest import HYPER
from tests.operators.helpers import defer, execute, run_deferred

MODES = pytest.mark.parametrize("deferrable", [True, False], ids=["deferred", "worker"])


def deploy(model_name: str, **options: Any) -> DashScopeDeployModelOperator:
    options.setdefault("deferrable", True)
    options.setdefault("poll_interval", 0.01)
    options.setdefault("task_id", "deploy")
    return DashScopeDeployModelOperator(model_name=model_name, **options)


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
    assert result["status"] == "RUNNING" and result["reused"] is False
    assert result["deployed_model"].startswith(model)
    assert context["ti"].xcom("deployed_model") == result["deployed_model"]
    assert emu.counters()["deployments_created"] == 1
    (event,) = context["outlet_events"][DEPLOYMENTS_ALIAS].asset_alias_events
    assert event.dest_asset_key.uri.endswith(f"/deployments/{result['deployed_model']}")
    assert event.extra["kind"] == "deployed"


def test_a_second_deployment_of_a_model_gets_its_own_suffix(
    succeeded_job: FineTuneJob, make_context: Any, emu: RunningEmulator, clock_running: None
) -> None:
    model = str(succeeded_job.finetuned_output)
    first = run_deferred(deploy(model), make_context(task_id="a"))
    second = run_deferred(deploy(model, task_id="b"), make_context(task_id="b"))
    assert first["deployed_model"] != second["deployed_model"]
    for result in (first, second):
        suffix = result["deployed_model"][len(model) + 1 :]
        assert 0 < len(suffix) <= 8
    assert emu.counters()["deployments_created"] == 2


def test_a_cleared_run_reuses_its_running_deployment_quietly(
    succeeded_job: FineTuneJob, make_context: Any, emu: RunningEmulator, clock_running: None
) -> None:
    model = str(succeeded_job.finetuned_output)
    first = run_deferred(deploy(model), make_context())
    cleared = make_context(clears=1)
    again = execute(deploy(model), cleared)  # RUNNING already: no deferral
    assert again["deployed_model"] == first["deployed_model"] and again["reused"] is True
    assert cleared["outlet_events"][DEPLOYMENTS_ALIAS].asset_alias_events == []
    assert emu.counters()["deployments_created"] == 1


def test_templated_numbers_and_public_enums_are_accepted(
    succeeded_job: FineTuneJob, make_context: Any, client: DashScopeClient
) -> None:
    op = deploy(str(succeeded_job.finetuned_output), plan=DeploymentPlan.LORA, capacity="2")
    context = make_context()
    defer(op, context)
    deployment = client.get_deployment(context["ti"].xcom("deployed_model"))
    assert deployment.capacity == 2


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

    def ours_after_a_race(deployments: Any, suffix: str) -> Any:
        # Another try deploys it between our listing and our create.
        client.create_deployment(model, suffix=suffix)
        return None

    op.ours = ours_after_a_race  # type: ignore[method-assign]
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
    with pytest.raises(InvalidRequestError, match=problem) as failed:
        execute(deploy("qwen3-8b-ft-x", **options), make_context())
    assert isinstance(failed.value, AirflowFailException)
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
    from airflow_dashscope.links.console import DashScopeDeploymentLink

    links = DashScopeDeployModelOperator.operator_extra_links
    assert any(isinstance(link, DashScopeDeploymentLink) for link in links)


def test_one_listing_per_create(
    succeeded_job: FineTuneJob, make_context: Any, emu: RunningEmulator
) -> None:
    before = emu.counters()["requests"]
    defer(deploy(str(succeeded_job.finetuned_output)), make_context())
    after = emu.counters()["requests"]
    sent = {route: after[route] - before.get(route, 0) for route in after}
    sent = {route: n for route, n in sent.items() if n}
    assert sent == {"GET /api/v1/deployments": 1, "POST /api/v1/deployments": 1}, sent


@pytest.mark.parametrize("status", ["STOPPED", "FAILED"])
def test_a_deployment_that_stops_or_fails_fails_the_task(
    status: str, succeeded_job: FineTuneJob, make_context: Any, emu: RunningEmulator
) -> None:
    from tests.operators.conftest import first_event

    context = make_context()
    op = deploy(str(succeeded_job.finetuned_output))
    trigger = defer(op, context)
    emu.set_deployment_status(context["ti"].xcom("deployed_model"), status)
    with pytest.raises(AirflowException, match=status):
        op.execute_complete(context, first_event(trigger))


# --- which deployment belongs to the task: retry, clear, changed inputs ----------------------


def test_another_model_gets_its_own_deployment(
    succeeded_job: FineTuneJob,
    client: DashScopeClient,
    emu: RunningEmulator,
    file_id: str,
    make_context: Any,
    clock_running: None,
) -> None:
    """Changed inputs: the cleared run deploys the new model instead of reusing the old."""
    first = run_deferred(deploy(str(succeeded_job.finetuned_output)), make_context())
    retrained = client.create_fine_tune("qwen3-8b", [file_id], hyper_parameters=HYPER)
    emu.advance(3600)
    model = str(client.get_fine_tune(retrained.job_id).finetuned_output)
    cleared = make_context(clears=1)
    again = run_deferred(deploy(model), cleared)
    assert again["deployed_model"] != first["deployed_model"] and again["reused"] is False
    assert again["model_name"] == model
    assert len(cleared["outlet_events"][DEPLOYMENTS_ALIAS].asset_alias_events) == 1
    assert emu.counters()["deployments_created"] == 2


def test_a_changed_capacity_keeps_the_deployment_as_it_is(
    succeeded_job: FineTuneJob,
    client: DashScopeClient,
    emu: RunningEmulator,
    make_context: Any,
    clock_running: None,
) -> None:
    """Capacity is not part of the deployment's identity: resizing is the scale operator's."""
    model = str(succeeded_job.finetuned_output)
    first = run_deferred(deploy(model), make_context())
    again = execute(deploy(model, capacity=2), make_context(clears=1))
    assert again["deployed_model"] == first["deployed_model"] and again["reused"] is True
    assert client.get_deployment(first["deployed_model"]).capacity == 1
    assert emu.counters()["deployments_created"] == 1


def test_a_retry_after_a_failed_deployment_fails_without_deploying_again(
    succeeded_job: FineTuneJob, make_context: Any, emu: RunningEmulator
) -> None:
    """The task's suffix is taken by the FAILED deployment: a retry reports it, it does not
    pay for a second one."""
    model = str(succeeded_job.finetuned_output)
    context = make_context()
    defer(deploy(model), context)
    emu.set_deployment_status(context["ti"].xcom("deployed_model"), "FAILED")
    retry, again = deploy(model, deferrable=False), make_context()
    with pytest.raises(AirflowException, match="FAILED"):
        execute(retry, again)
    assert again["ti"].xcom("deployed_model") == context["ti"].xcom("deployed_model")
    assert emu.counters()["deployments_created"] == 1


def test_the_log_says_whether_the_deployment_is_reused_or_waited_on(
    succeeded_job: FineTuneJob, make_context: Any, task_log: pytest.LogCaptureFixture
) -> None:
    model = str(succeeded_job.finetuned_output)
    context = make_context()
    defer(deploy(model), context)
    defer(deploy(model), make_context())
    deployed = context["ti"].xcom("deployed_model")
    assert f"Waiting on deployment {deployed} of this task (PENDING)." in task_log.text
