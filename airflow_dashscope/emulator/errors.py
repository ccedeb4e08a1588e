"""Error type, the two wire shapes errors take, and the request id of the current request.

Handlers raise :class:`ApiError`; the app renders it as the DashScope body
``{"request_id", "code", "message"}`` or, under ``/compatible-mode``, as the OpenAI body
``{"error": {"message", "type", "param", "code"}}``. Default messages and the compatible-mode
codes follow ``vendor-docs-zh/error-code.md``.

Every answer's ``request_id`` is the id the wire middleware chose for the request, and the same
id is sent as the ``X-Request-ID`` header, so a log line can quote either.
"""

from __future__ import annotations

import contextvars
import uuid
from typing import Any

COMPATIBLE_PREFIX = "/compatible-mode/v1"

#: Default messages (error-code.md headings) for the codes the emulator answers with.
DEFAULT_MESSAGES: dict[str, str] = {
    "InvalidApiKey": "Invalid API-key provided.",
    "NotFound": "Not Found!",
    "WorkSpaceNotFound": "WorkSpace can not be found.",
    "InternalError": "Internal server error!",
    "Throttling": "Requests throttling triggered.",
    "Throttling.RateQuota": "Requests rate limit exceeded, please try again later.",
    "Throttling.AllocationQuota": "Allocated quota exceeded, please increase your quota limit.",
    "ServiceUnavailable": "The service is temporarily unavailable, please try again later.",
    "ModelUnavailable": "Model is unavailable, please try again later.",
}

#: HTTP status -> code used by injected faults.
STATUS_CODES: dict[int, str] = {
    400: "InvalidParameter",
    401: "InvalidApiKey",
    403: "AccessDenied",
    404: "NotFound",
    408: "RequestTimeOut",
    409: "Conflict",
    429: "Throttling.RateQuota",
    500: "InternalError",
    502: "BadGateway",
    503: "ServiceUnavailable",
    504: "GatewayTimeout",
}

_OPENAI_TYPES: dict[int, str] = {
    400: "invalid_request_error",
    401: "invalid_request_error",
    404: "invalid_request_error",
}

#: DashScope code -> (compatible-mode code, its message when the default one was used).
_OPENAI_CODES: dict[str, tuple[str, str | None]] = {
    "InvalidApiKey": ("invalid_api_key", "Incorrect API key provided."),
    "ModelNotFound": ("model_not_found", None),
    "Throttling": ("limit_requests", None),
    "Throttling.RateQuota": ("limit_requests", "You exceeded your current requests list."),
    "Throttling.AllocationQuota": (
        "insufficient_quota",
        "You exceeded your current quota, please check your plan and billing details.",
    ),
    "InternalError": ("internal_error", None),
}

_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "dashscope_emulator_request_id", default=None
)


def new_request_id() -> str:
    """The id of the request being served (set by the wire middleware), else a fresh one."""
    return _request_id.get() or str(uuid.uuid4())


def start_request() -> str:
    request_id = str(uuid.uuid4())
    _request_id.set(request_id)
    return request_id


class ApiError(Exception):
    """A failure with an HTTP status, a DashScope error code and a message."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.status = status
        self.code = code
        self.message = message if message is not None else DEFAULT_MESSAGES.get(code, code)
        self.headers = headers or {}
        super().__init__(f"{status} {code}: {self.message}")


def bad_request(message: str) -> ApiError:
    return ApiError(400, "InvalidParameter", message)


def unsupported(message: str) -> ApiError:
    return ApiError(400, "UnsupportedOperation", message)


def not_found(message: str = "Not Found!") -> ApiError:
    return ApiError(404, "NotFound", message)


def error_body(path: str, status: int, code: str, message: str) -> dict[str, Any]:
    """The body for an error on ``path``: OpenAI shape under compatible-mode, else DashScope."""
    if path.startswith(COMPATIBLE_PREFIX):
        openai_code, openai_message = _OPENAI_CODES.get(code, (code, None))
        if openai_message is not None and message == DEFAULT_MESSAGES.get(code):
            message = openai_message
        if status == 429:
            kind = openai_code
        else:
            kind = _OPENAI_TYPES.get(status, "server_error" if status >= 500 else "error")
        return {
            "error": {"message": message, "type": kind, "param": None, "code": openai_code},
            "request_id": new_request_id(),
        }
    return {"request_id": new_request_id(), "code": code, "message": message}
