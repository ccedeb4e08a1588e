"""Deploy a model and wait until it serves; scaling waits the same way."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow_dashscope.checks.parameters import (
    JobParameterError,
    as_bool,
    as_number,
    validate_deployment_parameters,
)
from airflow_dashscope.client.errors import ConflictError, DashScopeError
from airflow_dashscope.exceptions import InvalidRequestError, task_error_for
from airflow_dashscope.lineage.openlineage import DeployLineage
from airflow_dashscope.links.console import DashScopeDeploymentLink
from airflow_dashscope.operators.base import DashScopeWaitingOperator
from airflow_dashscope.operators.fine_tune_request import enum_value

if TYPE_CHECKING:  # the models and triggers load when a task runs, not at DAG parse
    from airflow.sdk import Context

    from airflow_dashscope.client.models import Deployment
    from airflow_dashscope.triggers import DashScopeDeploymentTrigger

#: Keys of a deployment task's return value.
RESULT_KEYS = ("deployed_model", "model_name", "name", "status", "plan", "capacity")


def deployment_summary(deployment: dict[str, Any], *, reused: bool) -> dict[str, Any]:
    return {
        **{key: deployment[key] for key in RESULT_KEYS if deployment.get(key) is not None},
        "reused": reused,
    }


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

    def settle(
        self, context: Context, deployment: Deployment, *, reused: bool = False
    ) -> dict[str, Any]:
        """Push the id, then return at once, finish (already settled) or wait."""
        from airflow_dashscope.waiting import WaitEvent, classify_deployment

        self.push(context, deployed_model=deployment.deployed_model)
        if not self.wait_for_completion:
            return deployment_summary(deployment.to_dict(), reused=reused)
        outcome = classify_deployment(deployment)
        if outcome != "pending":
            event = WaitEvent(
                status=outcome,
                resource="deployment",
                id=deployment.deployed_model,
                message=f"DashScope deployment {deployment.deployed_model} is "
                f"{deployment.status_name}",
                result=deployment.to_dict(),
            )
            return self.finish(context, event, reused=reused)
        return self.wait(context, deployment.deployed_model, resumed={"reused": reused})

    def on_success(
        self, context: Context, result: dict[str, Any], **resumed: Any
    ) -> dict[str, Any]:
        return deployment_summary(result, reused=bool(resumed.get("reused")))


class DashScopeDeployModelOperator(DeployLineage, DashScopeDeploymentWaitOperator):
    """Deploy ``model_name`` (a job's ``finetuned_output`` or an exported checkpoint's
    ``model_name``) and wait until it is RUNNING.

    Returns ``{"deployed_model", "model_name", "status", "plan", "capacity", "reused"}``;
    ``deployed_model`` (the id to invoke) is also the XCom ``deployed_model``, pushed as soon
    as it is known.

    Which deployment belongs to the task is decided in ``operators/identity.py`` (its table):
    without a ``suffix``, one is derived from the task instance and the model (8 hex digits),
    as a model may be deployed by several tasks and every deployment after the first needs
    its own. The same task deploying the same model finds its deployment again: a retry
    waits on it, a cleared run reuses it (``"reused": True``, no new asset event).

    :param model_name: the model to deploy.
    :param plan: ``lora`` (default), ``mu`` (needs ``deploy_spec``) or ``ptu``.
    :param capacity: instances (>= 1; numeric text from a template is accepted).
    :param name: deployment name (the service defaults it to the model name).
    :param suffix: appended to the ``deployed_model`` id (at most 8 characters, unique).
    :param deploy_spec: the mu plan's spec, e.g. ``MU1``.
    :param keep_superseded: keep this task instance's deployments of other models (a clear
        whose model changed) once this one is RUNNING; by default they are removed then, as
        nothing deploys or removes them any more and they bill by the hour. Only derived
        suffixes name a task instance: with a ``suffix`` of yours nothing is removed.
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
    asset_kind = "deployed"

    def __init__(
        self,
        *,
        model_name: str,
        plan: Any = "lora",
        capacity: Any = 1,
        name: str | None = None,
        suffix: str | None = None,
        deploy_spec: str | None = None,
        enable_thinking: Any = None,
        max_context_length: Any = None,
        rpm_limit: Any = None,
        tpm_limit: Any = None,
        keep_superseded: bool = False,
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
        self.keep_superseded = keep_superseded

    def execute(self, context: Context) -> dict[str, Any]:
        from airflow_dashscope.operators.identity import deployment_suffix, match_deployment

        self.check_request()
        suffix = deployment_suffix(context, self.model_name, self.suffix)
        deployments = self.calling("listing the deployments", self.client.list_deployments)
        match = match_deployment(self.ours(deployments, suffix))
        if match.action == "create":
            return self.settle(context, self.create(suffix, deployments))
        self.log.info("%s", match.why)
        return self.settle(context, match.found, reused=match.reused)

    def check_request(self) -> None:
        """Template text as numbers and booleans, then the checks: nothing sent yet."""
        from airflow_dashscope.operators.identity import MAX_SUFFIX

        self.plan = enum_value(self.plan)
        self.capacity = as_number(self.capacity)
        self.max_context_length = as_number(self.max_context_length)
        self.rpm_limit = as_number(self.rpm_limit)
        self.tpm_limit = as_number(self.tpm_limit)
        self.enable_thinking = as_bool(self.enable_thinking)
        if self.suffix is not None and not (0 < len(str(self.suffix)) <= MAX_SUFFIX):
            raise InvalidRequestError(
                f"suffix must be 1 to {MAX_SUFFIX} characters, got {self.suffix!r}"
            )
        try:
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
        except JobParameterError as error:
            raise InvalidRequestError(f"Invalid deployment request: {error}") from error

    def create(self, suffix: str, deployments: list[Deployment]) -> Deployment:
        """Deploy; the listing just made is the client's reconciliation baseline, so one
        create costs one listing."""
        try:
            deployment = self.client.create_deployment(
                self.model_name,
                plan=self.plan,
                capacity=self.capacity,
                name=self.name,
                suffix=suffix,
                deploy_spec=self.deploy_spec,
                enable_thinking=self.enable_thinking,
                max_context_length=self.max_context_length,
                rpm_limit=self.rpm_limit,
                tpm_limit=self.tpm_limit,
                known_deployments=deployments,
            )
        except ConflictError as error:
            existing = self.find(suffix)
            if existing is None:
                raise task_error_for(error, f"deploying {self.model_name}") from error
            self.log.info(
                "Conflict: %s is already deployed as %s; waiting on it.",
                self.model_name,
                existing.deployed_model,
            )
            return existing
        except DashScopeError as error:
            raise task_error_for(error, f"deploying {self.model_name}") from error
        self.log.info("Deploying %s as %s.", self.model_name, deployment.deployed_model)
        return deployment

    def ours(self, deployments: list[Deployment], suffix: str) -> Deployment | None:
        """This task's live deployment of the model, from a listing."""
        from airflow_dashscope.operators.identity import task_deployment

        return task_deployment(deployments, self.model_name, suffix=suffix, name=self.name)

    def find(self, suffix: str) -> Deployment | None:
        """The task's deployment after a conflict: listed again, recognised by the same rule."""
        from airflow_dashscope.operators.identity import task_deployment

        deployments = self.calling("listing the deployments", self.client.list_deployments)
        return task_deployment(deployments, self.model_name, suffix=suffix, name=self.name)

    def on_success(
        self, context: Context, result: dict[str, Any], **resumed: Any
    ) -> dict[str, Any]:
        done = deployment_summary(result, reused=bool(resumed.get("reused")))
        if not self.keep_superseded and self.suffix is None:
            self.remove_superseded(context)
        if not done["reused"]:
            self.emit_model(
                context,
                done["deployed_model"],
                deployed_model=done["deployed_model"],
                model_name=done.get("model_name") or self.model_name,
                plan=done.get("plan"),
            )
        return done

    def remove_superseded(self, context: Context) -> None:
        """Remove the task instance's deployments of other models, now that this one serves
        (best effort: a failure is logged, and the task keeps its RUNNING deployment)."""
        from airflow_dashscope.operators.identity import (
            superseded_deployments,
            task_instance_digest,
        )

        deployments = self.calling("listing the deployments", self.client.list_deployments)
        instance = task_instance_digest(context)
        for old in superseded_deployments(
            deployments, instance=instance, model_name=self.model_name
        ):
            self.log.warning(
                "Removing deployment %s (model %s) of this task: %s replaces it "
                "(keep_superseded=True keeps it).",
                old.deployed_model,
                old.model_name,
                self.model_name,
            )
            try:
                self.client.delete_deployment(old.deployed_model)
            except DashScopeError as error:
                self.log.error("Could not remove deployment %s: %s", old.deployed_model, error)
