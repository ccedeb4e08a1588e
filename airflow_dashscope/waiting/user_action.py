"""Kill means kill, clear means retry: what a user's action on a waiting task did.

When a user acts on a task that is waiting for a paid remote job, Airflow stops the wait the
same way whatever the action (the trigger's ``on_kill`` on Airflow >= 3.3, the operator's
``on_kill`` on the worker). Only the task instance's state at that moment tells the actions
apart, so that is what decides whether the job is cancelled:

=====================  ===================  =======================================
user action            state seen           remote job
=====================  ===================  =======================================
mark failed            ``failed``           cancelled
clear                  none / scheduled /   kept: the new try reattaches to it
                       queued / running /
                       restarting /
                       deferred
mark success           ``success``          kept (the user says the work is done)
execution_timeout      ``running``          kept: a retry reattaches to it
=====================  ===================  =======================================

A state that cannot be read keeps the job (a paid job is never cancelled on a guess).
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Mapping
from typing import Any, NamedTuple

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
    ti = context["ti"]
    return key_of(ti)


def key_of(ti: Any) -> TaskInstanceKey:
    map_index = getattr(ti, "map_index", -1)
    return TaskInstanceKey(
        ti.dag_id, ti.task_id, ti.run_id, -1 if map_index is None else int(map_index)
    )


#: The message with which Airflow >= 3.3's triggerer cancels a trigger a user acted on.
USER_ACTION_CANCEL_MSG = "__airflow_user_action__"


def is_user_action(cancel: asyncio.CancelledError) -> bool:
    """Whether the triggerer cancelled a trigger because a user acted on its task (or its
    trigger moved away), rather than because the triggerer is stopping."""
    runner = sys.modules.get("airflow.jobs.triggerer_job_runner")  # loaded in a triggerer
    message = getattr(runner, "_USER_ACTION_CANCEL_MSG", USER_ACTION_CANCEL_MSG)
    return bool(cancel.args) and cancel.args[0] == message


def should_cancel(state: str | None) -> bool:
    """True only when the user's action ended the task as failed."""
    return state is not None and str(getattr(state, "value", state)) in CANCELLING_STATES


def _state_in(states: Mapping[str, Any], key: TaskInstanceKey) -> str | None:
    value = (states.get(key.run_id) or {}).get(key.state_key)
    return None if value is None else str(getattr(value, "value", value))


def _request(key: TaskInstanceKey) -> Any:
    from airflow.sdk.execution_time.comms import GetTaskStates

    return GetTaskStates(
        dag_id=key.dag_id,
        task_ids=[key.task_id],
        run_ids=[key.run_id],
        map_index=key.map_index if key.map_index >= 0 else None,
    )


def current_state(key: TaskInstanceKey) -> str | None:
    """The instance's state now, from the API server through the task's supervisor."""
    try:
        from airflow.sdk.execution_time.task_runner import RuntimeTaskInstance

        states = RuntimeTaskInstance.get_task_states(
            dag_id=key.dag_id,
            task_ids=[key.task_id],
            run_ids=[key.run_id],
            map_index=key.map_index if key.map_index >= 0 else None,
        )
    except Exception as error:  # no supervisor (a bare execute) or the API is unreachable
        log.warning("Cannot read the state of %s: %s", key, error)
        return None
    return _state_in(states, key)


async def acurrent_state(key: TaskInstanceKey) -> str | None:
    """:func:`current_state` for a trigger: asks the triggerer's supervisor without blocking
    the event loop."""
    try:
        from airflow.sdk.execution_time import task_runner

        comms = getattr(task_runner, "SUPERVISOR_COMMS", None)
        if comms is None or not hasattr(comms, "asend"):
            return None
        answer = await comms.asend(_request(key))
    except Exception as error:
        log.warning("Cannot read the state of %s: %s", key, error)
        return None
    return _state_in(getattr(answer, "task_states", {}) or {}, key)


def ended_as_failed(key: TaskInstanceKey) -> bool:
    state = current_state(key)
    log.info("Task instance %s is %s.", key, state)
    return should_cancel(state)


async def aended_as_failed(key: TaskInstanceKey) -> bool:
    state = await acurrent_state(key)
    log.info("Task instance %s is %s.", key, state)
    return should_cancel(state)
