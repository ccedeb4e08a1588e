"""The retry policy: pure decisions, shared by the sync and the async client.

Only calls that are safe to repeat are retried blindly. A create whose request may have
reached the server (sent, then no answer or a 5xx) is never repeated here: its flow
reconciles first (see ``endpoints.creates``).
"""

from __future__ import annotations

import email.utils
import random
import time
from collections.abc import Mapping
from dataclasses import dataclass

#: Statuses worth another try: throttling and the server-side failures.
RETRYABLE_STATUSES: frozenset[int] = frozenset({429, 500, 502, 503, 504})

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


def should_retry_status(status_code: int, *, idempotent: bool) -> bool:
    if idempotent:
        return status_code in RETRYABLE_STATUSES
    return status_code in NOT_PROCESSED_STATUSES


def should_retry_transport(*, request_sent: bool, idempotent: bool) -> bool:
    return idempotent or not request_sent


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
