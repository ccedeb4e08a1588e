"""Deployment endpoints (``/deployments``): payloads under ``output``.

A deployment is billed, so :func:`create_deployment` never makes two: after an ambiguous
failure (or a Conflict that follows one) it looks for a deployment of the model, with this
name and suffix, that was not there before the create (``endpoints.creates``).

A model's first deployment may omit ``suffix`` and is then named after the model; every
further one needs a ``suffix``, else 409 "please specify a suffix"
(:class:`~airflow_dashscope.client.errors.SuffixRequiredError`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from airflow_dashscope.client.endpoints.creates import create_once
from airflow_dashscope.client.endpoints.paging import every_page
from airflow_dashscope.client.models import (
    DeployableModel,
    DeployableModelPage,
    Deployment,
    DeploymentPage,
    DeploymentPlan,
)
from airflow_dashscope.client.request import (
    ApiRequest,
    Flow,
    output_of,
    segment,
    single,
    wire_value,
)

DEPLOYMENTS_MAX_PAGE_SIZE = 200
#: The deployment page: a suffix is at most 8 characters.
SUFFIX_MAX_LENGTH = 8


def _parse_deployment(body: Any) -> Deployment:
    return Deployment.model_validate(output_of(body))


def deployment_body(
    model_name: str,
    *,
    plan: DeploymentPlan | str | None,
    capacity: int | None,
    **optional: Any,
) -> dict[str, Any]:
    """The create body: the documented fields that are set, enums by value.

    ``capacity`` defaults to 1 (the page: "invalid but required" for ``lora``), except for a
    ``ptu`` plan, whose size is ``ptu_capacity`` (``input_tpm``, ``output_tpm``) instead.
    """
    if not model_name:
        raise ValueError("create_deployment needs a model_name.")
    suffix = optional.get("suffix")
    if suffix is not None and not 1 <= len(suffix) <= SUFFIX_MAX_LENGTH:
        raise ValueError(
            f"A deployment suffix has 1 to {SUFFIX_MAX_LENGTH} characters, got {suffix!r}."
        )
    if capacity is None and wire_value(plan) != DeploymentPlan.PTU.value:
        capacity = 1
    body: dict[str, Any] = {"model_name": model_name, "plan": plan, "capacity": capacity}
    body.update(optional)
    return dict(wire_value({key: value for key, value in body.items() if value is not None}))


def create_deployment(
    model_name: str,
    *,
    plan: DeploymentPlan | str = "lora",
    capacity: int | None = None,
    name: str | None = None,
    suffix: str | None = None,
    deploy_spec: str | None = None,
    ptu_capacity: Mapping[str, int] | None = None,
    enable_thinking: bool | None = None,
    max_context_length: int | None = None,
    rpm_limit: int | None = None,
    tpm_limit: int | None = None,
    known_deployments: Sequence[Deployment] | None = None,
    max_attempts: int | None = None,
) -> Flow[Deployment]:
    """Deploy a model, never twice: an ambiguous attempt is resolved by looking it up.

    The deployments that existed before can never be this create's: they are listed once
    before creating, or given as ``known_deployments`` (the caller's own fresh listing),
    which saves that listing.
    """
    body = deployment_body(
        model_name,
        plan=plan,
        capacity=capacity,
        name=name,
        suffix=suffix,
        deploy_spec=deploy_spec,
        ptu_capacity=dict(ptu_capacity) if ptu_capacity else None,
        enable_thinking=enable_thinking,
        max_context_length=max_context_length,
        rpm_limit=rpm_limit,
        tpm_limit=tpm_limit,
    )
    if known_deployments is None:
        known_deployments = yield from list_deployments()
    older = {deployment.deployed_model for deployment in known_deployments}

    def lookup() -> Flow[Deployment | None]:
        for deployment in (yield from list_deployments()):
            new = deployment.deployed_model not in older
            if new and _is_deployment_of(deployment, model_name, name=name, suffix=suffix):
                return deployment
        return None

    request = ApiRequest("POST", "/deployments", json=body, idempotent=False)
    return (
        yield from create_once(
            lambda: request, _parse_deployment, lookup, max_attempts=max_attempts
        )
    )


def _is_deployment_of(
    deployment: Deployment, model_name: str, *, name: str | None, suffix: str | None
) -> bool:
    """A live deployment of ``model_name`` with that name (and suffix)."""
    if deployment.model_name != model_name or deployment.status_name == "DELETING":
        return False
    if name is not None and deployment.name not in (None, name):
        return False
    return suffix is None or deployment.deployed_model.endswith(suffix)


def find_deployment(
    model_name: str, *, name: str | None = None, suffix: str | None = None
) -> Flow[Deployment | None]:
    """The live deployment of ``model_name`` with that name (and suffix), if there is one."""
    deployments = yield from list_deployments()
    return next(
        (d for d in deployments if _is_deployment_of(d, model_name, name=name, suffix=suffix)),
        None,
    )


def get_deployment(deployed_model: str) -> Flow[Deployment]:
    request = ApiRequest("GET", f"/deployments/{segment(deployed_model)}")
    return single(request, _parse_deployment)


def _page_request(page_no: int, page_size: int) -> ApiRequest:
    return ApiRequest("GET", "/deployments", params={"page_no": page_no, "page_size": page_size})


def _parse_page(body: Any) -> DeploymentPage:
    return DeploymentPage.model_validate(output_of(body) or {})


def list_deployments_page(page_no: int = 1, page_size: int = 50) -> Flow[DeploymentPage]:
    return single(_page_request(page_no, page_size), _parse_page)


def list_deployments(page_size: int = DEPLOYMENTS_MAX_PAGE_SIZE) -> Flow[list[Deployment]]:
    """Every deployment, across all pages."""

    def parse(body: Any) -> tuple[list[Deployment], int]:
        page = _parse_page(body)
        return page.deployments, page.total

    return every_page(lambda page_no: _page_request(page_no, page_size), parse)


def scale_deployment(deployed_model: str, capacity: int) -> Flow[Deployment]:
    request = ApiRequest(
        "PUT", f"/deployments/{segment(deployed_model)}/scale", json={"capacity": capacity}
    )
    return single(request, _parse_deployment)


def update_deployment(
    deployed_model: str, *, rpm_limit: int | None = None, tpm_limit: int | None = None
) -> Flow[Deployment]:
    body = {k: v for k, v in {"rpm_limit": rpm_limit, "tpm_limit": tpm_limit}.items() if v}
    request = ApiRequest("PUT", f"/deployments/{segment(deployed_model)}/update", json=body)
    return single(request, _parse_deployment)


def delete_deployment(deployed_model: str) -> Flow[Deployment]:
    request = ApiRequest("DELETE", f"/deployments/{segment(deployed_model)}")
    return single(request, _parse_deployment)


def _models_request(page_no: int, page_size: int) -> ApiRequest:
    params = {"page_no": page_no, "page_size": page_size}
    return ApiRequest("GET", "/deployments/models", params=params)


def _parse_models_page(body: Any) -> DeployableModelPage:
    return DeployableModelPage.model_validate(output_of(body) or {})


def list_deployable_models_page(page_no: int = 1, page_size: int = 50) -> Flow[DeployableModelPage]:
    return single(_models_request(page_no, page_size), _parse_models_page)


def list_deployable_models(
    page_size: int = DEPLOYMENTS_MAX_PAGE_SIZE,
) -> Flow[list[DeployableModel]]:
    """Every model this account may deploy (``GET /deployments/models``), across all pages."""

    def parse(body: Any) -> tuple[list[DeployableModel], int]:
        page = _parse_models_page(body)
        return page.models, page.total

    return every_page(lambda page_no: _models_request(page_no, page_size), parse)
