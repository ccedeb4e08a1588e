"""What the sync and async clients share: configuration and the httpx settings."""

from __future__ import annotations

import contextlib
import logging
import os
import ssl
import threading

import httpx

from airflow_dashscope.client import transport
from airflow_dashscope.client.config import API_KEY_ENV, BEIJING_BASE_URL, ClientConfig, Secret
from airflow_dashscope.client.errors import DashScopeError
from airflow_dashscope.client.request import ApiRequest

log = logging.getLogger("airflow_dashscope.client")


def resolve_config(
    config: ClientConfig | None,
    api_key: str | None,
    base_url: str | None,
    workspace: str | None,
) -> ClientConfig:
    if config is not None:
        return config
    key = api_key or os.environ.get(API_KEY_ENV, "")
    return ClientConfig(
        api_key=Secret(key), base_url=base_url or BEIJING_BASE_URL, workspace=workspace
    )


_tls_lock = threading.Lock()
_tls_context: ssl.SSLContext | None = None


def shared_tls_context() -> ssl.SSLContext:
    """The process's one verifying TLS context (httpx's defaults: certifi, ``SSL_CERT_*``).

    Loading the CA bundle costs tens of ms of CPU; httpx does it for every client it builds.
    A context is safe to share between clients and threads, so every client here uses this one.
    """
    global _tls_context
    with _tls_lock:
        if _tls_context is None:
            _tls_context = httpx.create_ssl_context()
        return _tls_context


def tls_context_ready() -> bool:
    return _tls_context is not None


def httpx_options(config: ClientConfig) -> dict[str, object]:
    """One pooled connection set per client; TLS verification always on."""
    return {
        "headers": config.headers(),
        "timeout": httpx.Timeout(config.timeout, connect=min(config.timeout, 10.0)),
        "limits": httpx.Limits(
            max_connections=config.max_connections,
            max_keepalive_connections=config.max_connections,
            keepalive_expiry=config.keepalive_expiry,
        ),
        "follow_redirects": False,
        "verify": shared_tls_context(),
    }


def log_retry(request: ApiRequest, error: DashScopeError, delay: float, attempt: int) -> None:
    log.warning(
        "DashScope %s failed; try %d in %.1fs:\n%s", request.label, attempt + 2, delay, error
    )


class ClientBase:
    config: ClientConfig
    _http: httpx.Client | httpx.AsyncClient

    def _build(self, stack: contextlib.ExitStack, request: ApiRequest) -> httpx.Request:
        """The httpx request, its uploads opened in ``stack`` (streamed, closed with it)."""
        opened = [
            (field, (part.filename, stack.enter_context(part.open())))
            for field, part in request.uploads
        ]
        return self._http.build_request(**transport.request_kwargs(self.config, request, opened))

    def __repr__(self) -> str:
        workspace = f", workspace={self.config.workspace!r}" if self.config.workspace else ""
        return f"{type(self).__name__}(base_url={self.config.base_url!r}{workspace})"
