"""One small error hierarchy, keyed by the API's error codes.

Every API error carries the HTTP status, the service's ``code``, its ``message`` and the
``request_id`` (what Alibaba Cloud support asks for), and says in words what to do about it.
No error message ever contains the API key: messages are built from the response body only.
"""

from __future__ import annotations

from typing import Any

#: Statuses whose call can succeed later: throttling and the server-side failures.
RETRYABLE_STATUSES: frozenset[int] = frozenset({429, 500, 502, 503, 504})


class DashScopeError(Exception):
    """Base of every error this package raises for DashScope calls.

    :attr:`retryable` is the one answer to "can the same call succeed later?", read by the
    client's retry loop, the task (``exceptions.task_error_for``), the triggers and the
    sensors alike. Whether repeating a call is *safe* (a create that may have reached the
    server) is a separate question, answered by ``client.retry.safe_to_repeat``.
    """

    #: The Airflow connection of the client that met the error (set by the client when it
    #: knows one), so that the task's message can say which connection to check.
    conn_id: str | None = None

    @property
    def retryable(self) -> bool:
        return False


class DashScopeConfigError(DashScopeError, ValueError):
    """The client is configured in a way that cannot work or would be unsafe: only editing
    the connection (or the client's arguments) fixes it, so it is never retried."""


class UnexpectedAnswerError(DashScopeError):
    """The service answered, but not in the documented shape (a body that is not JSON, an
    upload answer without the file): a proxy or a passing fault, so worth another try."""

    @property
    def retryable(self) -> bool:
        return True


class DashScopeTransportError(DashScopeError):
    """The request did not get an HTTP answer (connection refused, reset, timed out).

    ``request_sent`` tells whether the server may have received (and acted on) the request:
    a connect failure is safe to repeat, a read failure after sending is ambiguous.
    ``host`` and ``port`` name where the request went.
    """

    def __init__(
        self, message: str, *, request_sent: bool, host: str = "", port: int | None = None
    ) -> None:
        super().__init__(message)
        self.request_sent = request_sent
        self.host = host
        self.port = port

    @property
    def retryable(self) -> bool:
        return True


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

    @property
    def retryable(self) -> bool:
        """Can trying the same call again later succeed? Throttling and server-side failures."""
        return self.status_code in RETRYABLE_STATUSES

    def _describe(self) -> str:
        """What to do first, then what the service said, then the ids support asks for, each
        on its own line: Airflow's log viewer does not wrap long lines."""
        answer = f"DashScope HTTP {self.status_code}" + (f" {self.code}" if self.code else "")
        if self.request_id:
            answer += f" (request_id={self.request_id})"
        return f"{self.hint}\n  {self.message}\n  {answer}"


class InvalidParameterError(DashScopeAPIError):
    hint = "Correct the request parameters named in the message."


class UnsupportedOperationError(DashScopeAPIError):
    hint = "The resource is not in a state that allows this operation (see below)."


class AuthenticationError(DashScopeAPIError):
    hint = (
        "Check the API key in the Airflow connection (password field) or DASHSCOPE_API_KEY, "
        "and the workspace id."
    )


class NotFoundError(DashScopeAPIError):
    hint = "Check the id (and the workspace it belongs to)."


class ConflictError(DashScopeAPIError):
    hint = "A resource with that name exists; choose another name or a suffix."


class SuffixRequiredError(ConflictError):
    """409: the model already has a deployment under this name (the first deployment of a
    model may omit ``suffix``; every further one needs its own)."""

    hint = (
        "Deploy it again with suffix= (at most 8 characters, unique), or use the existing "
        "deployment."
    )


class ThrottlingError(DashScopeAPIError):
    hint = "Throttled by the service: retried with backoff; if it persists, call less often."


class RateLimitError(ThrottlingError):
    """429 ``Throttling.RateQuota`` / ``LimitRequests`` / ``limit_requests`` /
    ``Throttling.BurstRate``: too many calls per second or minute. Passes with time."""

    hint = "Too many requests per second or minute; retried with backoff, or call less often."


class QuotaExceededError(ThrottlingError):
    """429 ``Throttling.AllocationQuota`` / ``insufficient_quota``.

    The error-code page gives two causes: tokens per second or minute over the model's quota
    (passes with the next window, so retried) and a used-up free quota on a model without
    pay-as-you-go (no retry helps: :attr:`retryable` is False).
    """

    hint = (
        "A quota was exceeded: wait for the next minute, or raise the model's TPM quota in "
        "the console; an exhausted free quota needs a paid model or plan."
    )

    #: Messages of the page's causes that no waiting can fix (count limits are
    #: :class:`ResourceLimitError`, chosen by ``error_class_for``).
    PERMANENT_MARKERS = ("free allocated quota", "free tier")

    @property
    def retryable(self) -> bool:
        text = self.message.lower()
        permanent = any(marker in text for marker in self.PERMANENT_MARKERS)
        return self.status_code == 429 and not permanent


