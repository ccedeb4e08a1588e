"""Imports whose home moved between Airflow 3.1 and 3.3 (one place, so operators stay plain).

``conf`` is the provider configuration module's own import, so the 3.1/3.2 fallback is
written once.
"""

from __future__ import annotations

from airflow.sdk.exceptions import AirflowException

from airflow_dashscope.config import conf

__all__ = ["AirflowException", "conf"]
