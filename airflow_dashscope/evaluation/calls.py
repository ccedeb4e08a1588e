"""Calling the models: bounded concurrency over the async client, deterministic decoding, and
backoff that a throttled account (429) is given as a whole.

The client already retries a call a few times (``client.retry``). Scoring hundreds of
examples can outlast that on a busy account, so a call the client gave up on is tried again
here, but only when the error's ``retryable`` (THE decision, ``client.errors``) says it can
succeed later; a rejected key, an unknown model or a bad parameter fails at once. A 429 makes
*every* worker wait (the server's ``Retry-After`` when it gives one), not just the one that
met it: the account is what is throttled.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from airflow_dashscope.client.errors import DashScopeAPIError, DashScopeError
from airflow_dashscope.client.retry import RetryPolicy

if TYPE_CHECKING:
    from airflow_dashscope.client import AsyncDashScopeClient

T = TypeVar("T")
R = TypeVar("R")

#: Greedy decoding with a fixed seed: the same prompt gets the same answer on a rerun, and
#: two models are compared on their best guess, not on sampling luck.
DETERMINISTIC = {"temperature": 0.0, "seed": 1234}
THROTTLED = 429


@dataclass(frozen=True)
class Answer:
    text: str
    input_tokens: int
    output_tokens: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
        }


@dataclass
class Usage:
    calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    retries: int = 0

    def add(self, answer: Answer) -> None:
        self.calls += 1
        self.input_tokens += answer.input_tokens
        self.output_tokens += answer.output_tokens

    def to_dict(self) -> dict[str, int]:
        return {
            "calls": self.calls,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "retries": self.retries,
        }


def decoding(max_tokens: int, parameters: Mapping[str, Any] | None) -> dict[str, Any]:
    """The generation parameters of every call: deterministic, capped, the user's last."""
    return {
        "result_format": "message",
        **DETERMINISTIC,
        "max_tokens": max_tokens,
        **(parameters or {}),
    }


class Caller:
    """Sends one chat call at a time per slot (``max_concurrency`` slots), with the backoff above.

    :param log: called with a message and its arguments (the task's logger).
    """

    def __init__(
        self,
        client: AsyncDashScopeClient | None,
        parameters: Mapping[str, Any],
        *,
        max_concurrency: int = 4,
        max_attempts: int = 5,
        backoff: float = 1.0,
        max_backoff: float = 30.0,
        log: Callable[..., None] | None = None,
    ) -> None:
        self.client = client
        self.parameters = dict(parameters)
        self.slots = asyncio.Semaphore(max_concurrency)
        #: The client's backoff curve, with this caller's patience (one curve, not two).
        self.policy = RetryPolicy(
            max_retries=max_attempts - 1, backoff=backoff, max_backoff=max_backoff
        )
        #: Usage by model id (the judge's included).
        self.usage: dict[str, Usage] = {}
        self.log = log or (lambda *args: None)
        self._resume_at = 0.0

    async def answer(
        self,
        model: str,
        messages: Sequence[Mapping[str, Any]],
        parameters: Mapping[str, Any] | None = None,
    ) -> Answer:
        """The model's answer to ``messages`` (``parameters`` update the decoding)."""
        asked = {**self.parameters, **(parameters or {})}
        attempt = 0
        while True:
            await self._wait_out_throttling()
            assert self.client is not None, "the client is set when the task runs"
            try:
                async with self.slots:
                    result = await self.client.generate(model, messages=messages, parameters=asked)
            except DashScopeError as error:
                attempt += 1
                delay = self._delay(error, attempt)
                if delay is None:
                    raise
                self.usage.setdefault(model, Usage()).retries += 1
                self.log("%s: %s; trying again in %.1f s", model, _first_line(error), delay)
                await asyncio.sleep(delay)
                continue
            usage = result.usage
            answer = Answer(
                result.text,
                (usage.input_tokens if usage else None) or 0,
                (usage.output_tokens if usage else None) or 0,
            )
            self.usage.setdefault(model, Usage()).add(answer)
            return answer

    def total(self) -> Usage:
        """Every model's usage summed."""
        total = Usage()
        for used in self.usage.values():
            total.calls += used.calls
            total.input_tokens += used.input_tokens
            total.output_tokens += used.output_tokens
            total.retries += used.retries
        return total

    def _delay(self, error: DashScopeError, attempt: int) -> float | None:
        """Seconds before the next try, or None when no try can succeed (or none is left)."""
        if not error.retryable:
            return None
        retry_after = error.retry_after if isinstance(error, DashScopeAPIError) else None
        delay = self.policy.delay(attempt - 1, retry_after)
        if delay is None:
            return None
        if isinstance(error, DashScopeAPIError) and error.status_code == THROTTLED:
            self._resume_at = max(self._resume_at, time.monotonic() + delay)
        return delay

    async def _wait_out_throttling(self) -> None:
        pause = self._resume_at - time.monotonic()
        if pause > 0:
            await asyncio.sleep(pause)


def _first_line(error: Exception) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0] if text else ''}"


async def bounded(
    items: Iterable[T], work: Callable[[T], Awaitable[R]], limit: int
) -> AsyncIterator[R]:
    """``work`` on each item, at most ``limit`` at once, results as they finish. Items are
    drawn only when a slot is free, so a long file is never all in memory; the first error
    cancels the rest and is raised as itself."""
    iterator = iter(items)
    running: set[asyncio.Task[R]] = set()
    try:
        while True:
            while len(running) < limit:
                item = next(iterator, _END)
                if item is _END:
                    break
                running.add(asyncio.ensure_future(work(item)))
            if not running:
                return
            done, running = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                yield task.result()
    finally:
        for task in running:
            task.cancel()
        if running:
            await asyncio.gather(*running, return_exceptions=True)


_END: Any = object()
