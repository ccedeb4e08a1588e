"""The one polling loop behind every DashScope trigger.

A subclass says how to look at its resource once (:meth:`DashScopeBaseTrigger.poll`); this
module decides everything else the same way for all of them:

* the async client is borrowed from the process's shared pool (``hooks.pool``) through
  ``await DashScopeHook(conn_id).aget_conn()``: every trigger of one connection shares one
  client and its warm connections; the connection lookup does not block the triggerer's
  loop, and the lease is given back when the run ends however it ends;
* ``await asyncio.sleep(poll_interval)`` before the first poll (the operator looked just
  before deferring; a trigger that fires within seconds of the deferral can race the
  scheduler into failing the resumed task) and between polls, never past the deadline;
* ``end_time`` is absolute wall-clock epoch seconds, not a duration: a trigger rebuilt after a
  triggerer restart or reassignment keeps the deadline it was given instead of starting over;
* transient failures (no answer, 429, 5xx) are tolerated up to ``max_consecutive_errors`` in
  a row; anything else ends the wait at once with an ``error`` event;
* exactly one :class:`~airflow.triggers.base.TriggerEvent`, whose payload is
  :meth:`WaitEvent.to_dict() <airflow_dashscope.waiting.WaitEvent.to_dict>`.

Nothing in ``cleanup()`` or on ``CancelledError`` touches the remote resource: both also
happen when a triggerer merely restarts. Stopping remote work belongs in
:meth:`DashScopeBaseTrigger.on_user_action`, which ``on_kill`` runs (called by Airflow >= 3.3
only when a user acts on the task; never by 3.1/3.2) shielded from the cancellations that
Airflow keeps sending while it runs (see :func:`outlive_cancellations`).
"""

from __future__ import annotations

import asyncio
from abc import abstractmethod
from collections.abc import AsyncIterator, Coroutine
from dataclasses import dataclass
from typing import Any, ClassVar

from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_dashscope.client import AsyncDashScopeClient
from airflow_dashscope.client.errors import DashScopeError
from airflow_dashscope.hooks.dashscope import DashScopeHook
from airflow_dashscope.waiting import (
    EventStatus,
    Outcome,
    Resource,
    WaitEvent,
    is_transient,
    time_left,
)
from airflow_dashscope.waiting.user_action import is_user_action

DEFAULT_CONN_ID = DashScopeHook.default_conn_name


@dataclass(frozen=True)
class Observation:
    """What one poll saw: the raw status (for logs), its outcome and the object itself."""

    status: str
    outcome: Outcome
    result: dict[str, Any] | None
    #: Why it ended, for failed/canceled outcomes (e.g. a failed job's code and message).
    reason: str = ""


