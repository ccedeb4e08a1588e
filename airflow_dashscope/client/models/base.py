"""Shared pieces of the response models: tolerant base class, service times, lenient fields."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import pendulum
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict

#: The service writes local times without a zone; the fine-tune API lives in Beijing.
SERVICE_TIMEZONE = "Asia/Shanghai"


def _as_service_time(value: datetime) -> pendulum.DateTime:
    if value.tzinfo is None:
        return pendulum.instance(value, tz=SERVICE_TIMEZONE)
    return pendulum.instance(value)


#: ``"2025-11-27 20:33:15"``, ``"2025-11-11T16:25:42"`` or ``"2025-06-17T11:00:38.68"``
#: (the deployment pages show fractional seconds) -> an aware pendulum DateTime.
ServiceTime = Annotated[datetime, AfterValidator(_as_service_time)]


def _as_text(value: Any) -> Any:
    return str(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else value


#: A string field the service sometimes writes as a number (a job's ``code`` is ``"1"`` on
#: one page and could be ``1`` on the wire; a file's ``id`` is a Number in one table and a
#: String in the next).
LenientText = Annotated[str, BeforeValidator(_as_text)]


def _none_as_empty(value: Any) -> Any:
    return [] if value is None else value


#: A list the service may send as ``null`` (``"choices": null`` in the text result form).
NullableList = BeforeValidator(_none_as_empty)


class DashScopeModel(BaseModel):
    """Base of all response models: unknown fields are kept, so field drift on the server
    neither breaks parsing nor loses data (``model_extra`` holds them)."""

    model_config = ConfigDict(extra="allow", populate_by_name=True, protected_namespaces=())

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict (for XCom), unknown fields included."""
        return self.model_dump(mode="json", exclude_none=True)