class ResourceLimitError(QuotaExceededError):
    """429 for a cap on how many resources an account keeps: "Only 20 fine-tune job in running
    or succeeded allowed per user", "Too many fine-tune job in running" (error-code.md gives
    both one cause and one remedy: delete what is no longer used), "Upload file number exceed
    limit" / "Upload file capacity exceed limit" (10000 files, 100 GB) and the voice caps.
    Time does not free a slot, so no retry helps: :attr:`retryable` is False."""

    hint = (
        "An account limit on how many resources exist was reached (named below); no retry "
        "helps. Delete what is no longer needed (old fine-tune jobs and their models, "
        "uploaded files), e.g. with DashScopeDeleteFineTuneOperator or "
        "DashScopeDeleteFileOperator in a retention DAG, or ask Alibaba Cloud for a higher "
        "limit."
    )

    #: Lower-case fragments of the documented count and size limit messages.
    MARKERS = (
        "allowed per user",
        "too many fine-tune job",
        "file number exceed limit",
        "file capacity exceed limit",
        "voice limit exceeded",
        "voice storage limit exceeded",
        # model-customization-file-management-service.md, an upload's failed_uploads:
        "out of number",
        "out of space",
    )

    @classmethod
    def matches(cls, message: str) -> bool:
        text = message.lower()
        return any(marker in text for marker in cls.MARKERS)

    @property
    def retryable(self) -> bool:
        return False


class BillingError(DashScopeAPIError):
    """The account cannot pay for this (unpaid bill, unpurchased commodity, free tier only):
    ``CommodityNotPurchased``, ``PrepaidBillOverdue``, ``PostpaidBillOverdue``,
    ``AllocationQuota.FreeTierOnly``, ``Arrearage``. No retry can fix it."""

    hint = "Settle the account's billing in the Model Studio console, then run again."

    @property
    def retryable(self) -> bool:
        return False


class InternalServerError(DashScopeAPIError):
    hint = "A service-side failure; retry later, or contact support with the request id."


class WorkspaceNotFoundError(NotFoundError, DashScopeConfigError):
    """404 ``WorkSpaceNotFound``: the ``X-DashScope-WorkSpace`` sent names no workspace."""

    def __init__(self, message: str, *, workspace: str | None = None, **kwargs: Any) -> None:
        self.workspace = workspace
        named = f"{workspace!r}" if workspace else "sent"
        self.hint = (
            f"The workspace {named} does not exist for this API key (or this region): set the "
            "connection's workspace extra to a workspace id of this account, or leave it "
            "empty for the default workspace."
        )
        super().__init__(message, **kwargs)


class BaseUrlError(NotFoundError, DashScopeConfigError):
    """A 404 for a request sent outside ``/api/v1``: the base URL, not the id, is wrong."""

    def __init__(self, message: str, *, url: str = "", **kwargs: Any) -> None:
        self.url = url
        self.hint = (
            f"The request went to {url}, which is not under /api/v1: the base URL looks "
            "wrong. Use e.g. https://dashscope.aliyuncs.com/api/v1 (or leave the host empty "
            "and set the region)."
        )
        super().__init__(message, **kwargs)


_BY_CODE: dict[str, type[DashScopeAPIError]] = {
    "InvalidParameter": InvalidParameterError,
    "UnsupportedOperation": UnsupportedOperationError,
    "InvalidApiKey": AuthenticationError,
    "invalid_api_key": AuthenticationError,
    "NotFound": NotFoundError,
    "ModelNotFound": NotFoundError,
    "model_not_found": NotFoundError,
    "WorkSpaceNotFound": WorkspaceNotFoundError,
    "Conflict": ConflictError,
    "Throttling": ThrottlingError,
    "Throttling.RateQuota": RateLimitError,
    "Throttling.BurstRate": RateLimitError,
    "LimitRequests": RateLimitError,
    "limit_requests": RateLimitError,
    "limit_burst_rate": RateLimitError,
    "Throttling.AllocationQuota": QuotaExceededError,
    "insufficient_quota": QuotaExceededError,
    "CommodityNotPurchased": BillingError,
    "PrepaidBillOverdue": BillingError,
    "PostpaidBillOverdue": BillingError,
    "Arrearage": BillingError,
    "AllocationQuota": BillingError,
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


def error_class_for(
    status_code: int, code: str | None, message: str = ""
) -> type[DashScopeAPIError]:
    """The exception class for an error answer: by code (and its prefix), else by status;
    an answer naming a count or size limit is a :class:`ResourceLimitError` whatever its
    code (the page does not give every such limit's status)."""
    cls = _by_code(code) or _by_status(status_code)
    if cls is ConflictError and "suffix" in message.lower():
        return SuffixRequiredError
    if ResourceLimitError.matches(message):
        return ResourceLimitError
    return cls


def _by_code(code: str | None) -> type[DashScopeAPIError] | None:
    if not code:
        return None
    for candidate in (code, code.split(".", 1)[0]):
        if candidate in _BY_CODE:
            return _BY_CODE[candidate]
    if code.startswith("BadRequest"):
        return InvalidParameterError
    return None


def _by_status(status_code: int) -> type[DashScopeAPIError]:
    if status_code >= 500:
        return InternalServerError
    return _BY_STATUS.get(status_code, DashScopeAPIError)


def is_gone(error: DashScopeError) -> bool:
    """The resource no longer exists: a 404, or the files API's 400 "File not found." (an
    unknown file id is not a 404 on that API). A delete that meets it has nothing to do."""
    if isinstance(error, NotFoundError):
        return True
    return isinstance(error, InvalidParameterError) and "not found" in error.message.lower()
