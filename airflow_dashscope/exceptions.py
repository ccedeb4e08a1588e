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

import textwrap

from airflow_dashscope.client.errors import (
    AuthenticationError,
    DashScopeAPIError,
    DashScopeConfigError,
    DashScopeError,
    DashScopeTransportError,
)
from airflow_dashscope.compat import AirflowException, AirflowFailException

__all__ = [
    "AirflowException",
    "AirflowFailException",
    "DashScopeConnectionError",
    "DashScopeFatalError",
    "DashScopeRequestRejectedError",
    "DashScopeTaskError",
    "DashScopeWaitError",
    "InvalidRequestError",
    "InvalidTrainingDataError",
    "OverBudgetError",
    "RemoteJobFailedError",
    "UnknownModelError",
    "connection_error",
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
#: How to start the local emulator, for a connection that cannot reach its host.
EMULATOR_COMMAND = "python -m airflow_dashscope.emulator --port <port>"


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


class DashScopeConnectionError(InvalidRequestError, DashScopeConfigError):
    """The Airflow connection cannot work (bad base URL, no key, unknown workspace): only
    editing it helps, so the task fails at once. Also a ``DashScopeConfigError``, so code
    that expects the client's configuration error (a trigger, a caller) still catches it."""


class DashScopeRequestRejectedError(DashScopeFatalError):
    """The service refused the call in a way no retry changes (400/401/403/404, a resource
    limit, billing): the request, the account or the connection must change."""


class RemoteJobFailedError(DashScopeFatalError):
    """A fine-tune job FAILED with a data or parameter code: the same inputs fail again."""


def is_permanent_job_failure(code: str | None) -> bool:
    """True for a FAILED job's code that blames its inputs (data, parameters, model)."""
    return bool(code) and str(code).startswith(PERMANENT_JOB_CODE_PREFIXES)


def connection_error(error: DashScopeConfigError, conn_id: str) -> DashScopeConnectionError:
    """The task error for a connection that cannot work, saying which one to edit."""
    failure = DashScopeConnectionError(
        f"Edit the Airflow connection {conn_id!r} (no retry can fix this):\n"
        + textwrap.indent(str(error), "  ")
    )
    failure.conn_id = conn_id
    return failure


def task_error_for(error: DashScopeError, doing: str) -> DashScopeTaskError:
    """The task error for a client error met while ``doing`` something (e.g. "creating the
    fine-tune job"). Fatal exactly when ``error.retryable`` is False (the one decision, made in
    ``client.errors``); the class says why, and the message says what to check first."""
    if isinstance(error, DashScopeTaskError):  # already decided (a connection error)
        return error
    where = f" (Airflow connection {error.conn_id!r})" if error.conn_id else ""
    lines = [f"{doing[:1].upper()}{doing[1:]} failed{where}:", *_advice(error)]
    lines.append(textwrap.indent(str(error), "  "))
    message = "\n".join(lines)
    if error.retryable:
        return DashScopeTaskError(message)
    if isinstance(error, DashScopeConfigError):
        return DashScopeConnectionError(message)
    if isinstance(error, DashScopeAPIError):
        return DashScopeRequestRejectedError(message)
    return DashScopeFatalError(message)


def _advice(error: DashScopeError) -> list[str]:
    """What to check first, for the errors a connection's settings cause (short lines)."""
    conn = f"the Airflow connection {error.conn_id!r}" if error.conn_id else "the connection"
    if isinstance(error, DashScopeTransportError):
        where = f" at {error.host}:{error.port}" if error.host else ""
        return [
            f"  Is the service reachable{where}? Check the host of {conn}.",
            f"  For the local emulator: is it running? {EMULATOR_COMMAND}",
        ]
    if isinstance(error, (DashScopeConfigError, AuthenticationError)):
        return [f"  Edit {conn}."]
    return []
