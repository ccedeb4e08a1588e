"""From an Airflow connection to a client configuration, without I/O.

The connection form (declared in ``get_provider_info``): the password is the API key, the
host the base URL; extras ``workspace``, ``region``, ``timeout``, ``max_retries``,
``allow_insecure_http`` and ``max_connections`` (sockets of the pool a triggerer's triggers
share; 16 by default). With no password, ``DASHSCOPE_API_KEY`` is used.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, Protocol

from airflow_dashscope.client.config import (
    BEIJING_BASE_URL,
    ClientConfig,
    Secret,
    base_url_for_region,
)
from airflow_dashscope.client.errors import DashScopeConfigError
from airflow_dashscope.client.retry import RetryPolicy

API_KEY_ENV = "DASHSCOPE_API_KEY"


class ConnectionLike(Protocol):
    conn_id: str
    host: str | None
    password: str | None

    @property
    def extra_dejson(self) -> dict[str, Any]: ...


def _extra(extras: Mapping[str, Any], name: str) -> Any:
    """An extra by its plain name, or by the ``extra__dashscope__`` prefix older UIs write."""
    value = extras.get(name)
    if value in (None, ""):
        value = extras.get(f"extra__dashscope__{name}")
    return None if value == "" else value


def _as_bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


def base_url_from(host: str | None, region: str | None) -> str:
    if host:
        url = host if "://" in host else f"https://{host}"
        return url.rstrip("/")
    if region:
        return base_url_for_region(region)
    return BEIJING_BASE_URL


def api_key_from(conn: ConnectionLike, environ: Mapping[str, str] | None = None) -> str:
    key = conn.password or (environ if environ is not None else os.environ).get(API_KEY_ENV)
    if not key:
        raise DashScopeConfigError(
            f"Connection {conn.conn_id!r} has no API key: set its password field, "
            f"or the {API_KEY_ENV} environment variable."
        )
    return key


def client_config_from(
    conn: ConnectionLike, environ: Mapping[str, str] | None = None
) -> ClientConfig:
    extras = conn.extra_dejson or {}
    timeout, max_retries = _extra(extras, "timeout"), _extra(extras, "max_retries")
    pool = _extra(extras, "max_connections")
    try:
        timeout = 60.0 if timeout is None else float(timeout)
        max_retries = RetryPolicy.max_retries if max_retries is None else int(max_retries)
        max_connections = ClientConfig.max_connections if pool is None else int(pool)
    except (TypeError, ValueError) as exc:
        raise DashScopeConfigError(
            f"Connection {conn.conn_id!r}: extras timeout, max_retries and max_connections "
            "must be numbers."
        ) from exc
    if max_connections < 1:
        raise DashScopeConfigError(
            f"Connection {conn.conn_id!r}: extra max_connections must be at least 1."
        )
    return ClientConfig(
        api_key=Secret(api_key_from(conn, environ)),
        base_url=base_url_from(conn.host, _extra(extras, "region")),
        workspace=_extra(extras, "workspace"),
        timeout=timeout,
        retry=RetryPolicy(max_retries=max_retries),
        allow_insecure_http=_as_bool(_extra(extras, "allow_insecure_http")),
        max_connections=max_connections,
    )
