"""Imports whose home moved between Airflow 3.1 and 3.3 (one place, so operators stay plain)."""

from __future__ import annotations

try:  # Airflow >= 3.2: the task SDK owns configuration
    from airflow.sdk.configuration import conf
except ImportError:  # pragma: no cover - Airflow 3.1
    from airflow.configuration import conf

from airflow.sdk.exceptions import AirflowException

__all__ = ["AirflowException", "conf", "default_deferrable"]


def default_deferrable() -> bool:
    """``[operators] default_deferrable``: read when an operator is built, as Airflow does."""
    return conf.getboolean("operators", "default_deferrable", fallback=False)
