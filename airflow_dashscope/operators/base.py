"""What every DashScope operator shares: the hook, and waiting for a remote resource.

Waiting happens in one of two places with the same outcome: in the triggerer
(``deferrable=True``: the operator defers to the resource's trigger and resumes in
``execute_complete``) or on the worker (``deferrable=False``: :meth:`wait_on_worker` drives
that same trigger's wait flow with the hook's blocking client, no event loop). Both end in a
:class:`~airflow_dashscope.waiting.WaitEvent` that :meth:`DashScopeWaitingOperator.finish`
turns into a return value or a task failure, so the two modes cannot drift apart.

What is already finished is not waited for: an operator that sees its resource terminal
ends at once through the same :meth:`~DashScopeWaitingOperator.finish` (no deferral, so the
scheduler never has to resume a task whose trigger fired a moment after it deferred).

Each operator returns a small documented dict. The keys a next step needs (``job_id``,
``model_name``, ``deployed_model``...) are also pushed as XComs of their own, which is what
``task.output["job_id"]`` reads in Airflow 3 (an XComArg's ``["key"]`` names an XCom key,
not a key inside the return value); nothing else becomes its own XCom row.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar

from airflow.sdk import BaseOperator

from airflow_dashscope.client.errors import DashScopeError
from airflow_dashscope.exceptions import DashScopeWaitError, task_error_for
from airflow_dashscope.hooks.dashscope import DashScopeHook
from airflow_dashscope.hooks.defaults import default_deferrable, default_poll_interval
from airflow_dashscope.lineage.assets import alias_for, emit_model_asset

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_dashscope.client import DashScopeClient
    from airflow_dashscope.lineage.assets import AssetKind
    from airflow_dashscope.triggers.base import DashScopeBaseTrigger
    from airflow_dashscope.waiting import Resource, WaitEvent


def with_alias(outlets: Any, kind: AssetKind) -> list[Any]:
    """The user's outlets plus the alias of ``kind``, which ``emit_model_asset`` requires: a
    model's id is known only at run time, so its asset is emitted through the alias."""
    if outlets is None:
        declared: list[Any] = []
    elif isinstance(outlets, (list, tuple)):
        declared = list(outlets)
    else:
        declared = [outlets]
    alias = alias_for(kind)
    if alias not in declared:
        declared.append(alias)
    return declared


