"""One rule for every call that makes something (a job, a deployment, an export, an upload).

Such a call is not safe to send twice blindly: a second create can cost money or store a
second copy. When an attempt fails *ambiguously* (sent, then no answer, or a 5xx: the service
may have acted), :func:`create_once` looks the resource up before it fails or sends again, on
every attempt, the last one included. A Conflict that follows an ambiguous attempt is looked
up the same way (it usually means the first attempt went through).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from airflow_dashscope.client.errors import (
    ConflictError,
    DashScopeError,
    DashScopeTransportError,
    InternalServerError,
)
from airflow_dashscope.client.request import ApiRequest, Backoff, Flow

T = TypeVar("T")


def is_ambiguous(error: DashScopeError) -> bool:
    """The request may have been acted on although no success came back."""
    if isinstance(error, DashScopeTransportError):
        return error.request_sent
    return isinstance(error, InternalServerError)


def create_once(
    request: Callable[[], ApiRequest],
    parse: Callable[[Any], T],
    lookup: Callable[[], Flow[T | None]],
    *,
    max_attempts: int | None = None,
    refusal_result: Callable[[DashScopeError], T | None] | None = None,
) -> Flow[T]:
    """Send ``request()`` until it succeeds, never making the resource twice.

    After an ambiguous failure ``lookup()`` runs first; what it finds is the result. Otherwise
    the create is sent again after the retry policy's backoff, up to ``max_attempts`` tries
    (None: as many as the client's retry policy allows). ``request`` is called for each try,
    so a flow can narrow what it sends (an upload resends only the files not found).
    ``refusal_result`` reads a refusal of a later try (such as "already exported") as the
    result of the earlier ambiguous one, when the lookup cannot tell.
    """
    attempt = 0
    ambiguous = False
    while True:
        try:
            body = yield request()
        except ConflictError as conflict:
            if not ambiguous:
                raise
            found = yield from lookup()
            if found is None:
                raise conflict
            return found
        except DashScopeError as error:
            if ambiguous and refusal_result is not None:
                result = refusal_result(error)
                if result is not None:
                    return result
            if not is_ambiguous(error):
                raise
            ambiguous = True
            found = yield from lookup()
            if found is not None:
                return found
            attempt += 1
            if max_attempts is not None and attempt >= max_attempts:
                raise error
            if not (yield Backoff(attempt - 1)):
                raise error
            continue
        return parse(body)
