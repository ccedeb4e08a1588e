"""Calling the models over the wire: deterministic parameters, backoff that honours
``retryable`` and ``Retry-After``, bounded concurrency."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import pytest

from airflow_dashscope.client import AsyncDashScopeClient
from airflow_dashscope.client.errors import (
    BillingError,
    DashScopeError,
    InternalServerError,
    QuotaExceededError,
    RateLimitError,
)
from airflow_dashscope.emulator.runner import RunningEmulator
from airflow_dashscope.evaluation.calls import Caller, bounded, decoding

GENERATION = "POST /api/v1/services/aigc/text-generation/generation"
ASK = [{"role": "user", "content": "Hello?"}]


def answers(emu: RunningEmulator, n: int, **options: Any) -> tuple[list[str], Caller]:
    async def go() -> tuple[list[str], Caller]:
        async with AsyncDashScopeClient(api_key=emu.api_key, base_url=emu.base_url) as client:
            caller = Caller(client, decoding(64, None), **options)
            got = await asyncio.gather(*(caller.answer("qwen3-8b", ASK) for _ in range(n)))
            return [a.text for a in got], caller

    return asyncio.run(go())


def generations(emu: RunningEmulator) -> int:
    return int(emu.counters()["requests"].get(GENERATION, 0))


def test_decoding_is_deterministic_unless_told() -> None:
    assert decoding(100, None) == {
        "result_format": "message",
        "temperature": 0.0,
        "seed": 1234,
        "max_tokens": 100,
    }
    assert decoding(100, {"temperature": 0.7, "top_p": 0.8})["temperature"] == 0.7


def test_throttling_beyond_the_clients_own_retries_is_waited_out(
    dashscope_emulator: RunningEmulator,
) -> None:
    emu = dashscope_emulator
    emu.inject_fault(status=429, code="Throttling.RateQuota", retry_after=0.1, count=8)
    started = time.monotonic()
    texts, caller = answers(emu, 3, max_concurrency=1)
    assert len(texts) == 3 and len(set(texts)) == 1  # the same prompt, the same answer
    assert generations(emu) == 3 + 8
    assert caller.total().retries >= 1 and caller.total().calls == 3
    # Retry-After (0.1 s) was waited each time, not the exponential backoff (0.5 s, 1 s, ...).
    assert 0.6 <= time.monotonic() - started < 3


def test_a_quota_no_wait_can_fix_is_not_retried(dashscope_emulator: RunningEmulator) -> None:
    emu = dashscope_emulator
    emu.inject_fault(
        status=429,
        code="Throttling.AllocationQuota",
        message="Free allocated quota exceeded.",
        count=20,
    )
    with pytest.raises(QuotaExceededError):
        answers(emu, 1)
    assert generations(emu) == 1


def test_the_delay_policy() -> None:
    caller = Caller(None, {}, max_attempts=3, backoff=0.5)
    throttled = RateLimitError(
        "slow down", status_code=429, code="Throttling.RateQuota", retry_after=2.0
    )
    before = time.monotonic()
    assert caller._delay(throttled, 1) == 2.0
    assert caller._resume_at >= before + 2.0  # every worker waits, not only this one
    server = InternalServerError("oops", status_code=500)
    assert 0.5 <= (caller._delay(server, 1) or 0) <= 0.625
    assert 1.0 <= (caller._delay(server, 2) or 0) <= 1.25
    assert caller._delay(server, 3) is None  # attempts used up
    assert caller._delay(BillingError("pay", status_code=400, code="Arrearage"), 1) is None
    assert caller._delay(DashScopeError("config"), 1) is None


def test_bounded_keeps_at_most_limit_in_flight_and_draws_lazily() -> None:
    drawn: list[int] = []
    in_flight, peak = 0, 0

    def items() -> Iterator[int]:
        for i in range(20):
            drawn.append(i)
            yield i

    async def work(item: int) -> int:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0.001 * (item % 3))
        in_flight -= 1
        return item * 2

    async def go() -> list[int]:
        out = []
        async for result in bounded(items(), work, 4):
            out.append(result)
            assert len(drawn) <= len(out) + 4
        return out

    assert sorted(asyncio.run(go())) == [i * 2 for i in range(20)] and peak == 4


def test_bounded_stops_at_the_first_error() -> None:
    started: list[int] = []

    async def work(item: int) -> int:
        started.append(item)
        if item == 2:
            raise ValueError("bad item")
        await asyncio.sleep(1)
        return item

    async def go() -> None:
        async for _ in bounded(range(100), work, 3):
            pass

    began = time.monotonic()
    with pytest.raises(ValueError, match="bad item"):
        asyncio.run(go())
    assert time.monotonic() - began < 0.5 and len(started) == 3
