"""How far a deferred task's remote log has been shown, kept where a restarted triggerer
finds it.

A trigger is rebuilt from the kwargs it was deferred with, so after a triggerer restart its
``log_offset`` is the one of the deferral and the lines shown since would be shown again.
The fine-tune watch therefore asks for (:class:`RecallShown`) and reports
(:class:`RecordShown`) the count as steps of its flow, and the trigger's driver keeps it in
an XCom of its own task instance (:data:`LOG_OFFSET_KEY`, :class:`ShownInXCom`); a rebuilt
trigger starts from the larger of the two. Airflow clears the XCom when a new try starts,
which is right: a new try writes a new log.

A worker-side wait or a sensor's poke has nowhere to keep it and answers None.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from airflow_dashscope import compat

log = logging.getLogger(__name__)

#: The XCom holding the number of remote log lines already shown.
LOG_OFFSET_KEY = "dashscope_log_offset"


@dataclass(frozen=True)
class RecallShown:
    """A flow step: how many lines were shown before (the answer: an int, or None)."""


@dataclass(frozen=True)
class RecordShown:
    """A flow step: ``offset`` lines have now been shown (no answer)."""

    offset: int


class ShownInXCom:
    """The count of a task instance, in its XCom through the triggerer (best effort)."""

    def __init__(self, ti: Any) -> None:
        map_index = getattr(ti, "map_index", -1)
        self.ti = ti
        self.where = {
            "key": LOG_OFFSET_KEY,
            "dag_id": ti.dag_id,
            "run_id": ti.run_id,
            "task_id": ti.task_id,
            "map_index": -1 if map_index is None else int(map_index),
        }

    async def recall(self) -> int | None:
        try:
            value = await compat.aget_xcom(**self.where)
        except Exception as error:
            log.debug("No recorded log position for %s: %s", self.ti, error)
            return None
        try:
            return int(value) if value is not None else None
        except (TypeError, ValueError):
            return None

    async def record(self, offset: int) -> None:
        try:
            await compat.aset_xcom(**self.where, value=offset)
        except Exception as error:
            log.debug("Could not record the log position of %s: %s", self.ti, error)
