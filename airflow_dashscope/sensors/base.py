"""What every DashScope sensor shares: poke, reschedule and deferrable modes over one watch.

A sensor does not re-implement how to look at its resource: it builds the matching trigger
(the deferrable mode's) and, on each poke, drives one look of that trigger's watch
(``waiting/polling.py``: :func:`~airflow_dashscope.waiting.polling.look_steps`) with the
blocking client of its hook. The pokes of one run share that client and its warm
connection (a poke outside ``execute`` gets its own, closed after it). Every mode ends
through :meth:`DashScopeBaseSensor.complete`, which turns a
:class:`~airflow_dashscope.waiting.WaitEvent` into the object dict (success) or a clear error.

Transient failures of a poke (no answer, 429, 5xx) count as "not yet": the sensor's
``timeout`` bounds them. Other errors (bad key, unknown id) fail the poke at once.
"""

from __future__ import annotations

import contextlib
from abc import abstractmethod
from collections.abc import Iterator, Sequence
from datetime import timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseSensorOperator, PokeReturnValue

from airflow_dashscope.client.errors import DashScopeError
from airflow_dashscope.exceptions import DashScopeWaitError
from airflow_dashscope.hooks.dashscope import DashScopeHook
from airflow_dashscope.hooks.defaults import default_deferrable, default_poll_interval

if TYPE_CHECKING:  # the client and triggers load when a task runs, not at DAG parse
    from airflow_dashscope.client import DashScopeClient
    from airflow_dashscope.triggers.base import DashScopeBaseTrigger
    from airflow_dashscope.waiting import WaitEvent
    from airflow_dashscope.waiting.watches import Watch

__all__ = ["DashScopeBaseSensor", "DashScopeWaitError"]


class DashScopeBaseSensor(BaseSensorOperator):
    """Base of the DashScope sensors.

    :param dashscope_conn_id: Airflow connection id.
    :param deferrable: wait in the triggerer instead of a worker slot (the trigger's deadline
        is the sensor's ``timeout``, as an absolute time). Unset: ``[dashscope]
        default_deferrable``, else Airflow's ``[operators] default_deferrable``.
    :param poke_interval: seconds between two looks. Unset: ``[dashscope]
        default_poll_interval`` (30 seconds unless set), like the waiting operators.
    :param max_consecutive_errors: transient errors the deferred trigger tolerates in a row.

    On success the final object (``to_dict()``) is the task's return value (XCom).
    """

    template_fields: Sequence[str] = ("dashscope_conn_id",)

    def __init__(
        self,
        *,
        dashscope_conn_id: str = DashScopeHook.default_conn_name,
        deferrable: bool | None = None,
        poke_interval: float | timedelta | None = None,
        max_consecutive_errors: int = 5,
        **kwargs: Any,
    ) -> None:
        if poke_interval is None:
            poke_interval = default_poll_interval()
        super().__init__(poke_interval=poke_interval, **kwargs)
        self.dashscope_conn_id = dashscope_conn_id
        self.deferrable = default_deferrable() if deferrable is None else deferrable
        self.max_consecutive_errors = max_consecutive_errors
        self._in_session = False

    @abstractmethod
    def make_trigger(self, end_time: float | None) -> DashScopeBaseTrigger:
        """The trigger that waits for this sensor's resource."""

    @cached_property
    def _watch(self) -> Watch:
        # Kept across pokes in poke mode, so the fine-tune log is followed incrementally.
        return self.make_trigger(None).make_watch(self.log)

    @cached_property
    def hook(self) -> DashScopeHook:
        return DashScopeHook(self.dashscope_conn_id)

    def common_trigger_kwargs(self, end_time: float | None) -> dict[str, Any]:
        return {
            "dashscope_conn_id": self.dashscope_conn_id,
            "poll_interval": float(self.poke_interval),
            "end_time": end_time,
            "max_consecutive_errors": self.max_consecutive_errors,
        }

    @contextlib.contextmanager
    def _session(self) -> Iterator[DashScopeClient]:
        """The pokes inside share the hook's client, closed when the outermost session ends."""
        if self._in_session:
            yield self.hook.get_conn()
            return
        self._in_session = True
        try:
            yield self.hook.get_conn()
        finally:
            self._in_session = False
            self.hook.close()

    def look(self, client: DashScopeClient) -> WaitEvent | None:
        """One look; None while pending or after a transient error."""
        from airflow_dashscope.waiting.drive import run_sync
        from airflow_dashscope.waiting.polling import look_steps

        try:
            return run_sync(look_steps(self._watch), client)
        except DashScopeError as error:
            raise DashScopeWaitError(f"Cannot look at {self._watch.describe()}: {error}") from error

    def poke(self, context: Any) -> bool | PokeReturnValue:
        with self._session() as client:
            event = self.look(client)
        if event is None:
            return False
        return PokeReturnValue(is_done=True, xcom_value=self.complete(event))

    def execute(self, context: Any) -> Any:
        from airflow_dashscope.waiting import deadline

        with self._session():
            if not self.deferrable:
                return super().execute(context)
            done = self.poke(context)
        if isinstance(done, PokeReturnValue) and done.is_done:
            return done.xcom_value
        self.defer(
            trigger=self.make_trigger(deadline(self.timeout)), method_name="execute_complete"
        )

    def execute_complete(self, context: Any, event: Any) -> dict[str, Any] | None:
        from airflow_dashscope.waiting import WaitEvent

        return self.complete(WaitEvent.from_dict(event))

    def complete(self, event: WaitEvent) -> dict[str, Any] | None:
        """The final object of a successful wait; raises for any other ending."""
        from airflow_dashscope.compat import AirflowSensorTimeout

        if event.ok:
            self.log.info("%s", event.message)
            return event.result
        if event.status == "timeout":
            raise AirflowSensorTimeout(event.explain())
        raise DashScopeWaitError(event.explain())
