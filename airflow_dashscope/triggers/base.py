"""What every DashScope trigger shares: its serialized kwargs and the async driver of the wait.

How to look at a resource (``waiting/watches.py``) and how a wait goes (``waiting/polling.py``:
the first pause, the absolute deadline, the tolerance of transient errors, exactly one
event) are decided in ``airflow_dashscope.waiting`` for the trigger, the worker-side wait and
the sensors alike. This module adds only what is the triggerer's:

* the async client is borrowed from the process's shared pool (``hooks.pool``) through
  ``await DashScopeHook(conn_id).aget_conn()``: every trigger of one connection shares one
  client and its warm connections, and the lease is given back however the run ends;
* exactly one :class:`~airflow.triggers.base.TriggerEvent`, whose payload is
  :meth:`WaitEvent.to_dict() <airflow_dashscope.waiting.WaitEvent.to_dict>`;
* the remote log position kept in the task instance's XCom (``waiting/progress.py``).

Nothing in ``cleanup()`` or on ``CancelledError`` touches the remote resource: both also
happen when a triggerer merely restarts. Stopping remote work belongs in
:meth:`DashScopeBaseTrigger.on_user_action`, which ``on_kill`` runs (called by Airflow >= 3.3
only when a user acts on the task; never by 3.1/3.2) shielded from the cancellations that
Airflow keeps sending while it runs (``compat.outlive_cancellations``).
"""

from __future__ import annotations

import asyncio
from abc import abstractmethod
from collections.abc import AsyncIterator
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_dashscope import compat
from airflow_dashscope.client import AsyncDashScopeClient
from airflow_dashscope.client.errors import DashScopeError
from airflow_dashscope.hooks.dashscope import DashScopeHook
from airflow_dashscope.waiting import WaitEvent
from airflow_dashscope.waiting.drive import run_async
from airflow_dashscope.waiting.polling import spread_first_pause, time_left, wait_steps
from airflow_dashscope.waiting.progress import ShownInXCom
from airflow_dashscope.waiting.steps import Steps
from airflow_dashscope.waiting.watches import Watch

DEFAULT_CONN_ID = DashScopeHook.default_conn_name


class DashScopeBaseTrigger(BaseTrigger):
    """Polls one DashScope resource until it is terminal, the deadline passes or errors pile up.

    :param dashscope_conn_id: Airflow connection id (the only credential reference kept).
    :param poll_interval: seconds between polls.
    :param end_time: absolute epoch seconds after which the wait ends with ``timeout``;
        None waits for ever.
    :param max_consecutive_errors: transient errors tolerated in a row before ``error``.
    """

    def __init__(
        self,
        *,
        dashscope_conn_id: str = DEFAULT_CONN_ID,
        poll_interval: float = 30.0,
        end_time: float | None = None,
        max_consecutive_errors: int = 5,
    ) -> None:
        super().__init__()
        if poll_interval < 0:
            raise ValueError("poll_interval must be >= 0")
        if max_consecutive_errors < 1:
            raise ValueError("max_consecutive_errors must be >= 1")
        self.dashscope_conn_id = dashscope_conn_id
        self.poll_interval = float(poll_interval)
        self.end_time = None if end_time is None else float(end_time)
        self.max_consecutive_errors = int(max_consecutive_errors)
        self._watch: Watch | None = None
        self._user_action_handled = False
        #: run() has waited the spread first pause already (before borrowing a client).
        self._first_pause_done = False

    # -- what a subclass provides -------------------------------------------------------
    @abstractmethod
    def resource_kwargs(self) -> dict[str, Any]:
        """The subclass's own constructor arguments (JSON-able, no secret)."""

    @abstractmethod
    def make_watch(self, log: Any) -> Watch:
        """A new watch of this trigger's resource, logging to ``log``."""

    # -- the shared machinery -----------------------------------------------------------
    def watch(self) -> Watch:
        """This trigger's watch (one per trigger: the fine-tune log is followed across polls)."""
        if self._watch is None:
            self._watch = self.make_watch(self.log)
        return self._watch

    @property
    def resource_id(self) -> str:
        return self.watch().resource_id

    def describe(self) -> str:
        return self.watch().describe()

    def serialize(self) -> tuple[str, dict[str, Any]]:
        cls = type(self)
        return f"{cls.__module__}.{cls.__qualname__}", {
            **self.resource_kwargs(),
            "dashscope_conn_id": self.dashscope_conn_id,
            "poll_interval": self.poll_interval,
            "end_time": self.end_time,
            "max_consecutive_errors": self.max_consecutive_errors,
        }

    def wait_steps(self) -> Steps[WaitEvent]:
        """The wait as an I/O-free flow: the worker-side wait drives it too."""
        return wait_steps(
            self.watch(),
            poll_interval=self.poll_interval,
            end_time=self.end_time,
            max_consecutive_errors=self.max_consecutive_errors,
            first_pause=0.0 if self._first_pause_done else self.first_pause(),
        )

    def first_pause(self) -> float:
        """The wait before the first look, spread over the interval (``spread_first_pause``)."""
        return spread_first_pause(self.poll_interval, self.spread_identity())

    def spread_identity(self) -> str:
        """What places this trigger's first look in the interval: its trigger row's id
        (set by the triggerer, kept across restarts), else its class and resource."""
        trigger_id = getattr(self, "trigger_id", None)
        if trigger_id is not None:
            return f"trigger:{trigger_id}"
        return f"{type(self).__qualname__}:{self.resource_id}"

    async def wait(self, client: AsyncDashScopeClient) -> WaitEvent:
        """The polling loop on ``client``: returns the single event that ends the wait."""
        ti = getattr(self, "task_instance", None)
        return await run_async(self.wait_steps(), client, ShownInXCom(ti) if ti else None)

    async def run(self) -> AsyncIterator[TriggerEvent]:
        hook = DashScopeHook(self.dashscope_conn_id)
        try:
            # The spread first pause comes before the set-up too (connection lookup, client
            # lease): a thousand resumed triggers then start over one interval, not in one
            # turn of the loop. The deadline still cuts it short.
            left = time_left(self.end_time)
            await asyncio.sleep(
                self.first_pause() if left is None else max(0.0, min(left, self.first_pause()))
            )
            self._first_pause_done = True
            client = await hook.aget_conn()
            event = await self.wait(client)
        except asyncio.CancelledError as stop:
            if compat.is_user_action_cancel(stop):
                # Here, not only in Airflow's own on_kill call: that one is cut short by the
                # triggerer's next cancellation, and its log lines miss the task's log once
                # the trigger has ended.
                await self.on_kill()
            raise
        except DashScopeError as error:
            # Mostly configuration (no key, bad URL): an event explains it better than a crash.
            event = self.watch().event("error", f"Cannot wait for {self.describe()}: {error}")
        finally:
            await hook.aclose()
        yield TriggerEvent(event.to_dict())

    async def on_kill(self) -> None:
        """Run :meth:`on_user_action` once, to its end, within the triggerer's
        ``on_kill_timeout``."""
        if self._user_action_handled:
            return
        self._user_action_handled = True
        await compat.outlive_cancellations(self.on_user_action(), compat.on_kill_budget(), self.log)

    async def on_user_action(self) -> None:
        """What a user's action on the deferred task stops remotely: nothing by default
        (exports and deployments have no cancel)."""
