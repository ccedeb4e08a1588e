"""How far a deferred task's remote log has been shown, kept where a restarted triggerer
finds it.

A trigger is rebuilt from the kwargs it was deferred with, so after a triggerer restart its
``log_offset`` is the one of the deferral and the lines shown since would be shown again.
The trigger therefore records the count in an XCom of its own task instance
(:data:`LOG_OFFSET_KEY`) through the triggerer's supervisor, and a rebuilt trigger starts
from the larger of the two. Airflow clears the XCom when a new try starts, which is right:
a new try writes a new log.

Outside a triggerer (a worker-side wait, a test, Airflow without trigger comms) there is
nowhere to keep it: both calls then do nothing.
"""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger(__name__)

#: The XCom holding the number of remote log lines already shown.
LOG_OFFSET_KEY = "dashscope_log_offset"


def _comms() -> Any:
    try:
        from airflow.sdk.execution_time import task_runner
    except ImportError:  # pragma: no cover
        return None
    comms = getattr(task_runner, "SUPERVISOR_COMMS", None)
    return comms if comms is not None and hasattr(comms, "asend") else None


def _where(ti: Any) -> dict[str, Any]:
    map_index = getattr(ti, "map_index", -1)
    return {
        "dag_id": ti.dag_id,
        "run_id": ti.run_id,
        "task_id": ti.task_id,
        "map_index": -1 if map_index is None else int(map_index),
    }


async def shown_so_far(ti: Any) -> int | None:
    """The count recorded for ``ti`` (None when nothing is recorded or reachable)."""
    comms = _comms()
    if ti is None or comms is None:
        return None
    try:
        from airflow.sdk.execution_time.comms import GetXCom

        answer = await comms.asend(GetXCom(key=LOG_OFFSET_KEY, **_where(ti)))
    except Exception as error:
        log.debug("No recorded log position for %s: %s", ti, error)
        return None
    value = getattr(answer, "value", None)
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


async def record_shown(ti: Any, offset: int) -> None:
    """Record that ``offset`` remote log lines have been shown for ``ti`` (best effort)."""
    comms = _comms()
    if ti is None or comms is None:
        return
    try:
        from airflow.sdk.execution_time.comms import SetXCom

        await comms.asend(SetXCom(key=LOG_OFFSET_KEY, value=offset, **_where(ti)))
    except Exception as error:
        log.debug("Could not record the log position of %s: %s", ti, error)
