"""What every DashScope sensor shares: poke, reschedule and deferrable modes over one trigger.

A sensor does not re-implement how to look at its resource: it builds the matching trigger
and, on each poke, runs that trigger's single :meth:`poll
<airflow_dashscope.triggers.base.DashScopeBaseTrigger.poll>` on a short-lived async client.
So poke/reschedule mode and deferrable mode classify with the same code (``waiting.py``), and
both end through :meth:`DashScopeBaseSensor.complete`, which turns a
:class:`~airflow_dashscope.waiting.WaitEvent` into the object dict (success) or a clear error.

Transient failures of a poke (no answer, 429, 5xx) count as "not yet": the sensor's
``timeout`` bounds them. Other errors (bad key, unknown id) fail the poke at once.
"""

from __future__ import annotations

import asyncio
from abc import abstractmethod
from collections.abc import Sequence
from functools import cached_property
from typing import Any

from airflow.configuration import conf
from airflow.sdk import BaseSensorOperator, PokeReturnValue

from airflow_dashscope.client import AsyncDashScopeClient
from airflow_dashscope.client.errors import DashScopeError
from airflow_dashscope.exceptions import DashScopeWaitError
from airflow_dashscope.hooks.dashscope import DashScopeHook
from airflow_dashscope.triggers.base import DEFAULT_CONN_ID, DashScopeBaseTrigger
from airflow_dashscope.waiting import WaitEvent, deadline, is_transient

try:  # Airflow >= 3.2 moved them to the Task SDK
    from airflow.sdk.exceptions import AirflowSensorTimeout
except ImportError:  # pragma: no cover - Airflow 3.1
    from airflow.exceptions import AirflowSensorTimeout  # type: ignore[no-redef]

__all__ = ["DashScopeBaseSensor", "DashScopeWaitError"]


class DashScopeBaseSensor(BaseSensorOperator):
    """Base of the DashScope sensors.

    :param dashscope_conn_id: Airflow connection id.
    :param deferrable: wait in the triggerer instead of a worker slot (the trigger's deadline
        is the sensor's ``timeout``, as an absolute time).
    :param max_consecutive_errors: transient errors the deferred trigger tolerates in a row.

    On success the final object (``to_dict()``) is the task's return value (XCom).
    """

    template_fields: Sequence[str] = ("dashscope_conn_id",)

    def __init__(
        self,
        *,
        dashscope_conn_id: str = DEFAULT_CONN_ID,
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
        max_consecutive_errors: int = 5,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.dashscope_conn_id = dashscope_conn_id
        self.deferrable = deferrable
        self.max_consecutive_errors = max_consecutive_errors

    @abstractmethod
    def make_trigger(self, end_time: float | None) -> DashScopeBaseTrigger:
        """The trigger that waits for this sensor's resource."""

    @cached_property
    def _poller(self) -> DashScopeBaseTrigger:
        # Kept across pokes in poke mode, so the fine-tune log is followed incrementally.
        return self.make_trigger(None)

    def common_trigger_kwargs(self, end_time: float | None) -> dict[str, Any]:
        return {
            "dashscope_conn_id": self.dashscope_conn_id,
            "poll_interval": float(self.poke_interval),
            "end_time": end_time,
            "max_consecutive_errors": self.max_consecutive_errors,
        }

    async def _look(self) -> WaitEvent | None:
        """One poll through the trigger; None while pending or after a transient error."""
        trigger = self._poller
        config = DashScopeHook(self.dashscope_conn_id).client_config()
        async with AsyncDashScopeClient(config) as client:
            try:
                seen = await trigger.poll(client)
            except DashScopeError as error:
                if not is_transient(error):
                    raise DashScopeWaitError(
                        f"Cannot look at {trigger.describe()}: {error}"
                    ) from error
                self.log.warning(
                    "Looking at %s failed, will look again: %s", trigger.describe(), error
                )
                return None
        self.log.info("%s is %s", trigger.describe(), seen.status)
        if seen.outcome == "pending":
            return None
        return trigger.event(seen.outcome, trigger.outcome_message(seen), seen)

    def poke(self, context: Any) -> bool | PokeReturnValue:
        event = asyncio.run(self._look())
        if event is None:
            return False
        return PokeReturnValue(is_done=True, xcom_value=self.complete(event))

    def execute(self, context: Any) -> Any:
        if not self.deferrable:
            return super().execute(context)
        done = self.poke(context)
        if isinstance(done, PokeReturnValue) and done.is_done:
            return done.xcom_value
        self.defer(
            trigger=self.make_trigger(deadline(self.timeout)), method_name="execute_complete"
        )

    def execute_complete(self, context: Any, event: Any) -> dict[str, Any] | None:
        return self.complete(WaitEvent.from_dict(event))

    def complete(self, event: WaitEvent) -> dict[str, Any] | None:
        """The final object of a successful wait; raises for any other ending."""
        if event.ok:
            self.log.info("%s", event.message)
            return event.result
        if event.status == "timeout":
            raise AirflowSensorTimeout(event.explain())
        raise DashScopeWaitError(event.explain())
