"""Error type and the two wire shapes errors take.

Handlers raise :class:`ApiError`; the app renders it as the DashScope body
``{"request_id", "code", "message"}`` or, under ``/compatible-mode``, as the OpenAI body
``{"error": {"message", "type", "param", "code"}}``.
"""

from __future__ import annotations

import uuid
from typing import Any

COMPATIBLE_PREFIX = "/compatible-mode/v1"

#: Default messages for the codes the service documents.
DEFAULT_MESSAGES: dict[str, str] = {
    "InvalidApiKey": "Invalid API-key provided.",
    "NotFound": "Not Found!",
    "InternalError": "Internal server error!",
    "Throttling": "Requests rate limit exceeded, please try again later.",
    "ServiceUnavailable": "The service is temporarily unavailable, please try again later.",
}

#: HTTP status -> code used by injected faults.
STATUS_CODES: dict[int, str] = {
    400: "InvalidParameter",
    401: "InvalidApiKey",
    403: "AccessDenied",
    404: "NotFound",
    408: "RequestTimeOut",
    409: "Conflict",
    429: "Throttling",
    500: "InternalError",
    502: "BadGateway",
    503: "ServiceUnavailable",
    504: "GatewayTimeout",
}

_OPENAI_TYPES: dict[int, str] = {
    400: "invalid_request_error",
    401: "invalid_request_error",
    404: "invalid_request_error",
    429: "limit_requests",
}


#: DashScope code -> the code the compatible-mode endpoint reports.
_OPENAI_CODES: dict[str, str] = {
    "InvalidApiKey": "invalid_api_key",
    "ModelNotFound": "model_not_found",
}


def new_request_id() -> str:
    return str(uuid.uuid4())


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
        return {
            "error": {
                "message": message,
                "type": _OPENAI_TYPES.get(status, "server_error" if status >= 500 else "error"),
                "param": None,
                "code": _OPENAI_CODES.get(code, code),
            },
            "request_id": new_request_id(),
        }
    return {"request_id": new_request_id(), "code": code, "message": message}
