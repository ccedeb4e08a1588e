"""Deploy a model and wait until it serves; scaling waits the same way."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow_dashscope.client.errors import ConflictError
from airflow_dashscope.links import DashScopeDeploymentLink
from airflow_dashscope.operators.base import DashScopeWaitingOperator
from airflow_dashscope.parameters import validate_deployment_parameters
from airflow_dashscope.waiting import WaitEvent, classify_deployment

if TYPE_CHECKING:  # the models and triggers load when a task runs, not at DAG parse
    from airflow.sdk import Context

    from airflow_dashscope.client.models import Deployment
    from airflow_dashscope.triggers import DashScopeDeploymentTrigger


class DashScopeDeploymentWaitOperator(DashScopeWaitingOperator):
    """Base of the operators that end when a deployment is RUNNING (again)."""

    resource = "deployment"
    noun = "deployment"

    def trigger_for(
        self, resource_id: str, *, end_time: float | None, log_offset: int
    ) -> DashScopeDeploymentTrigger:
        from airflow_dashscope.triggers import DashScopeDeploymentTrigger

        return DashScopeDeploymentTrigger(
            resource_id,
            dashscope_conn_id=self.dashscope_conn_id,
            poll_interval=self.poll_interval,
            end_time=end_time,
            max_consecutive_errors=self.max_consecutive_errors,
        )

    def settle(self, context: Context, deployment: Deployment) -> dict[str, Any]:
        """Push the id, then return at once, finish (already RUNNING) or wait."""
        context["ti"].xcom_push(key="deployed_model", value=deployment.deployed_model)
        if not self.wait_for_completion:
            return deployment.to_dict()
        if classify_deployment(deployment) == "success":
            event = WaitEvent(
                status="success",
                resource="deployment",
                id=deployment.deployed_model,
                result=deployment.to_dict(),
            )
            return self.finish(context, event)
        return self.wait(context, deployment.deployed_model)


class DashScopeDeployModelOperator(DashScopeDeploymentWaitOperator):
    """Deploy ``model_name`` (a job's ``finetuned_output`` or an exported checkpoint) and
    wait until it is RUNNING; returns the deployment, whose ``deployed_model`` is the id
    to invoke. ``deployed_model`` is also pushed to XCom as soon as it is known.

    A model that already has a live deployment under this name (an earlier try, or a
    409 Conflict on create) is reused rather than deployed twice.

    :param model_name: the model to deploy.
    :param plan: ``lora`` (default), ``mu`` (needs ``deploy_spec``) or ``ptu``.
    :param capacity: instances (>= 1).
    :param name: deployment name (the service defaults it to the model name).
    :param suffix: appended to the ``deployed_model`` id.
    :param deploy_spec: the mu plan's spec, e.g. ``MU1``.
    """

    template_fields: Sequence[str] = (
        "model_name",
        "plan",
        "capacity",
        "name",
        "suffix",
        "deploy_spec",
        "enable_thinking",
        "max_context_length",
        "rpm_limit",
        "tpm_limit",
        "dashscope_conn_id",
    )
    operator_extra_links = (DashScopeDeploymentLink(),)
    emits_model_asset = True

    def __init__(
        self,
        *,
        model_name: str,
        plan: str = "lora",
        capacity: int = 1,
        name: str | None = None,
        suffix: str | None = None,
        deploy_spec: str | None = None,
        enable_thinking: bool | None = None,
        max_context_length: int | None = None,
        rpm_limit: int | None = None,
        tpm_limit: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.model_name = model_name
        self.plan = plan
        self.capacity = capacity
        self.name = name
        self.suffix = suffix
        self.deploy_spec = deploy_spec
        self.enable_thinking = enable_thinking
        self.max_context_length = max_context_length
        self.rpm_limit = rpm_limit
        self.tpm_limit = tpm_limit

    def execute(self, context: Context) -> dict[str, Any]:
        validate_deployment_parameters(
            self.model_name,
            self.plan,
            self.capacity,
            self.deploy_spec,
            rpm_limit=self.rpm_limit,
            tpm_limit=self.tpm_limit,
            max_context_length=self.max_context_length,
            enable_thinking=self.enable_thinking,
        )
        return self.settle(context, self.find_or_create())

    def find_or_create(self) -> Deployment:
        """The live deployment of this model under this name, else a new one."""
        existing = self.find()
        if existing is not None:
            self.log.info(
                "Reusing deployment %s (%s).", existing.deployed_model, existing.status_name
            )
            return existing
        try:
            deployment = self.client.create_deployment(
                self.model_name,
                plan=self.plan,
                capacity=self.capacity,
                name=self.name,
                suffix=self.suffix,
                deploy_spec=self.deploy_spec,
                enable_thinking=self.enable_thinking,
                max_context_length=self.max_context_length,
                rpm_limit=self.rpm_limit,
                tpm_limit=self.tpm_limit,
            )
        except ConflictError:
            existing = self.find()
            if existing is None:
                raise
            self.log.info(
                "Conflict: %s is already deployed as %s; reusing it.",
                self.model_name,
                existing.deployed_model,
            )
            return existing
        self.log.info("Deploying %s as %s.", self.model_name, deployment.deployed_model)
        return deployment

    def find(self) -> Deployment | None:
        return self.client.find_deployment(self.model_name, name=self.name, suffix=self.suffix)

    def on_success(self, context: Context, result: dict[str, Any]) -> dict[str, Any]:
        self.emit_model(
            context,
            result.get("model_name") or self.model_name,
            deployed_model=result.get("deployed_model"),
            plan=result.get("plan"),
        )
        return result
