"""Every use of an Airflow internal, or of a name whose home moved between versions, in one place.

The provider supports Airflow 3.1.8 up to 3.3.x. What it needs beyond Airflow's stable surface
is listed here, each with why it is needed and what happens when it is missing; each has a
contract test (``tests/compat/``) that runs against the installed Airflow and names the
internal when it changes.

**Private names**

* ``airflow.jobs.triggerer_job_runner._USER_ACTION_CANCEL_MSG`` (Airflow >= 3.3): the message
  with which the triggerer cancels a trigger whose task a user acted on (mark failed, clear,
  mark success). A bare cancellation also comes from a triggerer that merely stops or hands
  the trigger to another one, and must not touch the remote job; the message is the only
  way to tell the two apart. Read from the already-loaded module (a triggerer has loaded it;
  anywhere else no triggerer can have sent it). *Missing*: no cancellation counts as a user
  action, so the paid job is kept, and a warning says why (:func:`is_user_action_cancel`).
* The triggerer's repeated cancellations (Airflow 3.3 behaviour, not an API): after a user
  action it cancels the trigger's task again at every sync (about once a second) until the
  task ends, so an ``on_kill`` that reads the task's state and then cancels the job over a
  busy supervisor (measured: 0.4 s and more) is cut short after its first await and the job
  the user marked failed keeps training (``tests/triggers/test_user_action_kill.py``).
  :func:`outlive_cancellations` absorbs those with ``asyncio.Task.uncancel`` for a budget
  under ``[triggerer] on_kill_timeout``. *Missing* ``uncancel``: the cancellation is not
  absorbed (the work may be cut short; the job is then kept).
* ``airflow.sdk.execution_time.comms.GetXCom``/``SetXCom`` over
  ``airflow.sdk.execution_time.task_runner.SUPERVISOR_COMMS``: only where the task SDK has no
  async XCom API (``XCom.aget_one``/``XCom.aset``), to keep how much of the remote log a
  deferred task has shown across triggerer restarts. *Missing*: nothing is kept, and a
  restarted trigger shows the lines since the deferral again (never fewer).

* ``"_operator_extra_links"`` in a serialized task (``SerializedDagModel.data``): the UI page
  finds a DAG's DashScope tasks from the metadata DB alone (no DAG file is imported), by the
  console link each operator class declares and its subclasses inherit; the serialized task
  keeps those links under this key (``{link name: xcom key}``). *Missing*: no task is found
  and the page lists none, rather than guessing by class name (:func:`serialized_link_keys`).

**Public, preferred over the comms messages**

* ``RuntimeTaskInstance.get_task_states`` reads the task instance's state, which alone tells
  a *mark failed* (cancel the job) from a *clear* (the new try reattaches), a *mark success*
  or an ``execution_timeout`` (keep it). In a trigger it runs in a thread: the triggerer's
  comms bridge a call from another thread onto its loop, where a sync call on the loop would
  need the portal that only the trigger's own task has. *Unreachable* (no supervisor, API
  down): the state is unknown and the job is kept.

**Names whose home moved** (``airflow.exceptions`` in 3.1, ``airflow.sdk.exceptions`` from
3.2): ``AirflowSensorTimeout``, ``AirflowException``, ``AirflowFailException``; and ``conf``
(``airflow.configuration`` in 3.1, ``airflow.sdk.configuration`` from 3.2).
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Coroutine
from typing import Any

try:  # Airflow >= 3.2 moved them to the Task SDK
    from airflow.sdk.exceptions import AirflowException, AirflowFailException
except ImportError:  # pragma: no cover - Airflow 3.1
    from airflow.exceptions import (  # type: ignore[no-redef]
        AirflowException,
        AirflowFailException,
    )
try:  # Airflow >= 3.2: the task SDK owns configuration
    from airflow.sdk.configuration import conf
except ImportError:  # pragma: no cover - Airflow 3.1
    from airflow.configuration import conf
try:
    from airflow.sdk.exceptions import AirflowSensorTimeout
except ImportError:  # pragma: no cover - Airflow 3.1
    from airflow.exceptions import AirflowSensorTimeout  # type: ignore[no-redef]

__all__ = [
    "TRIGGERER_MODULE",
    "USER_ACTION_CANCEL_NAME",
    "AirflowException",
    "AirflowFailException",
    "AirflowSensorTimeout",
    "aget_xcom",
    "aset_xcom",
    "conf",
    "get_task_states",
    "is_user_action_cancel",
    "on_kill_budget",
    "outlive_cancellations",
    "serialized_link_keys",
]

log = logging.getLogger(__name__)

# ---------------------------------------------------------------------- user actions (3.3)

#: Where the triggerer lives, and its private cancel message's name.
TRIGGERER_MODULE = "airflow.jobs.triggerer_job_runner"
USER_ACTION_CANCEL_NAME = "_USER_ACTION_CANCEL_MSG"
_warned_missing_message = False


def user_action_cancel_message() -> str | None:
    """The triggerer's user-action cancel message, or None when no triggerer is loaded in
    this process or it no longer defines the message."""
    global _warned_missing_message
    runner = sys.modules.get(TRIGGERER_MODULE)
    if runner is None:
        return None
    message = getattr(runner, USER_ACTION_CANCEL_NAME, None)
    if isinstance(message, str):
        return message
    if not _warned_missing_message:
        _warned_missing_message = True
        log.warning(
            "%s.%s is missing in this Airflow: a user's action on a deferred task cannot be "
            "told from a triggerer restart, so remote jobs are kept running.",
            TRIGGERER_MODULE,
            USER_ACTION_CANCEL_NAME,
        )
    return None


def is_user_action_cancel(cancel: asyncio.CancelledError) -> bool:
    """Whether the triggerer cancelled a trigger because a user acted on its task (or its
    trigger moved away), rather than because the triggerer is stopping."""
    message = user_action_cancel_message()
    return message is not None and bool(cancel.args) and cancel.args[0] == message


#: Seconds kept free under the triggerer's ``on_kill_timeout`` for its own clean-up.
ON_KILL_MARGIN = 5.0


def on_kill_budget() -> float:
    """How long ``on_kill`` may work: the triggerer's ``on_kill_timeout`` minus a margin."""
    from airflow.configuration import conf

    timeout = conf.getfloat("triggerer", "on_kill_timeout", fallback=30.0)
    return max(1.0, timeout - ON_KILL_MARGIN)


