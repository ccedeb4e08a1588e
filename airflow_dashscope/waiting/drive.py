"""Running a waiting flow (``waiting/steps.py``): the only place where a wait does I/O.

:func:`run_sync` serves the worker-side wait and a sensor's poke with the blocking client
(``DashScopeHook(...).get_conn()``) and ``time.sleep``; :func:`run_async` serves a trigger
with the async client, ``asyncio.sleep`` and, when it has a task instance, the XCom that
keeps the remote log position (``waiting/progress.py``). Both dispatch the same steps.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any, TypeVar

from airflow_dashscope.client.errors import DashScopeError
from airflow_dashscope.waiting.progress import RecallShown, RecordShown
from airflow_dashscope.waiting.steps import Pause, Steps

if TYPE_CHECKING:
    from airflow_dashscope.client import AsyncDashScopeClient, DashScopeClient
    from airflow_dashscope.waiting.progress import ShownInXCom

T = TypeVar("T")


def run_sync(flow: Steps[T], client: DashScopeClient) -> T:
    """Drive ``flow`` on this thread; nowhere to keep the log position (answers None)."""
    try:
        step = next(flow)
        while True:
            if isinstance(step, Pause):
                time.sleep(step.seconds)
                step = flow.send(None)
            elif isinstance(step, (RecallShown, RecordShown)):
                step = flow.send(None)
            else:
                try:
                    answer = client.run(step)
                except DashScopeError as error:
                    step = flow.throw(error)
                else:
                    step = flow.send(answer)
    except StopIteration as stop:
        return stop.value


async def run_async(
    flow: Steps[T], client: AsyncDashScopeClient, shown: ShownInXCom | None = None
) -> T:
    """Drive ``flow`` on the running loop; ``shown`` keeps the log position, if given."""
    try:
        step = next(flow)
        while True:
            answer: Any = None
            if isinstance(step, Pause):
                await asyncio.sleep(step.seconds)
            elif isinstance(step, RecallShown):
                answer = await shown.recall() if shown else None
            elif isinstance(step, RecordShown):
                if shown:
                    await shown.record(step.offset)
            else:
                try:
                    answer = await client.run(step)
                except DashScopeError as error:
                    step = flow.throw(error)
                    continue
            step = flow.send(answer)
    except StopIteration as stop:
        return stop.value
