"""The timezone the pages fall back to for times: Airflow's ``[core] default_timezone``.

The pages show times 24-hour in the zone Airflow's UI shows them in, so a time on the tab
reads like the same time in Airflow's UI: the zone the user picked in Airflow's UI (kept in the
browser under the ``timezone`` key, which the frame can read: same origin), else the browser's
own zone (Airflow 3's UI default). Only a browser that names no zone uses this one.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pendulum.tz import local_timezone

UTC = "UTC"


def ui_timezone(configured: str | None) -> str:
    """The IANA name for ``[core] default_timezone`` (``utc``, ``system`` or an IANA name);
    UTC when it names no zone."""
    text = (configured or "").strip()
    if not text or text.lower() == "utc":
        return UTC
    if text.lower() == "system":
        name = getattr(local_timezone(), "name", None)
        return name if isinstance(name, str) and name else UTC
    try:
        return ZoneInfo(text).key
    except (ValueError, ZoneInfoNotFoundError):
        return UTC


def configured_timezone() -> str:
    """Airflow's ``[core] default_timezone``, as an IANA name."""
    from airflow.configuration import conf

    return ui_timezone(conf.get("core", "default_timezone", fallback="utc"))
