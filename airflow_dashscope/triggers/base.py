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
happen when a triggerer merely restarts. Stopping remote work belongs in ``on_kill`` (called
by Airflow >= 3.3 only when a user kills the task; never called by 3.1/3.2).
"""

from __future__ import annotations

import asyncio
from abc import abstractmethod
from collections.abc import AsyncIterator
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
        """Nothing to stop by default (exports and deployments have no cancel)."""
