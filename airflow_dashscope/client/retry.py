"""The retry policy: pure decisions, shared by the sync and the async client.

A call is tried again only when two separate answers are yes: *can* it succeed later (the
error's ``retryable``, decided once in ``client.errors``) and is it *safe* to send again
(:func:`safe_to_repeat`). A create whose request may have reached the server (sent, then no
answer or a 5xx) is never repeated here: its flow reconciles first (``endpoints.creates``).
"""

from __future__ import annotations

import email.utils
import random
import time
from collections.abc import Mapping
from dataclasses import dataclass

from airflow_dashscope.client.errors import (
    DashScopeAPIError,
    DashScopeError,
    DashScopeTransportError,
)

#: Statuses that prove the server did not act on the request (safe to repeat a create).
NOT_PROCESSED_STATUSES: frozenset[int] = frozenset({429})


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with jitter: ``backoff * 2**attempt`` capped at ``max_backoff``,
    plus up to ``jitter`` of it at random; a server's ``Retry-After`` wins when given."""

    max_retries: int = 4
    backoff: float = 0.5
    max_backoff: float = 8.0
    jitter: float = 0.25
    #: A server asking to wait longer than this is not waited for (the call fails instead).
    max_retry_after: float = 60.0

    def backoff_delay(self, attempt: int) -> float:
        base = min(self.max_backoff, self.backoff * (2**attempt))
        return base + random.uniform(0, base * self.jitter)

    def delay(self, attempt: int, retry_after: float | None) -> float | None:
        """Seconds to wait before try ``attempt + 1``, or None to give up."""
        if attempt >= self.max_retries:
            return None
        if retry_after is not None:
            return retry_after if retry_after <= self.max_retry_after else None
        return self.backoff_delay(attempt)


def safe_to_repeat(error: DashScopeError, *, idempotent: bool) -> bool:
    """Sending the call again cannot do twice what it asked: it is idempotent, or the error
    proves the server did not act on it (never sent, or an answer that it was not
    processed). Says nothing about whether a retry can succeed: that is ``retryable``."""
    if idempotent:
        return True
    if isinstance(error, DashScopeTransportError):
        return not error.request_sent
    if isinstance(error, DashScopeAPIError):
        return error.status_code in NOT_PROCESSED_STATUSES
    return False


def should_retry(error: DashScopeError, *, idempotent: bool) -> bool:
    """Try the call again: it can succeed later and repeating it is safe."""
    return error.retryable and safe_to_repeat(error, idempotent=idempotent)


def parse_retry_after(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """Seconds the server asks us to wait (``retry-after-ms``, ``Retry-After`` seconds or date)."""
    millis = headers.get("retry-after-ms")
    if millis:
        try:
            return max(0.0, float(millis) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    current = time.time() if now is None else now
    return max(0.0, when.timestamp() - current)
