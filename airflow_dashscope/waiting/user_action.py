"""Kill means kill, clear means retry: what a user's action on a waiting task did.

When a user acts on a task that is waiting for a paid remote job, Airflow stops the wait the
same way whatever the action (the trigger's ``on_kill`` on Airflow >= 3.3, the operator's
``on_kill`` on the worker). Only the task instance's state at that moment tells the actions
apart, so that is what decides whether the job is cancelled:

=====================  ===================  =======================================
user action            state seen           remote job
=====================  ===================  =======================================
mark failed            ``failed``           cancelled
clear                  none / scheduled /   kept: a new try with the same inputs
                       queued / running /   reattaches to it; one with changed
                       restarting /         inputs cancels it first
                       deferred
mark success           ``success``          kept (the user says the work is done)
execution_timeout      ``running``          kept: a retry reattaches to it
=====================  ===================  =======================================

A state that cannot be read keeps the job (a paid job is never cancelled on a guess). How
the state is read, and how a trigger tells a user's action from a triggerer restart, are
Airflow internals: ``airflow_dashscope.compat`` holds them.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any, NamedTuple

from airflow_dashscope import compat

log = logging.getLogger(__name__)

#: The states in which stopping the wait means the user wants the remote work stopped.
CANCELLING_STATES = frozenset({"failed"})


class TaskInstanceKey(NamedTuple):
    dag_id: str
    task_id: str
    run_id: str
    map_index: int = -1

    @property
    def state_key(self) -> str:
        """How the task-states API names this instance."""
        return self.task_id if self.map_index < 0 else f"{self.task_id}_{self.map_index}"


def task_instance_key(context: Mapping[str, Any]) -> TaskInstanceKey:
    return key_of(context["ti"])


def key_of(ti: Any) -> TaskInstanceKey:
    map_index = getattr(ti, "map_index", -1)
    return TaskInstanceKey(
        ti.dag_id, ti.task_id, ti.run_id, -1 if map_index is None else int(map_index)
    )


def should_cancel(state: str | None) -> bool:
    """True only when the user's action ended the task as failed."""
    return state is not None and str(getattr(state, "value", state)) in CANCELLING_STATES


def _state_in(states: Mapping[str, Any], key: TaskInstanceKey) -> str | None:
    value = (states.get(key.run_id) or {}).get(key.state_key)
    return None if value is None else str(getattr(value, "value", value))


def current_state(key: TaskInstanceKey) -> str | None:
    """The instance's state now, from the API server through the task's supervisor."""
    try:
        states = compat.get_task_states(
            key.dag_id, key.task_id, key.run_id, key.map_index if key.map_index >= 0 else None
        )
    except Exception as error:  # no supervisor (a bare execute) or the API is unreachable
        log.warning("Cannot read the state of %s: %s", key, error)
        return None
    return _state_in(states, key)


async def acurrent_state(key: TaskInstanceKey) -> str | None:
    """:func:`current_state` for a trigger, in a thread: the triggerer's comms carry a call
    from another thread to its loop without blocking it (see ``compat``)."""
    return await asyncio.to_thread(current_state, key)


def ended_as_failed(key: TaskInstanceKey) -> bool:
    state = current_state(key)
    log.info("Task instance %s is %s.", key, state)
    return should_cancel(state)


async def aended_as_failed(key: TaskInstanceKey) -> bool:
    state = await acurrent_state(key)
    log.info("Task instance %s is %s.", key, state)
    return should_cancel(state)
