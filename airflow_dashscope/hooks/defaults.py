"""The provider's ``[dashscope]`` configuration section: deployment-wide defaults.

Declared in ``get_provider_info`` (so ``airflow config list`` shows it), set like any Airflow
option (``airflow.cfg`` or ``AIRFLOW__DASHSCOPE__REGION=ap-southeast-1``). Every read passes
a fallback, so an Airflow that has not loaded the provider's defaults (a bare task process,
a test) still gets the documented value. Reading is a dictionary lookup: cheap at DAG-parse
time, no I/O.

* ``region``: the region of connections whose ``region`` extra and host are empty.
* ``default_poll_interval``: seconds between two status checks of a waiting operator or sensor.
* ``default_deferrable``: whether operators wait in the triggerer; empty means Airflow's own
  ``[operators] default_deferrable``.
* ``max_fine_tune_jobs``, ``max_files``, ``max_file_storage_bytes``: the account's limits,
  checked before a create or an upload (read by ``checks.quotas.AccountLimits``, which holds
  the pages' figures as defaults).
"""

from __future__ import annotations

from typing import Any

from airflow_dashscope.compat import conf

SECTION = "dashscope"

#: The documented defaults; ``get_provider_info`` declares the same values.
DEFAULT_REGION = "cn-beijing"
DEFAULT_POLL_INTERVAL = 30.0


def setting(key: str, fallback: Any = None) -> Any:
    """``[dashscope] <key>``, or ``fallback`` when it is unset or empty."""
    value = conf.get(SECTION, key, fallback=None)
    if value is None or (isinstance(value, str) and not value.strip()):
        return fallback
    return value


def default_region() -> str:
    return str(setting("region", DEFAULT_REGION)).strip()


def default_poll_interval() -> float:
    value = setting("default_poll_interval", DEFAULT_POLL_INTERVAL)
    try:
        interval = float(value)
    except (TypeError, ValueError):
        raise ValueError(
            f"[{SECTION}] default_poll_interval must be a number of seconds, got {value!r}"
        ) from None
    if interval <= 0:
        raise ValueError(f"[{SECTION}] default_poll_interval must be > 0, got {value!r}")
    return interval


def default_deferrable() -> bool:
    """``[dashscope] default_deferrable``, else Airflow's ``[operators] default_deferrable``."""
    value = setting("default_deferrable")
    if value is None:
        return bool(conf.getboolean("operators", "default_deferrable", fallback=False))
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in ("1", "true", "yes", "on", "t")
