"""Deployment endpoints (``/deployments``): payloads under ``output``.

The service refuses a second deployment of a model under the same name (409 Conflict), so a
create retried after an ambiguous failure cannot make two: its Conflict means the first
attempt went through, and the flow returns that deployment.
"""

from __future__ import annotations

from typing import Any

from airflow_dashscope.client.endpoints.fine_tunes import is_ambiguous
from airflow_dashscope.client.endpoints.paging import every_page
from airflow_dashscope.client.errors import ConflictError, DashScopeError
from airflow_dashscope.client.models import Deployment, DeploymentPage
from airflow_dashscope.client.request import ApiRequest, Flow, output_of, segment, single

DEPLOYMENTS_MAX_PAGE_SIZE = 200


def _parse_deployment(body: Any) -> Deployment:
    return Deployment.model_validate(output_of(body))


def create_deployment(
    model_name: str,
    *,
    plan: str = "lora",
    capacity: int = 1,
    name: str | None = None,
    suffix: str | None = None,
    deploy_spec: str | None = None,
    enable_thinking: bool | None = None,
    max_context_length: int | None = None,
    rpm_limit: int | None = None,
    tpm_limit: int | None = None,
    max_attempts: int = 3,
) -> Flow[Deployment]:
    """Deploy a model; an ambiguous first attempt is resolved through the service's Conflict."""
    body: dict[str, Any] = {"model_name": model_name, "plan": str(plan), "capacity": capacity}
    optional = {
        "name": name,
        "suffix": suffix,
        "deploy_spec": deploy_spec,
        "enable_thinking": enable_thinking,
        "max_context_length": max_context_length,
        "rpm_limit": rpm_limit,
        "tpm_limit": tpm_limit,
    }
    body.update({key: value for key, value in optional.items() if value is not None})
    request = ApiRequest("POST", "/deployments", json=body, idempotent=False)
    ambiguous_before = False
    for attempt in range(1, max_attempts + 1):
        try:
            answer = yield request
        except ConflictError:
            if not ambiguous_before:
                raise
            ours = yield from find_deployment(model_name, name=name, suffix=suffix)
            if ours is None:
                raise
            return ours
        except DashScopeError as error:
            if not is_ambiguous(error) or attempt == max_attempts:
                raise
            ambiguous_before = True
            continue
        return _parse_deployment(answer)
    raise AssertionError("unreachable")  # pragma: no cover


def find_deployment(
    model_name: str, *, name: str | None = None, suffix: str | None = None
) -> Flow[Deployment | None]:
    """The live deployment of ``model_name`` with that name (and suffix), if there is one."""
    deployments = yield from list_deployments()
    for deployment in deployments:
        if deployment.model_name != model_name or deployment.status_name == "DELETING":
            continue
        if name is not None and deployment.name not in (None, name):
            continue
        if suffix is not None and not deployment.deployed_model.endswith(suffix):
            continue
        return deployment
    return None


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
