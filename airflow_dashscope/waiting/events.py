"""The one payload a wait ends with: what a trigger fires and an operator or sensor reads back.

:meth:`WaitEvent.from_dict` rejects malformed payloads with a clear error rather than a
``KeyError`` deep in ``execute_complete``. The payload's keys are a contract with deferred
tasks of existing deployments: they do not change.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, cast

#: How a wait ended: a terminal outcome, the deadline, or too many errors in a row.
EventStatus = Literal["success", "failed", "canceled", "timeout", "error"]
Resource = Literal["fine_tune", "checkpoint", "deployment"]

EVENT_STATUSES: frozenset[str] = frozenset({"success", "failed", "canceled", "timeout", "error"})
RESOURCES: frozenset[str] = frozenset({"fine_tune", "checkpoint", "deployment"})
#: How many of the last remote log lines an event carries (for failure messages).
LAST_LOGS = 20


class MalformedEventError(ValueError):
    """A trigger event that is not a :class:`WaitEvent` payload."""


@dataclass(frozen=True)
class WaitEvent:
    """The one trigger event payload (see the module docstring)."""

    status: EventStatus
    resource: Resource
    id: str
    message: str = ""
    #: The final object's ``to_dict()`` (the last one seen for timeout/error), if any.
    result: dict[str, Any] | None = None
    #: Remote log lines seen so far (fine-tune): a resumed wait starts from here.
    log_offset: int = 0
    last_logs: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status == "success"

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "resource": self.resource,
            "id": self.id,
            "message": self.message,
            "result": self.result,
            "log_offset": self.log_offset,
            "last_logs": list(self.last_logs),
        }

    @classmethod
    def from_dict(cls, payload: Any) -> WaitEvent:
        """Validate an event payload; raises :class:`MalformedEventError` naming what is wrong."""
        if not isinstance(payload, Mapping):
            raise MalformedEventError(
                f"DashScope trigger event must be a dict, got {type(payload).__name__}: "
                f"{payload!r:.200}"
            )
        problems = _problems(payload)
        if problems:
            raise MalformedEventError(
                "Malformed DashScope trigger event (" + "; ".join(problems) + f"): {payload!r:.300}"
            )
        result = payload.get("result")
        return cls(
            status=cast(EventStatus, payload["status"]),
            resource=cast(Resource, payload["resource"]),
            id=payload["id"],
            message=payload.get("message", ""),
            result=dict(result) if result is not None else None,
            log_offset=payload.get("log_offset", 0),
            last_logs=list(payload.get("last_logs", [])),
        )

    def explain(self) -> str:
        """A message for the task log or an exception: what ended, why, and the last logs."""
        text = self.message or f"DashScope {self.resource} {self.id}: {self.status}"
        if self.last_logs:
            text += "\nLast remote log lines:\n" + "\n".join(f"  {line}" for line in self.last_logs)
        return text


def _problems(payload: Mapping[str, Any]) -> list[str]:
    problems = []
    status, resource = payload.get("status"), payload.get("resource")
    if status not in EVENT_STATUSES:
        problems.append(f"status {status!r} is not one of {sorted(EVENT_STATUSES)}")
    if resource not in RESOURCES:
        problems.append(f"resource {resource!r} is not one of {sorted(RESOURCES)}")
    if not isinstance(payload.get("id"), str) or not payload.get("id"):
        problems.append("id must be a non-empty string")
    if not isinstance(payload.get("message", ""), str):
        problems.append("message must be a string")
    result = payload.get("result")
    if result is not None and not isinstance(result, Mapping):
        problems.append("result must be a dict or null")
    offset = payload.get("log_offset", 0)
    if not isinstance(offset, int) or isinstance(offset, bool) or offset < 0:
        problems.append("log_offset must be an integer >= 0")
    last_logs = payload.get("last_logs", [])
    if not isinstance(last_logs, list) or not all(isinstance(x, str) for x in last_logs):
        problems.append("last_logs must be a list of strings")
    return problems
