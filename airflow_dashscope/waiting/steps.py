"""The vocabulary of an I/O-free wait: what a step of a waiting flow can ask its driver for.

A waiting flow is a generator, like the client's endpoint flows (``client/request.py``): it
yields what it needs and receives the answer, so the trigger (async) and the worker and a
sensor's poke (sync) run the very same decisions and differ only in how they do the I/O
(``waiting/drive.py``). A flow may yield

* an endpoint flow of the client (``client/endpoints``): the driver runs it with its client
  and sends back the result, or throws the client's :class:`DashScopeError` into the flow;
* a :class:`Pause`: the driver sleeps that long;
* a :class:`~airflow_dashscope.waiting.progress.RecallShown` or
  :class:`~airflow_dashscope.waiting.progress.RecordShown`: where the driver can keep how much
  of a remote log was shown (a trigger), it does; elsewhere it answers None.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import TYPE_CHECKING, Any, TypeVar, cast

if TYPE_CHECKING:
    from airflow_dashscope.client.request import Flow

T = TypeVar("T")


class Pause:
    """Sleep ``seconds`` before the flow goes on.

    A plain slotted class, not a dataclass: DAG files import this module, and building a
    dataclass costs a parse-time ``exec`` per generated method."""

    __slots__ = ("seconds",)

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Pause) and other.seconds == self.seconds

    def __hash__(self) -> int:
        return hash(self.seconds)

    def __repr__(self) -> str:
        return f"Pause(seconds={self.seconds!r})"


#: A waiting flow returning ``T`` (what it yields: see the module docstring).
Steps = Generator[Any, Any, T]


def fetch(flow: Flow[T]) -> Generator[Flow[T], Any, T]:
    """``result = yield from fetch(endpoint_flow)``: one API call, typed by its flow."""
    result = yield flow
    return cast(T, result)