class DashScopeBaseOperator(BaseOperator):
    """Base of the DashScope operators: one hook per task, built from ``dashscope_conn_id``.

    :param dashscope_conn_id: the Airflow connection (type ``dashscope``) holding the API key.
    """

    template_fields: Sequence[str] = ("dashscope_conn_id",)

    def __init__(
        self, *, dashscope_conn_id: str = DashScopeHook.default_conn_name, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.dashscope_conn_id = dashscope_conn_id

    @cached_property
    def hook(self) -> DashScopeHook:
        return DashScopeHook(dashscope_conn_id=self.dashscope_conn_id)

    @property
    def client(self) -> DashScopeClient:
        return self.hook.get_conn()

    @property
    def workspace(self) -> str | None:
        """The connection's workspace (``None``: the account's default one)."""
        return self.client.config.workspace

    def push(self, context: Context, **values: Any) -> None:
        """Push the ids a next step chains on (``task.output["job_id"]``), one XCom each."""
        for key, value in values.items():
            if value is not None:
                context["ti"].xcom_push(key=key, value=value)

    def calling(self, doing: str, call: Any, *args: Any, **kwargs: Any) -> Any:
        """``call(*args, **kwargs)`` with client errors as task errors: fatal for what no
        retry fixes (400/401/403/404, configuration), retryable otherwise."""
        try:
            return call(*args, **kwargs)
        except DashScopeError as error:
            raise task_error_for(error, doing) from error


class DashScopeWaitingOperator(DashScopeBaseOperator):
    """An operator that starts something remote and waits for it to settle.

    :param wait_for_completion: wait for the resource to finish (else return at once).
    :param deferrable: wait in the triggerer, freeing the worker slot. ``None``: the
        ``[dashscope] default_deferrable`` option, else Airflow's ``[operators]
        default_deferrable`` (read when the operator is built, as Airflow does).
    :param poll_interval: seconds between two status checks. ``None``: the ``[dashscope]
        default_poll_interval`` option (30 seconds unless set).
    :param timeout: how long to wait (seconds or timedelta) before giving up; ``None``: no limit.
    :param max_consecutive_errors: transient API errors tolerated in a row while waiting.
    :param announce: record an asset event when something new is ready (default True).
        A result reused from an earlier run is never announced again.
    """

    #: The asset event kind this operator records on success (None: it records none).
    asset_kind: ClassVar[AssetKind | None] = None
    #: ``WaitEvent.resource`` of what this operator waits for.
    resource: ClassVar[Resource]
    #: The noun used in log lines and messages.
    noun: ClassVar[str]

    def __init__(
        self,
        *,
        wait_for_completion: bool = True,
        deferrable: bool | None = None,
        poll_interval: float | None = None,
        timeout: float | timedelta | None = None,
        max_consecutive_errors: int = 5,
        announce: bool = True,
        **kwargs: Any,
    ) -> None:
        if self.asset_kind is not None and announce:
            kwargs["outlets"] = with_alias(kwargs.get("outlets"), self.asset_kind)
        super().__init__(**kwargs)
        self.announce = announce
        self.wait_for_completion = wait_for_completion
        self.deferrable = default_deferrable() if deferrable is None else deferrable
        self.poll_interval = default_poll_interval() if poll_interval is None else poll_interval
        self.wait_timeout = timeout
        self.max_consecutive_errors = max_consecutive_errors
        if self.poll_interval <= 0:
            raise ValueError(f"poll_interval must be > 0, got {self.poll_interval!r}")

    # --- what each resource provides -------------------------------------------------------

    def trigger_for(
        self, resource_id: str, *, end_time: float | None, log_offset: int
    ) -> DashScopeBaseTrigger:
        """The trigger that waits for ``resource_id`` in the triggerer."""
        raise NotImplementedError

    def on_success(
        self, context: Context, result: dict[str, Any], **resumed: Any
    ) -> dict[str, Any]:
        """Called with the final object on success; returns the task's return value.
        ``resumed`` holds what :meth:`wait` was given to carry across a deferral."""
        return result

    def compact(self, result: dict[str, Any], **resumed: Any) -> dict[str, Any]:
        """The documented return value for a final object (the object itself by default)."""
        return result

    def on_timeout(self, event: WaitEvent) -> None:
        """Called before failing on a timeout (the fine-tune operator cancels its job)."""

    def failure(self, event: WaitEvent) -> Exception:
        """The exception for a wait that did not succeed (retryable unless overridden)."""
        return DashScopeWaitError(event.explain())

    def emit_model(self, context: Context, model_id: str, **extra: Any) -> None:
        """Record the asset event of something new that is now ready (``announce=True``)."""
        if not self.announce or self.asset_kind is None:
            return
        emit_model_asset(
            context,
            workspace=self.workspace,
            model_id=model_id,
            kind=self.asset_kind,
            extra=extra,
        )

    def accepts_cancel(self) -> bool:
        """True when a CANCELED resource is a successful end for this task."""
        return False

    # --- the wait itself --------------------------------------------------------------------

    def wait_deadline(self) -> float | None:
        """When the wait gives up (absolute): ``timeout`` from now (the fine-tune operator
        adds the turns of the jobs ahead of its job for the training slot)."""
        from airflow_dashscope.waiting import deadline

        return deadline(self.wait_timeout)

    def wait(
        self,
        context: Context,
        resource_id: str,
        *,
        log_offset: int = 0,
        resumed: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Wait for ``resource_id`` in the triggerer or on the worker, then :meth:`finish`.

        ``resumed`` (JSON-able) reaches :meth:`on_success` on either side of a deferral."""
        end_time = self.wait_deadline()
        if self.deferrable:
            self.defer(
                trigger=self.trigger_for(resource_id, end_time=end_time, log_offset=log_offset),
                method_name="execute_complete",
                kwargs={"resumed": resumed or {}},
            )
        event = self.wait_on_worker(resource_id, end_time, log_offset)
        return self.finish(context, event, **(resumed or {}))

    def execute_complete(
        self,
        context: Context,
        event: dict[str, Any] | None = None,
        resumed: dict[str, Any] | None = None,
    ) -> Any:
        """Resumes a deferred task with the trigger's one event."""
        from airflow_dashscope.waiting import WaitEvent

        return self.finish(context, WaitEvent.from_dict(event), **(resumed or {}))

    def wait_on_worker(
        self, resource_id: str, end_time: float | None, log_offset: int
    ) -> WaitEvent:
        """Wait on the worker through the trigger's own wait flow, driven here with the hook's
        blocking client: both modes decide (and log) alike, with no event loop on the worker."""
        from airflow_dashscope.waiting.drive import run_sync

        trigger = self.trigger_for(resource_id, end_time=end_time, log_offset=log_offset)
        return run_sync(trigger.wait_steps(), self.client)

    def finish(self, context: Context, event: WaitEvent, **resumed: Any) -> dict[str, Any]:
        """The task's end, the same whichever side waited (or if nothing had to wait)."""
        if event.status == "success":
            self.log.info("%s", event.message or f"DashScope {self.noun} {event.id} is ready.")
            return self.on_success(context, event.result or {}, **resumed)
        if event.status == "canceled" and self.accepts_cancel():
            self.log.warning("%s; fail_on_cancel=False, so the task succeeds.", event.message)
            return self.compact(event.result or {}, **resumed)
        if event.status == "timeout":
            self.on_timeout(event)
        raise self.failure(event)