class DashScopeBaseTrigger(BaseTrigger):
    """Polls one DashScope resource until it is terminal, the deadline passes or errors pile up.

    :param dashscope_conn_id: Airflow connection id (the only credential reference kept).
    :param poll_interval: seconds between polls.
    :param end_time: absolute epoch seconds after which the wait ends with ``timeout``;
        None waits for ever.
    :param max_consecutive_errors: transient errors tolerated in a row before ``error``.
    """

    resource: ClassVar[Resource]
    #: The noun used in log lines and messages.
    noun: ClassVar[str]

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
        self._user_action_handled = False

    # -- what a subclass provides -------------------------------------------------------
    @property
    @abstractmethod
    def resource_id(self) -> str:
        """The id in events and messages."""

    @abstractmethod
    def resource_kwargs(self) -> dict[str, Any]:
        """The subclass's own constructor arguments (JSON-able, no secret)."""

    @abstractmethod
    async def poll(self, client: AsyncDashScopeClient) -> Observation:
        """Look at the resource once (may raise :class:`DashScopeError`)."""

    def event_extras(self) -> dict[str, Any]:
        """Extra :class:`WaitEvent` fields (the fine-tune trigger adds its log position)."""
        return {}

    # -- the shared machinery -----------------------------------------------------------
    def serialize(self) -> tuple[str, dict[str, Any]]:
        cls = type(self)
        return f"{cls.__module__}.{cls.__qualname__}", {
            **self.resource_kwargs(),
            "dashscope_conn_id": self.dashscope_conn_id,
            "poll_interval": self.poll_interval,
            "end_time": self.end_time,
            "max_consecutive_errors": self.max_consecutive_errors,
        }

    async def run(self) -> AsyncIterator[TriggerEvent]:
        hook = DashScopeHook(self.dashscope_conn_id)
        try:
            client = await hook.aget_conn()
            event = await self.wait(client)
        except asyncio.CancelledError as stop:
            if is_user_action(stop):
                # Here, not only in Airflow's own on_kill call: that one is cut short by the
                # triggerer's next cancellation (see outlive_cancellations), and its log lines
                # miss the task's log once the trigger has ended.
                await self.on_kill()
            raise
        except DashScopeError as error:
            # Mostly configuration (no key, bad URL): an event explains it better than a crash.
            event = self.event("error", f"Cannot wait for {self.describe()}: {error}")
        finally:
            await hook.aclose()
        yield TriggerEvent(event.to_dict())

    async def wait(self, client: AsyncDashScopeClient) -> WaitEvent:
        """The polling loop: returns the single event that ends the wait."""
        errors = 0
        last: Observation | None = None
        await self.pause()
        while True:
            try:
                seen = await self.poll(client)
            except DashScopeError as error:
                if not is_transient(error):
                    return self.event("error", f"{self.describe()}: {error}", last)
                errors += 1
                self.log.warning(
                    "Polling %s failed (%d of %d in a row): %s",
                    self.describe(),
                    errors,
                    self.max_consecutive_errors,
                    error,
                )
                if errors >= self.max_consecutive_errors:
                    return self.event(
                        "error",
                        f"Gave up waiting for {self.describe()} after {errors} failed polls "
                        f"in a row; last error: {error}",
                        last,
                    )
            else:
                errors = 0
                if last is None or seen.status != last.status:
                    self.log.info("%s is %s", self.describe(), seen.status)
                last = seen
                if seen.outcome != "pending":
                    return self.event(seen.outcome, self.outcome_message(seen), seen)
            left = time_left(self.end_time)
            if left is not None and left <= 0:
                status = f" (last status {last.status})" if last else ""
                return self.event(
                    "timeout", f"Timed out waiting for {self.describe()}{status}.", last
                )
            await self.pause()

    async def pause(self) -> None:
        """One ``poll_interval``, cut short by the deadline."""
        left = time_left(self.end_time)
        if left is None or left > 0:
            await asyncio.sleep(
                self.poll_interval if left is None else min(left, self.poll_interval)
            )

    def describe(self) -> str:
        return f"DashScope {self.noun} {self.resource_id}"

    def outcome_message(self, seen: Observation) -> str:
        reason = f": {seen.reason}" if seen.reason else ""
        return f"{self.describe()} ended {seen.status}{reason}"

    def event(
        self, status: EventStatus, message: str, seen: Observation | None = None
    ) -> WaitEvent:
        return WaitEvent(
            status=status,
            resource=self.resource,
            id=self.resource_id,
            message=message,
            result=seen.result if seen else None,
            **self.event_extras(),
        )

    async def on_kill(self) -> None:
        """Run :meth:`on_user_action` once, to its end, within the triggerer's
        ``on_kill_timeout``."""
        if self._user_action_handled:
            return
        self._user_action_handled = True
        await outlive_cancellations(self.on_user_action(), on_kill_budget(), self.log)

    async def on_user_action(self) -> None:
        """What a user's action on the deferred task stops remotely: nothing by default
        (exports and deployments have no cancel)."""


#: Seconds kept free under the triggerer's ``on_kill_timeout`` for its own clean-up.
ON_KILL_MARGIN = 5.0


def on_kill_budget() -> float:
    """How long ``on_kill`` may work: the triggerer's ``on_kill_timeout`` minus a margin."""
    from airflow.configuration import conf

    timeout = conf.getfloat("triggerer", "on_kill_timeout", fallback=30.0)
    return max(1.0, timeout - ON_KILL_MARGIN)


async def outlive_cancellations(work: Coroutine[Any, Any, None], budget: float, log: Any) -> None:
    """Run ``work`` to its end even if the awaiting task is cancelled again meanwhile.

    The triggerer (Airflow 3.3) cancels a trigger's task once per sync (about every second)
    until the task ends, and each cancellation after the first lands inside ``on_kill``: an
    unshielded ``on_kill`` gets about a second, so a state read and a cancel request over a
    busy supervisor are cut short and a job the user marked failed keeps training. ``work``
    therefore runs as its own task, and those cancellations are absorbed for up to ``budget``
    seconds (less than the triggerer's own ``on_kill_timeout``); past it ``work`` is cancelled
    and a warning says so.
    """
    task = asyncio.ensure_future(work)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + budget
    while not task.done():
        left = deadline - loop.time()
        if left <= 0:
            task.cancel()
            log.warning("The user action's clean-up did not end within %.0f s: given up.", budget)
            return
        try:
            await asyncio.wait({task}, timeout=left)
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if current is not None and hasattr(current, "uncancel"):
                current.uncancel()
    if not task.cancelled():
        task.result()
