"""One small error hierarchy, keyed by the API's error codes.

Every API error carries the HTTP status, the service's ``code``, its ``message`` and the
``request_id`` (what Alibaba Cloud support asks for), and says in words what to do about it.
No error message ever contains the API key: messages are built from the response body only.
"""

from __future__ import annotations

from typing import Any


class DashScopeError(Exception):
    """Base of every error this package raises for DashScope calls."""


class DashScopeConfigError(DashScopeError, ValueError):
    """The client is configured in a way that cannot work or would be unsafe."""


class DashScopeTransportError(DashScopeError):
    """The request did not get an HTTP answer (connection refused, reset, timed out).

    ``request_sent`` tells whether the server may have received (and acted on) the request:
    a connect failure is safe to repeat, a read failure after sending is ambiguous.
    """

    def __init__(self, message: str, *, request_sent: bool) -> None:
        super().__init__(message)
        self.request_sent = request_sent


class DashScopeAPIError(DashScopeError):
    """The service answered with an error status."""

    #: What the user can do about it; subclasses refine it.
    hint = "See the message and the request id."

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        code: str | None = None,
        request_id: str | None = None,
        body: Any = None,
        retry_after: float | None = None,
    ) -> None:
        self.status_code = status_code
        self.code = code
        self.message = message
        self.request_id = request_id
        self.body = body
        self.retry_after = retry_after
        super().__init__(self._describe())

    def _describe(self) -> str:
        code = f" {self.code}" if self.code else ""
        request = f" (request_id={self.request_id})" if self.request_id else ""
        return f"DashScope HTTP {self.status_code}{code}: {self.message}{request}. {self.hint}"


class InvalidParameterError(DashScopeAPIError):
    hint = "Correct the request parameters named in the message."


class UnsupportedOperationError(DashScopeAPIError):
    hint = "The resource is not in a state that allows this operation; wait and retry."


class AuthenticationError(DashScopeAPIError):
    hint = (
        "Check the API key in the Airflow connection (password field) or DASHSCOPE_API_KEY, "
        "and the workspace id."
    )


class NotFoundError(DashScopeAPIError):
    hint = "Check the id (and the workspace it belongs to)."


class ConflictError(DashScopeAPIError):
    hint = "A resource with that name exists; choose another name or a suffix."


class ThrottlingError(DashScopeAPIError):
    hint = (
        "A platform limit was hit (rate, or at most 20 running-or-succeeded fine-tune jobs); "
        "retry later or delete jobs you no longer need."
    )


class InternalServerError(DashScopeAPIError):
    hint = "A service-side failure; retry later, or contact support with the request id."


_BY_CODE: dict[str, type[DashScopeAPIError]] = {
    "InvalidParameter": InvalidParameterError,
    "UnsupportedOperation": UnsupportedOperationError,
    "InvalidApiKey": AuthenticationError,
    "NotFound": NotFoundError,
    "ModelNotFound": NotFoundError,
    "Conflict": ConflictError,
    "Throttling": ThrottlingError,
    "InternalError": InternalServerError,
}

_BY_STATUS: dict[int, type[DashScopeAPIError]] = {
    400: InvalidParameterError,
    401: AuthenticationError,
    403: AuthenticationError,
    404: NotFoundError,
    409: ConflictError,
    429: ThrottlingError,
}


def error_class_for(status_code: int, code: str | None) -> type[DashScopeAPIError]:
    """The exception class for an error answer: by code (and its prefix), else by status."""
    if code:
        for candidate in (code, code.split(".", 1)[0]):
            if candidate in _BY_CODE:
                return _BY_CODE[candidate]
        if code.startswith("BadRequest"):
            return InvalidParameterError
    if status_code >= 500:
        return InternalServerError
    return _BY_STATUS.get(status_code, DashScopeAPIError)
