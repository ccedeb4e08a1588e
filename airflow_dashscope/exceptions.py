"""The task-level errors of this provider: one small hierarchy shared by operators and sensors.

Two branches, because Airflow treats them differently:

* :class:`DashScopeTaskError` (an ``AirflowException``): something that may heal, such as a
  throttled create, a 5xx, a lost connection or a remote job that failed on the service's
  side. The task's ``retries`` apply.
* :class:`DashScopeFatalError` (an ``AirflowFailException``): something no retry can fix (bad
  training data, invalid parameters, an unknown model, a rejected key, a job that FAILED on
  its data). The task fails at once, before another paid attempt, and the message says what
  to change.

The client's own errors (``airflow_dashscope.client.errors``) stay free of Airflow; the
operators translate them with :func:`task_error_for`.
"""

from __future__ import annotations

try:  # Airflow >= 3.2: the task SDK owns them
    from airflow.sdk.exceptions import AirflowException, AirflowFailException
except ImportError:  # pragma: no cover - Airflow 3.1
    from airflow.exceptions import (  # type: ignore[no-redef]
        AirflowException,
        AirflowFailException,
    )

from airflow_dashscope.client.errors import (
    AuthenticationError,
    DashScopeAPIError,
    DashScopeConfigError,
    DashScopeError,
    InvalidParameterError,
    NotFoundError,
)

__all__ = [
    "AirflowException",
    "AirflowFailException",
    "DashScopeFatalError",
    "DashScopeRequestRejectedError",
    "DashScopeTaskError",
    "DashScopeWaitError",
    "InvalidRequestError",
    "InvalidTrainingDataError",
    "OverBudgetError",
    "RemoteJobFailedError",
    "UnknownModelError",
    "is_permanent_job_failure",
    "task_error_for",
]

#: Codes of a FAILED job that mean its input is wrong: the same request fails again.
PERMANENT_JOB_CODE_PREFIXES = (
    "Data",
    "InvalidParameter",
    "InvalidFile",
    "BadRequest",
    "Unsupported",
    "InvalidModel",
    "ModelNotFound",
)
#: HTTP answers to a create that a retry cannot change (429 and 5xx are not here).
PERMANENT_STATUSES = frozenset({400, 401, 403, 404})


class DashScopeTaskError(AirflowException):
    """A DashScope step failed in a way that a retry may fix."""


class DashScopeWaitError(DashScopeTaskError):
    """The awaited resource ended failed or canceled, or could not be looked at."""


class DashScopeFatalError(DashScopeTaskError, AirflowFailException):
    """A DashScope step failed in a way no retry can fix: the task fails at once."""


class InvalidTrainingDataError(DashScopeFatalError):
    """The training data breaks the format's rules (the message lists file:line problems)."""


class InvalidRequestError(DashScopeFatalError):
    """Parameters the service would reject (the message names each one)."""


class UnknownModelError(DashScopeFatalError):
    """A model that is neither a supported base model nor an earlier job's output."""


class OverBudgetError(DashScopeFatalError):
    """The estimated billed tokens exceed ``max_billed_tokens``."""


class DashScopeRequestRejectedError(DashScopeFatalError):
    """The service refused a create with 400/401/403/404: the request itself must change."""


class RemoteJobFailedError(DashScopeFatalError):
    """A fine-tune job FAILED with a data or parameter code: the same inputs fail again."""


def is_permanent_job_failure(code: str | None) -> bool:
    """True for a FAILED job's code that blames its inputs (data, parameters, model)."""
    return bool(code) and str(code).startswith(PERMANENT_JOB_CODE_PREFIXES)


def task_error_for(error: DashScopeError, doing: str) -> DashScopeTaskError:
    """The task error for a client error met while ``doing`` something (e.g. "creating the
    fine-tune job"): fatal for configuration and 400/401/403/404, retryable otherwise."""
    message = f"{doing[:1].upper()}{doing[1:]} failed: {error}"
    if isinstance(error, DashScopeConfigError):
        return InvalidRequestError(message)
    if isinstance(error, (AuthenticationError, InvalidParameterError, NotFoundError)) or (
        isinstance(error, DashScopeAPIError) and error.status_code in PERMANENT_STATUSES
    ):
        return DashScopeRequestRejectedError(message)
    return DashScopeTaskError(message)
