"""The async client's keep-alive connections: bounded by ``max_connections``, reused warm."""

from __future__ import annotations

import asyncio

from airflow_dashscope.client import AsyncDashScopeClient
from airflow_dashscope.client.config import ClientConfig, Secret
from airflow_dashscope.client.connections import LeanPool
from airflow_dashscope.client.retry import RetryPolicy
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


def test_a_silent_server_times_out_by_the_watchdog_with_no_timer_per_request() -> None:
    """A GET to a server that never answers fails with a read timeout after about the
    configured timeout, although httpcore arms no timer for it; many answered GETs leave no
    timer behind in the loop (the per-read timers were what the collector had to promote)."""
    from airflow_dashscope.client.errors import DashScopeTransportError

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(65536)  # the request, never answered
        await asyncio.sleep(30)
        writer.close()

    async def go() -> tuple[str, float]:
        server = await asyncio.start_server(silent, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        config = ClientConfig(
            api_key=Secret("sk-test"),
            base_url=f"http://127.0.0.1:{port}/api/v1",
            timeout=1.5,
            retry=RetryPolicy(max_retries=0),
        )
        started = asyncio.get_running_loop().time()
        try:
            async with AsyncDashScopeClient(config) as client:
                try:
                    await client.list_fine_tunes()
                except DashScopeTransportError as error:
                    return str(error), asyncio.get_running_loop().time() - started
                raise AssertionError("a silent server answered")
        finally:
            server.close()

    message, took = asyncio.run(go())
    assert "ReadTimeout" in message and 1.5 <= took < 4.5, (message, took)


def test_answered_gets_leave_no_timers_in_the_loop(dashscope_emulator: RunningEmulator) -> None:
    config = ClientConfig(
        api_key=Secret(dashscope_emulator.api_key), base_url=dashscope_emulator.base_url
    )

    async def go() -> int:
        loop = asyncio.get_running_loop()
        # Triggers asleep: asyncio drops cancelled timers only once they are half its heap,
        # so with 200 sleepers up to 200 cancelled ones would stay.
        asleep = [asyncio.create_task(asyncio.sleep(30)) for _ in range(200)]
        await asyncio.sleep(0)
        async with AsyncDashScopeClient(config) as client:
            for _ in range(60):
                await client.list_fine_tunes()
            # The loop's timer heap (private, read only here): beyond the sleepers, the
            # watchdog's one sleep and the first connection's connect timeout (httpcore's,
            # cancelled); 120 with a timer per read and write.
            scheduled = len(loop._scheduled) - len(asleep)  # type: ignore[attr-defined]
        for task in asleep:
            task.cancel()
        return scheduled

    assert asyncio.run(go()) <= 2