async def outlive_cancellations(work: Coroutine[Any, Any, None], budget: float, log: Any) -> None:
    """Run ``work`` to its end even if the awaiting task is cancelled again meanwhile.

    ``work`` runs as its own task; the triggerer's repeated cancellations of the awaiting
    task (see the module docstring) are absorbed for up to ``budget`` seconds, past which
    ``work`` is cancelled and a warning says so. What ``work`` raises is raised here.
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
            if current is None or not hasattr(current, "uncancel"):
                raise
            current.uncancel()
    if not task.cancelled():
        task.result()


# ---------------------------------------------------------------------- task instance state


def get_task_states(
    dag_id: str, task_id: str, run_id: str, map_index: int | None
) -> dict[str, Any]:
    """``{run_id: {state key: state}}`` from the API server, through the task's supervisor
    (raises when there is none)."""
    from airflow.sdk.execution_time.task_runner import RuntimeTaskInstance

    return RuntimeTaskInstance.get_task_states(
        dag_id=dag_id, task_ids=[task_id], run_ids=[run_id], map_index=map_index
    )


# ---------------------------------------------------------------------- XComs from a trigger


def _async_xcom() -> Any:
    """The task SDK's XCom class (the configured backend) when it has the async API."""
    try:
        from airflow.sdk.execution_time.xcom import XCom
    except ImportError:  # pragma: no cover - an SDK without it
        return None
    return XCom if hasattr(XCom, "aget_one") and hasattr(XCom, "aset") else None


def _supervisor_comms() -> Any:
    """The private comms channel (older task SDKs only); None outside a supervised process."""
    try:
        from airflow.sdk.execution_time import task_runner
    except ImportError:  # pragma: no cover
        return None
    comms = getattr(task_runner, "SUPERVISOR_COMMS", None)
    return comms if comms is not None and hasattr(comms, "asend") else None


async def aget_xcom(*, key: str, dag_id: str, task_id: str, run_id: str, map_index: int) -> Any:
    """An XCom of a task instance read from a trigger (None when absent or unreachable)."""
    where = {"key": key, "dag_id": dag_id, "task_id": task_id, "run_id": run_id}
    xcom = _async_xcom()
    if xcom is not None:
        return await xcom.aget_one(**where, map_index=map_index)
    comms = _supervisor_comms()  # pragma: no cover - task SDKs without the async XCom API
    if comms is None:  # pragma: no cover
        return None
    from airflow.sdk.execution_time.comms import GetXCom  # pragma: no cover

    answer = await comms.asend(GetXCom(**where, map_index=map_index))  # pragma: no cover
    return getattr(answer, "value", None)  # pragma: no cover


async def aset_xcom(
    *, key: str, value: Any, dag_id: str, task_id: str, run_id: str, map_index: int
) -> None:
    """Write an XCom of a task instance from a trigger (nothing when unreachable)."""
    where = {"key": key, "dag_id": dag_id, "task_id": task_id, "run_id": run_id}
    xcom = _async_xcom()
    if xcom is not None:
        await xcom.aset(**where, value=value, map_index=map_index)
        return
    comms = _supervisor_comms()  # pragma: no cover - task SDKs without the async XCom API
    if comms is None:  # pragma: no cover
        return
    from airflow.sdk.execution_time.comms import SetXCom  # pragma: no cover

    await comms.asend(SetXCom(**where, value=value, map_index=map_index))  # pragma: no cover


# ---------------------------------------------------------------- serialized DAGs (the UI)
#: Where a serialized task keeps its operator's extra links (``SerializedBaseOperator``).
SERIALIZED_LINKS_KEY = "_operator_extra_links"


def serialized_link_keys(task: dict[str, Any]) -> list[str]:
    """The XCom keys of the extra links a serialized task declares (``[]`` when none, or when
    the serialization no longer keeps them under :data:`SERIALIZED_LINKS_KEY`)."""
    links = task.get(SERIALIZED_LINKS_KEY) or {}
    return [str(key) for key in links.values()] if isinstance(links, dict) else []
