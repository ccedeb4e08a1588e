from __future__ import annotations

from pathlib import Path

import pytest

from airflow_dashscope.client import (
    ConflictError,
    InvalidParameterError,
    NotFoundError,
    SuffixRequiredError,
)
from airflow_dashscope.client.endpoints.deployments import deployment_body
from airflow_dashscope.client.models import DeploymentPlan
from airflow_dashscope.emulator.runner import RunningEmulator

from .conftest import HYPER, Call


@pytest.fixture
def model(api: Call, dashscope_emulator: RunningEmulator, training_file: Path) -> str:
    file_id = api("upload_file", training_file)
    job = api("create_fine_tune", "qwen3-8b", [file_id], hyper_parameters=HYPER)
    dashscope_emulator.advance(3600)
    return str(api("get_fine_tune", job.job_id).finetuned_output)


def test_deploy_get_list_scale_update_delete(
    api: Call, dashscope_emulator: RunningEmulator, model: str
) -> None:
    deployment = api("create_deployment", model, plan="lora", capacity=1, name="ft")
    assert deployment.status_name == "PENDING" and deployment.model_name == model
    dashscope_emulator.advance(600)
    deployed = deployment.deployed_model
    assert api("get_deployment", deployed).status_name == "RUNNING"
    assert [d.deployed_model for d in api("list_deployments")] == [deployed]
    assert api("list_deployments_page", page_size=1).total == 1
    assert api("find_deployment", model, name="ft").deployed_model == deployed
    assert api("scale_deployment", deployed, 2).capacity == 2
    dashscope_emulator.advance(600)
    assert api("update_deployment", deployed, rpm_limit=100, tpm_limit=1000).rpm_limit == 100
    dashscope_emulator.advance(600)
    assert api("delete_deployment", deployed).status_name == "DELETING"


def test_mu_plan_deployment(api: Call, dashscope_emulator: RunningEmulator) -> None:
    deployment = api(
        "create_deployment",
        "qwen-plus-2025-12-01",
        plan="mu",
        deploy_spec="MU1",
        capacity=4,
        name="my_qwen_plus",
        enable_thinking=True,
        max_context_length=10000,
        rpm_limit=500,
        tpm_limit=1000,
    )
    # model-deployment-api.md: the answer carries the spec as ``model_unit_spec``.
    assert deployment.plan == "mu" and deployment.unit_spec == "MU1"


def test_duplicate_name_conflicts_and_bad_capacity(api: Call, model: str) -> None:
    api("create_deployment", model, name="same")
    with pytest.raises(ConflictError, match="suffix"):
        api("create_deployment", model, name="same")
    # model-deployment-api.md: capacity must be >= 0 and below 1000.
    with pytest.raises(InvalidParameterError, match="capacity"):
        api("create_deployment", model, name="other", suffix="big", capacity=1000)


def test_unknown_model_is_not_found(api: Call) -> None:
    with pytest.raises(NotFoundError):
        api("create_deployment", "no-such-model")
    with pytest.raises(NotFoundError):
        api("get_deployment", "no-such-deployment")


def test_a_second_deployment_of_a_model_needs_a_suffix(
    api: Call, dashscope_emulator: RunningEmulator, model: str
) -> None:
    """model-deployment-api.md: the first deployment may omit ``suffix``; a second one of the
    same model without one is 409 "please specify a suffix"."""
    first = api("create_deployment", model)
    with pytest.raises(SuffixRequiredError, match="suffix=") as caught:
        api("create_deployment", model)
    assert isinstance(caught.value, ConflictError) and caught.value.status_code == 409
    second = api("create_deployment", model, suffix="b")
    assert second.deployed_model != first.deployed_model
    assert dashscope_emulator.counters()["deployments_created"] == 2


def test_a_suffix_longer_than_eight_characters_fails_before_sending(
    api: Call, dashscope_emulator: RunningEmulator
) -> None:
    with pytest.raises(ValueError, match="1 to 8 characters"):
        api("create_deployment", "qwen3-8b-ft", suffix="ninechars")
    assert not dashscope_emulator.counters()["requests"]


def test_deployable_models_are_listed(api: Call, model: str) -> None:
    """model-deployment-api.md: ``GET /deployments/models`` (page_size up to 200)."""
    models = api("list_deployable_models")
    assert model in {m.model_name for m in models}
    page = api("list_deployable_models_page", page_size=1)
    assert page.total == len(models) and len(page.models) == 1


@pytest.mark.parametrize("plan", list(DeploymentPlan))
def test_every_plan_enum_goes_by_value(plan: DeploymentPlan) -> None:
    """issue 8: ``DeploymentPlan.LORA`` used to be sent as "DeploymentPlan.LORA"."""
    body = deployment_body("m", plan=plan, capacity=None, suffix=None, name="n")
    expected = {"model_name": "m", "plan": plan.value, "capacity": 1, "name": "n"}
    if plan is DeploymentPlan.PTU:  # sized by ptu_capacity, not capacity
        del expected["capacity"]
    assert body == expected


def test_a_ptu_deployment_is_sized_by_ptu_capacity() -> None:
    """model-deployment-api.md, the PTU create example."""
    body = deployment_body(
        "qwen-flash-2025-07-28",
        plan=DeploymentPlan.PTU,
        capacity=None,
        name="my_qwen_flash",
        ptu_capacity={"input_tpm": 10000, "output_tpm": 1000},
    )
    assert body == {
        "model_name": "qwen-flash-2025-07-28",
        "plan": "ptu",
        "name": "my_qwen_flash",
        "ptu_capacity": {"input_tpm": 10000, "output_tpm": 1000},
    }


@pytest.mark.parametrize("plan", [DeploymentPlan.LORA, DeploymentPlan.MU])
def test_plan_enums_reach_the_service_by_value(api: Call, model: str, plan: DeploymentPlan) -> None:
    target, extra = (
        (model, {})
        if plan is DeploymentPlan.LORA
        else (
            "qwen-plus-2025-12-01",
            {"deploy_spec": "MU1"},
        )
    )
    deployment = api("create_deployment", target, plan=plan, **extra)
    assert deployment.plan_name == plan.value
