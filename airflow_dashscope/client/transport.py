"""What both clients do around one HTTP exchange, as pure functions.

Building the httpx arguments, turning an answer into a body or an error, and deciding
whether to try again live here once; the clients only send and sleep.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator, Mapping
from typing import IO, Any

import httpx

from airflow_dashscope.client.config import WORKSPACE_HEADER, ClientConfig
from airflow_dashscope.client.errors import (
    BaseUrlError,
    DashScopeAPIError,
    DashScopeError,
    DashScopeTransportError,
    UnexpectedAnswerError,
    WorkspaceNotFoundError,
    error_class_for,
)
from airflow_dashscope.client.request import ApiRequest
from airflow_dashscope.client.retry import parse_retry_after, should_retry


def request_url(config: ClientConfig, request: ApiRequest) -> str:
    root = config.base_url if request.root == "native" else config.compatible_base_url
    return root.rstrip("/") + request.path


def request_kwargs(
    config: ClientConfig, request: ApiRequest, opened: list[tuple[str, tuple[str, IO[bytes]]]]
) -> dict[str, Any]:
    """Keyword arguments for ``httpx.Client.build_request``; uploads stream from ``opened``."""
    kwargs: dict[str, Any] = {"method": request.method, "url": request_url(config, request)}
    if request.params:
        kwargs["params"] = {k: v for k, v in request.params.items() if v is not None}
    if request.json is not None:
        kwargs["json"] = request.json
    if request.form:
        kwargs["data"] = dict(request.form)
    if opened:
        kwargs["files"] = [
            (field, (name, handle, "application/octet-stream")) for field, (name, handle) in opened
        ]
    if request.headers:
        kwargs["headers"] = dict(request.headers)
    return kwargs


def decode_body(response: httpx.Response) -> Any:
    if not response.content:
        return None
    try:
        return response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None


#: Path roots a DashScope request is sent under; a 404 elsewhere means a wrong base URL.
API_ROOTS = ("/api/v1/", "/compatible-mode/v1/")


def api_error(
    status_code: int,
    headers: Mapping[str, str],
    body: Any,
    text: str = "",
    *,
    request: httpx.Request | None = None,
) -> DashScopeAPIError:
    """The exception for an error answer, from the DashScope or the OpenAI error shape.

    The request id comes from the body, else the ``X-Request-ID`` header. ``request`` (when
    known) names the workspace of a ``WorkSpaceNotFound`` and tells a 404 for a misplaced
    base URL from a 404 for a wrong id.
    """
    payload = body if isinstance(body, dict) else {}
    nested = payload.get("error") if isinstance(payload.get("error"), dict) else None
    source = nested or payload
    # The OpenAI shape may leave ``code`` null and name the error in ``type``.
    raw_code = source.get("code") or (nested or {}).get("type")
    code = str(raw_code) if raw_code else None
    message = str(source.get("message") or (text[:200] if text else "") or "no message")
    request_id = payload.get("request_id") or headers.get("x-request-id")
    details: dict[str, Any] = {
        "status_code": status_code,
        "code": code,
        "request_id": str(request_id) if request_id else None,
        "body": body,
        "retry_after": parse_retry_after(headers),
    }
    cls = error_class_for(status_code, code, message)
    if cls is WorkspaceNotFoundError:
        workspace = request.headers.get(WORKSPACE_HEADER) if request is not None else None
        return WorkspaceNotFoundError(message, workspace=workspace, **details)
    if status_code == 404 and request is not None and not _under_api_root(request.url.path):
        return BaseUrlError(message, url=str(request.url.copy_with(query=None)), **details)
    return cls(message, **details)


def _under_api_root(path: str) -> bool:
    return any(root in path for root in API_ROOTS)


def interpret(response: httpx.Response, config: ClientConfig | None = None) -> Any:
    """The decoded body of a success; raises the matching :class:`DashScopeAPIError` otherwise
    (naming ``config``'s Airflow connection, when it has one)."""
    body = decode_body(response)
    if response.is_success:
        if body is None and response.content:
            raise _from(
                config,
                UnexpectedAnswerError(
                    f"DashScope answered HTTP {response.status_code} with a body that is not JSON."
                ),
            )
        return body
    raise _from(
        config,
        api_error(
            response.status_code, response.headers, body, response.text, request=response.request
        ),
    )


def _from(config: ClientConfig | None, error: DashScopeError) -> DashScopeError:
    """``error``, marked with the Airflow connection of the client that met it."""
    if config is not None and config.conn_id:
        error.conn_id = config.conn_id
    return error


DEFAULT_PORTS = {"http": 80, "https": 443}


def transport_error(exc: httpx.TransportError) -> DashScopeTransportError:
    """Wrap an httpx failure, naming the host and port it could not reach and telling
    whether the server may have seen the request."""
    not_sent = isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout))
    kind = type(exc).__name__
    host, port, call = "", None, ""
    if _has_request(exc):
        url = exc.request.url
        host, port = url.host, url.port or DEFAULT_PORTS.get(url.scheme)
        call = f"\n  {exc.request.method} {url.path}"
    where = f" at {host}:{port}" if host else ""
    answer = "the request was not sent" if not_sent else "no answer to the request"
    error = DashScopeTransportError(
        f"Cannot reach DashScope{where} ({answer}): {kind}: {exc}{call}",
        request_sent=not not_sent,
        host=host,
        port=port,
    )
    error.__cause__ = exc
    return error


@contextlib.contextmanager
def transport_errors(config: ClientConfig | None = None) -> Iterator[None]:
    """httpx failures inside the block raised as :func:`transport_error` (sync and async
    clients alike: the block holds the send, or the read of the answer), marked with
    ``config``'s Airflow connection."""
    try:
        yield
    except httpx.TransportError as exc:
        raise transport_error_of(exc, config) from exc


def transport_error_of(exc: httpx.TransportError, config: ClientConfig | None) -> DashScopeError:
    """:func:`transport_error`, marked with ``config``'s Airflow connection."""
    return _from(config, transport_error(exc))


def _has_request(exc: httpx.TransportError) -> bool:
    try:
        exc.request  # noqa: B018 - raises RuntimeError when unset
    except RuntimeError:
        return False
    return True


def retry_delay(
    config: ClientConfig, request: ApiRequest, error: DashScopeError, attempt: int
) -> float | None:
    """Seconds to wait before trying ``request`` again, or None to raise ``error`` now."""
    if not should_retry(error, idempotent=request.idempotent):
        return None
    retry_after = error.retry_after if isinstance(error, DashScopeAPIError) else None
    return config.retry.delay(attempt, retry_after)
