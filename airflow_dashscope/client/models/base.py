"""Shared pieces of the response models: tolerant base class and service timestamps."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import pendulum
from pydantic import AfterValidator, BaseModel, ConfigDict

#: The service writes local times without a zone; the fine-tune API lives in Beijing.
SERVICE_TIMEZONE = "Asia/Shanghai"


def _as_service_time(value: datetime) -> pendulum.DateTime:
    if value.tzinfo is None:
        return pendulum.instance(value, tz=SERVICE_TIMEZONE)
    return pendulum.instance(value)


#: ``"2025-11-27 20:33:15"`` or ``"2025-11-11T16:25:42"`` -> an aware pendulum DateTime.
ServiceTime = Annotated[datetime, AfterValidator(_as_service_time)]


class DashScopeModel(BaseModel):
    """Base of all response models: unknown fields are kept, so field drift on the server
    neither breaks parsing nor loses data (``model_extra`` holds them)."""

    model_config = ConfigDict(extra="allow", populate_by_name=True, protected_namespaces=())

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict (for XCom), unknown fields included."""
        return self.model_dump(mode="json", exclude_none=True)
