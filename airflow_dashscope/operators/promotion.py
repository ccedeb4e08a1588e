"""Promote a model into a serving slot: deploy it beside the current holder, smoke-test it,
then switch (retire the old one) or roll back (remove the new one).

Every step starts from what the service lists (``operators/promotion_slot.py`` says how a
slot is recorded), so a retry or a clear after a crash at any step converges:

================================= ==============================================================
crashed after                     the next try
================================= ==============================================================
the deploy request                finds the new deployment by its suffix and waits on it
the deployment became RUNNING     smoke-tests it (the old one still holds the slot), switches
the smoke test failed             the new one is already removed; the task failed without retry
the old one was retired           finds the new one holding the slot alone: smoke-tests it and
                                  returns, quietly (its asset event is not recorded again)
================================= ==============================================================
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from airflow_dashscope.client.errors import DashScopeError, is_gone
from airflow_dashscope.exceptions import (
    DashScopeTaskError,
    DashScopeWaitError,
    InvalidRequestError,
    task_error_for,
)
from airflow_dashscope.operators.deployments import DashScopeDeployModelOperator

try:  # Airflow >= 3.2 moved it to the Task SDK
    from airflow.sdk.exceptions import AirflowSkipException
except ImportError:  # pragma: no cover - Airflow 3.1
    from airflow.exceptions import AirflowSkipException  # type: ignore[no-redef]

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_dashscope.client.models import Deployment
    from airflow_dashscope.operators.promotion_smoke import Expect, SmokeResult
    from airflow_dashscope.waiting import WaitEvent

#: Arguments of the deploy operator that the slot decides.
DECIDED_BY_THE_SLOT = ("name", "suffix", "keep_superseded", "wait_for_completion")


def check_expect(expect: Any) -> Expect:
    """``expect`` as given, or an error saying what it may be (checked at DAG parse)."""
    if expect is None or isinstance(expect, (str, re.Pattern)) or callable(expect):
        return expect
    raise InvalidRequestError(
        "expect must be a substring, a compiled regular expression (re.compile(...)) or a "
        f"callable (answer) -> bool, got {expect!r}"
    )


class DashScopePromoteModelOperator(DashScopeDeployModelOperator):
    """Make ``model_name`` the deployment serving ``slot``, with a smoke test and rollback.

    1. an ``evaluation`` whose gate did not pass skips the task (the slot is unchanged);
    2. the model is deployed beside the slot's holder (waiting as the deploy operator does:
       deferrable, reattached on retry), once per task instance and model;
    3. each ``smoke_test`` prompt is sent to it with deterministic decoding and its answer
       checked against ``expect``;
    4. passed: every other deployment of the slot is deleted (billing stops) and the new one
       is announced on the ``dashscope-deployments`` asset alias, with the slot and the
       evaluation's figures in ``extra``; failed (a wrong answer, or a call that errors): the
       new one is deleted, the old one keeps serving, and the task fails quoting the answer.

    A model that already holds the slot is not deployed again (``"promoted": False``).

    Returns ``{"slot", "deployed_model", "model_name", "previous", "retired", "smoke_test":
    {"passed", "answers"}, "promoted"}``: ``previous`` is the ``deployed_model`` that served
    the slot before (None: the slot was empty), ``retired`` the ids deleted.

    :param model_name: the model to promote (a job's output or an exported checkpoint).
    :param slot: the serving role, e.g. ``"production"`` (also the deployment's display name).
    :param smoke_test: one prompt (a string or a list of chat messages) or a list of them.
    :param expect: what each answer must hold: a substring, a compiled regular expression or
        a callable ``(answer) -> bool``; None: any non-empty answer.
    :param evaluation: the evaluation that justified the promotion (``evaluate.output``).
    :param smoke_parameters: generation parameters over the deterministic defaults.

    The other parameters are the deploy operator's (``plan``, ``capacity``, ``deferrable``,
    ``poll_interval``, ``timeout``...), except ``name``, ``suffix`` and ``keep_superseded``,
    which the slot decides.
    """

    template_fields: Sequence[str] = (
        *DashScopeDeployModelOperator.template_fields,
        "slot",
        "smoke_test",
        "evaluation",
    )
    template_fields_renderers = {"smoke_test": "json", "evaluation": "json"}

    def __init__(
        self,
        *,
        model_name: str,
        slot: str,
        smoke_test: Any,
        expect: Any = None,
        evaluation: Any = None,
        smoke_parameters: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        decided = sorted(set(DECIDED_BY_THE_SLOT) & set(kwargs))
        if decided:
            raise TypeError(
                f"DashScopePromoteModelOperator decides {', '.join(decided)} from the slot; "
                "remove the argument."
            )
        super().__init__(model_name=model_name, name=slot, **kwargs)
        self.slot = slot
        self.smoke_test = smoke_test
        self.expect = check_expect(expect)
        self.evaluation = evaluation
        self.smoke_parameters = dict(smoke_parameters or {})

    # --- before anything is deployed ----------------------------------------------------------

    def execute(self, context: Context) -> dict[str, Any]:
        from airflow_dashscope.operators.identity import task_instance_digest
        from airflow_dashscope.operators.promotion_slot import slot_holder, slot_suffix
        from airflow_dashscope.operators.promotion_smoke import gate_failure

        why = gate_failure(self.evaluation)
        if why is not None:
            raise AirflowSkipException(
                f"Not promoting {self.model_name} into slot {self.slot!r}: the evaluation's "
                f"gate did not pass ({why}). The slot is unchanged."
            )
        slot = self.prepare(context)
        self.check_request()
        suffix = slot_suffix(slot, task_instance_digest(context), self.model_name)
        deployments = self.calling("listing the deployments", self.client.list_deployments)
        holder = slot_holder(deployments, slot)
        ours = self.ours(deployments, suffix)
        if ours is None and holder is not None and holder.model_name == self.model_name:
            return self.already_serving(context, holder)
        if ours is None:
            self.log.info(
                "Slot %r is served by %s; deploying %s beside it.",
                self.slot,
                holder.deployed_model if holder else "nothing (empty)",
                self.model_name,
            )
            return self.settle(context, self.create(suffix, deployments))
        held = holder is not None and holder.deployed_model == ours.deployed_model
        self.log.info(
            "Found deployment %s of this task (%s%s).",
            ours.deployed_model,
            ours.status_name,
            ", already holding the slot" if held else "",
        )
        return self.settle(context, ours, reused=held)

    def prepare(self, context: Context) -> str:
        """Check the slot and the smoke test (on both sides of a deferral); nothing is sent.
        Returns the slot's key: its name within this DAG."""
        from airflow_dashscope.operators.promotion_slot import check_slot, slot_key
        from airflow_dashscope.operators.promotion_smoke import smoke_prompts

        slot = check_slot(self.slot)
        self.name = slot
        smoke_prompts(self.smoke_test)
        return slot_key(context["ti"].dag_id, slot)

    def ours(self, deployments: list[Deployment], suffix: str) -> Deployment | None:
        """This task's live deployment of the model, by its suffix alone (a listing may carry
        no display name, see ``promotion_slot``)."""
        from airflow_dashscope.operators.identity import task_deployment

        return task_deployment(deployments, self.model_name, suffix=suffix, name=None)

    def find(self, suffix: str) -> Deployment | None:
        """After a create conflict: the task's deployment, or a retryable error while a
        removed one of the same id is still being deleted."""
        deployments = self.calling("listing the deployments", self.client.list_deployments)
        found = self.ours(deployments, suffix)
        if found is None and any(
            d.deployed_model.endswith(f"-{suffix}") and d.status_name == "DELETING"
            for d in deployments
        ):
            raise DashScopeTaskError(
                f"An earlier deployment of {self.model_name} for slot {self.slot!r} (suffix "
                f"{suffix}) is still being deleted; the next try deploys it again."
            )
        return found

    def already_serving(self, context: Context, holder: Deployment) -> dict[str, Any]:
        """The model holds the slot already: nothing to deploy; it is smoke-tested all the
        same, and a failure says that nothing changed."""
        self.log.info(
            "%s already serves slot %r as %s: nothing to deploy.",
            self.model_name,
            self.slot,
            holder.deployed_model,
        )
        self.push(context, deployed_model=holder.deployed_model)
        smoke = self.smoke(holder.deployed_model)
        if not smoke.passed:
            raise self.smoke_error(smoke, f"{holder.deployed_model} keeps serving (it did before)")
        return self.summary(holder.deployed_model, None, [], smoke, promoted=False)

    # --- once the new deployment is RUNNING -----------------------------------------------------

    def on_success(
        self, context: Context, result: dict[str, Any], **resumed: Any
    ) -> dict[str, Any]:
        from airflow_dashscope.operators.promotion_slot import slot_holder, slot_members
        from airflow_dashscope.operators.promotion_smoke import evaluation_extra

        slot = self.prepare(context)
        ours = str(result["deployed_model"])
        deployments = self.calling("listing the deployments", self.client.list_deployments)
        holder = slot_holder(deployments, slot)
        others = [d for d in slot_members(deployments, slot) if d.deployed_model != ours]
        previous = holder.deployed_model if holder and holder.deployed_model != ours else None
        held_before = bool(resumed.get("reused"))
        smoke = self.smoke(ours)
        if not smoke.passed:
            if held_before:
                raise self.smoke_error(smoke, f"{ours} was promoted by an earlier try and stays")
            self.remove(ours, "rolling back")
            kept = f"{previous} keeps serving" if previous else "the slot stays empty"
            raise self.smoke_error(smoke, f"{ours} was removed; {kept}")
        retired = [self.remove(d.deployed_model, "retiring") for d in others]
        self.log.info(
            "Slot %r is now served by %s (%s)%s.",
            self.slot,
            ours,
            self.model_name,
            f"; retired {', '.join(retired)}" if retired else "",
        )
        done = self.summary(ours, previous, retired, smoke, promoted=True)
        if held_before:
            self.log.info("Promoted by an earlier try: not announced again.")
        else:
            self.emit_model(
                context,
                ours,
                slot=self.slot,
                deployed_model=ours,
                model_name=self.model_name,
                previous=previous,
                plan=result.get("plan"),
                **evaluation_extra(self.evaluation),
            )
        return done

    def failure(self, event: WaitEvent) -> Exception:
        """The new deployment did not become RUNNING: it is removed (nothing half-done), the
        slot keeps its holder, and the task's retries apply."""
        if event.id:
            try:
                self.remove(event.id, "removing the failed deployment")
            except DashScopeTaskError as error:
                self.log.error("%s", error)
        return DashScopeWaitError(
            f"{event.explain()}\nSlot {self.slot!r} is unchanged (the new deployment is removed)."
        )

    # --- the steps ------------------------------------------------------------------------------

    def smoke(self, deployed_model: str) -> SmokeResult:
        from airflow_dashscope.operators.promotion_smoke import run_smoke_test, smoke_prompts

        prompts = smoke_prompts(self.smoke_test)
        self.log.info("Smoke-testing %s with %d prompt(s).", deployed_model, len(prompts))
        smoke = run_smoke_test(
            self.client, deployed_model, prompts, self.expect, self.smoke_parameters
        )
        for number, answer in enumerate(smoke.answers, start=1):
            self.log.info("Smoke test prompt %d answered: %.300s", number, answer)
        return smoke

    def smoke_error(self, smoke: SmokeResult, outcome: str) -> Exception:
        """A failed check is fatal (the same model answers the same again); a call that
        errored is retryable exactly when the client error is."""
        from airflow_dashscope.operators.promotion_smoke import SmokeTestFailedError

        if isinstance(smoke.error, DashScopeError):
            return task_error_for(smoke.error, f"smoke-testing slot {self.slot!r} ({outcome})")
        return SmokeTestFailedError(
            f"Smoke test of slot {self.slot!r} failed: {smoke.failure}. {outcome}."
        )

    def remove(self, deployed_model: str, doing: str) -> str:
        """Delete a deployment (already gone is success); an error stops the task, and the
        next try, listing again, finishes the job."""
        self.log.info("%s %s.", doing.capitalize(), deployed_model)
        try:
            self.client.delete_deployment(deployed_model)
        except DashScopeError as error:
            if not is_gone(error):
                raise task_error_for(error, f"{doing} deployment {deployed_model}") from error
            self.log.info("Deployment %s is already gone.", deployed_model)
        return deployed_model

    def summary(
        self,
        deployed_model: str,
        previous: str | None,
        retired: list[str],
        smoke: SmokeResult,
        *,
        promoted: bool,
    ) -> dict[str, Any]:
        return {
            "slot": self.slot,
            "deployed_model": deployed_model,
            "model_name": self.model_name,
            "previous": previous,
            "retired": retired,
            "smoke_test": smoke.summary(),
            "promoted": promoted,
        }
