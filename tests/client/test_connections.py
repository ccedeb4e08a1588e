"""The async client's keep-alive connections: bounded by ``max_connections``, reused warm."""

from __future__ import annotations

import asyncio

from airflow_dashscope.client import AsyncDashScopeClient
from airflow_dashscope.client.config import ClientConfig, Secret
from airflow_dashscope.client.connections import LeanPool
from airflow_dashscope.emulator.runner import RunningEmulator


def test_many_concurrent_gets_use_at_most_the_pool(dashscope_emulator: RunningEmulator) -> None:
    config = ClientConfig(
        api_key=Secret(dashscope_emulator.api_key),
        base_url=dashscope_emulator.base_url,
        max_connections=4,
    )

    async def go() -> tuple[int, int]:
        async with AsyncDashScopeClient(config) as client:
            pool = client._http._transport._pool  # type: ignore[attr-defined]
            assert isinstance(pool, LeanPool)
            for _ in range(3):  # three rounds of 50 at once: the same warm connections
                await asyncio.gather(*(client.list_fine_tunes() for _ in range(50)))
            return len(pool.connections), len(pool._busy)

    before = dashscope_emulator.counters()["connections"]
    open_connections, busy = asyncio.run(go())
    assert 1 <= open_connections <= 4
    assert busy == 0  # every answer gave its connection back
    assert dashscope_emulator.counters()["connections"] - before <= 4
