"""Why the shared pool has 16 connections: 1,000 concurrent polls through one client.

One ``AsyncDashScopeClient`` (the triggers' shared client) sends 1,000 ``get_fine_tune``
calls at once, as a thousand triggers resumed together do, for several pool sizes. httpx
rescans its whole pool for every queued request and every connection for each request that
comes or goes, so a large pool costs CPU per request; a small one queues longer. Not part of
``make bench`` (run it on its own).
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path

from _common import BENCH_KEY, REPEATS, emulator_process, fmt, table
from bench_triggerer import create_jobs

from airflow_dashscope.client import AsyncDashScopeClient, ClientConfig, Secret

SIZES = (4, 8, 16, 32, 64)
CALLS = 1000


async def burst(base_url: str, job_ids: list[str], pool: int) -> tuple[float, float]:
    config = ClientConfig(api_key=Secret(BENCH_KEY), base_url=base_url, max_connections=pool)
    async with AsyncDashScopeClient(config) as client:
        await client.get_fine_tune(job_ids[0])  # connect once, outside the figure
        wall, cpu = time.perf_counter(), time.process_time()
        calls = (client.get_fine_tune(job_ids[i % len(job_ids)]) for i in range(CALLS))
        await asyncio.gather(*calls)
        return time.perf_counter() - wall, time.process_time() - cpu


def main() -> str:
    with (
        tempfile.TemporaryDirectory(prefix="bench-pool-") as tmp,
        emulator_process(max_jobs=100_000, job_seconds=86_400.0) as base_url,
    ):
        job_ids = create_jobs(base_url, 200, Path(tmp))
        runs: dict[int, list[tuple[float, float]]] = {size: [] for size in SIZES}
        for _ in range(REPEATS):
            for size in SIZES:
                runs[size].append(asyncio.run(burst(base_url, job_ids, size)))
    rows = [
        [str(size), fmt([w for w, _ in r], 2), fmt([1000 * c / CALLS for _, c in r], 2)]
        for size, r in runs.items()
    ]
    header = ["max_connections", f"wall s for {CALLS} calls", "client CPU ms per call"]
    return "### Pool size\n\n" + table(header, rows) + f"\n\nmin / median of {REPEATS}.\n"


if __name__ == "__main__":
    print(main())
