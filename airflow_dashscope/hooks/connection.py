"""From an Airflow connection to a client configuration, without I/O.

The connection form (declared in ``get_provider_info``): the password is the API key, the
host the base URL; extras ``workspace``, ``region``, ``timeout``, ``max_retries``,
``allow_insecure_http`` and ``max_connections`` (sockets of the pool a triggerer's triggers
share; 16 by default). With no password, ``DASHSCOPE_API_KEY`` is used.

Mistakes are caught here, where the connection is read, rather than turning into a
misleading answer from the service: a base URL without a scheme (an SSL error against a
plain-http emulator) or without the ``/api/v1`` root (a 404 that reads like a bad id) is
refused with what to write instead, and an unknown extra key (``workspce``) is logged as a
warning naming the closest known key.
"""

from __future__ import annotations

import difflib
import logging
import os
from collections.abc import Mapping
from typing import Any, Protocol
from urllib.parse import urlsplit

from airflow_dashscope.client.config import (
    API_KEY_ENV,
    BEIJING_BASE_URL,
    ClientConfig,
    Secret,
    base_url_for_region,
)
from airflow_dashscope.client.errors import DashScopeConfigError
from airflow_dashscope.client.retry import RetryPolicy
from airflow_dashscope.hooks import defaults

#: The extras the connection reads; any other key is reported as a likely typo.
KNOWN_EXTRAS = (
    "workspace",
    "region",
    "timeout",
    "max_retries",
    "allow_insecure_http",
    "max_connections",
)
#: The prefix older connection forms write before each extra's name.
LEGACY_PREFIX = "extra__dashscope__"
API_ROOT = "/api/v1"

log = logging.getLogger(__name__)


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
        value = extras.get(f"{LEGACY_PREFIX}{name}")
    return None if value == "" else value


def _as_bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


def unknown_extra_warnings(extras: Mapping[str, Any]) -> list[str]:
    """One message per extra key the connection does not read, naming the closest known key."""
    messages = []
    for key in extras:
        name = key.removeprefix(LEGACY_PREFIX)
        if name in KNOWN_EXTRAS:
            continue
        close = difflib.get_close_matches(name.lower(), KNOWN_EXTRAS, n=1, cutoff=0.6)
        hint = f"did you mean {close[0]!r}?" if close else f"known: {', '.join(KNOWN_EXTRAS)}"
        messages.append(f"unknown extra {key!r} is ignored ({hint})")
    return messages


def check_base_url(url: str, conn_id: str = "dashscope_default") -> str:
    """``url`` without a trailing slash, if it is an http(s) URL ending in ``/api/v1``."""
    where = f"Connection {conn_id!r}: base URL {url!r}"
    if "://" not in url:
        raise DashScopeConfigError(
            f"{where} has no scheme: write https://{url.lstrip('/')} (or "
            f"http://127.0.0.1:<port>{API_ROOT} for the local emulator)."
        )
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise DashScopeConfigError(f"{where} must be an http(s) URL with a host.")
    path = parts.path.rstrip("/")
    if not path.endswith(API_ROOT):
        root = path.removesuffix("/compatible-mode/v1")
        suggestion = f"{parts.scheme}://{parts.netloc}{root}{API_ROOT}"
        raise DashScopeConfigError(
            f"{where} must end with {API_ROOT}, the native API root the provider calls "
            f"(e.g. {suggestion}); without it every request answers 404."
        )
    return url.rstrip("/")


def base_url_from(host: str | None, region: str | None, conn_id: str = "dashscope_default") -> str:
    """The host if set (checked), else the region's endpoint, else Beijing's."""
    if host and host.strip():
        return check_base_url(host.strip(), conn_id)
    if region:
        return base_url_for_region(region)
    return BEIJING_BASE_URL


def endpoint_from(
    conn: ConnectionLike, default_region: str | None = None
) -> tuple[str, str | None]:
    """``(base URL, workspace)`` of a connection: where requests go, without the API key."""
    extras = conn.extra_dejson or {}
    region = _extra(extras, "region") or default_region
    return base_url_from(conn.host, region, conn.conn_id), _extra(extras, "workspace")


def api_key_from(conn: ConnectionLike, environ: Mapping[str, str] | None = None) -> str:
    key = conn.password or (environ if environ is not None else os.environ).get(API_KEY_ENV)
    if not key:
        raise DashScopeConfigError(
            f"Connection {conn.conn_id!r} has no API key: set its password field, "
            f"or the {API_KEY_ENV} environment variable."
        )
    return key


def client_config_from(
    conn: ConnectionLike,
    environ: Mapping[str, str] | None = None,
    *,
    default_region: str | None = None,
) -> ClientConfig:
    """The client configuration of ``conn``; ``default_region`` (by default the deployment's
    ``[dashscope] region``) applies when neither the host nor the ``region`` extra is set."""
    extras = conn.extra_dejson or {}
    for message in unknown_extra_warnings(extras):
        log.warning("Connection %r: %s", conn.conn_id, message)
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
    base_url, workspace = endpoint_from(conn, default_region or defaults.default_region())
    return ClientConfig(
        api_key=Secret(api_key_from(conn, environ)),
        base_url=base_url,
        workspace=workspace,
        timeout=timeout,
        retry=RetryPolicy(max_retries=max_retries),
        allow_insecure_http=_as_bool(_extra(extras, "allow_insecure_http")),
        max_connections=max_connections,
        conn_id=conn.conn_id,
    )
