"""Status-to-event latency: from a job's status change to the trigger's event.

The real ``DashScopeFineTuneJobTrigger.run()`` waits on a job of the emulator (another
process); after a random part of one poll interval the job is failed through the control
API, and the time until the trigger yields its event is measured. Expected: about half the
poll interval on average, at most one interval plus one request.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import tempfile
import time
from pathlib import Path

from _common import BENCH_KEY, REPEATS, Control, emulator_process, fmt, table
from bench_triggerer import create_jobs

INTERVALS = (0.5, 1.0, 2.0)


async def one_wait(job_id: str, interval: float, control: Control) -> float:
    from airflow_dashscope.triggers.fine_tune import DashScopeFineTuneJobTrigger

    trigger = DashScopeFineTuneJobTrigger(job_id, poll_interval=interval)
    events = trigger.run()
    pending = asyncio.ensure_future(events.__anext__())
    await asyncio.sleep(interval * (1 + random.random()))  # after the first poll, any phase
    await asyncio.to_thread(control.fail_job, job_id)
    changed = time.perf_counter()
    event = await pending
    latency = time.perf_counter() - changed
    assert event.payload["status"] == "failed", event.payload
    await events.aclose()
    return latency


def main() -> str:
    random.seed(13)
    with (
        tempfile.TemporaryDirectory(prefix="bench-latency-") as tmp,
        emulator_process(max_jobs=100_000, job_seconds=86_400.0) as base_url,
    ):
        os.environ["AIRFLOW_CONN_DASHSCOPE_DEFAULT"] = json.dumps(
            {"conn_type": "dashscope", "host": base_url, "password": BENCH_KEY}
        )
        control = Control(base_url)
        jobs = iter(create_jobs(base_url, REPEATS * len(INTERVALS), Path(tmp)))
        rows = []
        for interval in INTERVALS:
            latencies = [
                asyncio.run(one_wait(next(jobs), interval, control)) for _ in range(REPEATS)
            ]
            rows.append([f"{interval:g}", fmt([1000 * x for x in latencies], 0)])
        control.close()
    note = f"min / median of {REPEATS} waits per interval; the change lands at a random phase."
    header = ["poll interval s", "status change -> event, ms"]
    return "### Status-to-event latency\n\n" + table(header, rows) + "\n\n" + note + "\n"


if __name__ == "__main__":
    print(main())
