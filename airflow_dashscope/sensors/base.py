"""What every DashScope sensor shares: poke, reschedule and deferrable modes over one trigger.

A sensor does not re-implement how to look at its resource: it builds the matching trigger
and, on each poke, runs that trigger's single :meth:`poll
<airflow_dashscope.triggers.base.DashScopeBaseTrigger.poll>`. In poke mode one event loop and
one async client (with its warm connection) serve every poke of a run, instead of a new
client, TLS context and loop per poke (18-21 ms CPU each, against about 1 ms reused).
So poke/reschedule mode and deferrable mode classify with the same code (``waiting.py``), and
both end through :meth:`DashScopeBaseSensor.complete`, which turns a
:class:`~airflow_dashscope.waiting.WaitEvent` into the object dict (success) or a clear error.

Transient failures of a poke (no answer, 429, 5xx) count as "not yet": the sensor's
``timeout`` bounds them. Other errors (bad key, unknown id) fail the poke at once.
"""

from __future__ import annotations

import asyncio
import contextlib
from abc import abstractmethod
from collections.abc import Coroutine, Iterator, Sequence
from datetime import timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any, TypeVar

from airflow.sdk import BaseSensorOperator, PokeReturnValue

from airflow_dashscope.client.errors import DashScopeError
from airflow_dashscope.exceptions import DashScopeWaitError
from airflow_dashscope.hooks.dashscope import DashScopeHook
from airflow_dashscope.hooks.defaults import default_deferrable, default_poll_interval
from airflow_dashscope.waiting import WaitEvent, deadline, is_transient

if TYPE_CHECKING:  # the client and triggers load when a task runs, not at DAG parse
    from airflow_dashscope.client import AsyncDashScopeClient
    from airflow_dashscope.triggers.base import DashScopeBaseTrigger

try:  # Airflow >= 3.2 moved them to the Task SDK
    from airflow.sdk.exceptions import AirflowSensorTimeout
except ImportError:  # pragma: no cover - Airflow 3.1
    from airflow.exceptions import AirflowSensorTimeout  # type: ignore[no-redef]

__all__ = ["DashScopeBaseSensor", "DashScopeWaitError"]

T = TypeVar("T")
DEFAULT_CONN_ID = DashScopeHook.default_conn_name


class _PokeSession:
    """An event loop and an async client kept for the pokes of one sensor run."""

    def __init__(self, conn_id: str) -> None:
        self._conn_id = conn_id
        self._loop = asyncio.new_event_loop()
        self._client: AsyncDashScopeClient | None = None

    def client(self) -> AsyncDashScopeClient:
        if self._client is None:
            from airflow_dashscope.client import AsyncDashScopeClient

            self._client = AsyncDashScopeClient(DashScopeHook(self._conn_id).client_config())
        return self._client

    def run(self, work: Coroutine[Any, Any, T]) -> T:
        return self._loop.run_until_complete(work)

    def close(self) -> None:
        try:
            if self._client is not None:
                self.run(self._client.aclose())
            self.run(self._loop.shutdown_asyncgens())
        finally:
            self._loop.close()


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
        dashscope_conn_id: str = DEFAULT_CONN_ID,
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
        self._session: _PokeSession | None = None

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

    async def _look(self, client: AsyncDashScopeClient) -> WaitEvent | None:
        """One poll through the trigger; None while pending or after a transient error."""
        trigger = self._poller
        try:
            seen = await trigger.poll(client)
        except DashScopeError as error:
            if not is_transient(error):
                raise DashScopeWaitError(f"Cannot look at {trigger.describe()}: {error}") from error
            self.log.warning("Looking at %s failed, will look again: %s", trigger.describe(), error)
            return None
        self.log.info("%s is %s", trigger.describe(), seen.status)
        if seen.outcome == "pending":
            return None
        return trigger.event(seen.outcome, trigger.outcome_message(seen), seen)

    @contextlib.contextmanager
    def _poke_session(self) -> Iterator[_PokeSession]:
        """The pokes inside share one loop and client (a poke outside ``execute`` gets its own)."""
        if self._session is not None:
            yield self._session
            return
        self._session = _PokeSession(self.dashscope_conn_id)
        try:
            yield self._session
        finally:
            session, self._session = self._session, None
            session.close()

    def poke(self, context: Any) -> bool | PokeReturnValue:
        with self._poke_session() as session:
            event = session.run(self._look(session.client()))
        if event is None:
            return False
        return PokeReturnValue(is_done=True, xcom_value=self.complete(event))

    def execute(self, context: Any) -> Any:
        with self._poke_session():
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
