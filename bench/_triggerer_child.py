"""One triggerer-like process: N triggers in one event loop for a fixed time; prints JSON.

    python bench/_triggerer_child.py {ours|peer|peer-design} N BASE_URL JOB_IDS_FILE \
        POLL_INTERVAL SECONDS

``ours`` runs the real ``DashScopeFineTuneJobTrigger.run()``; the peers are triggers written
the way the official Anthropic provider writes its batch trigger (and the OpenAI one, minus
its call made straight on the loop): one hook per trigger, and per poll blocking calls of
the official ``dashscope`` SDK in ``asyncio.to_thread``.

* ``peer`` sends **the same requests as ours**: the job, and its new log lines only once the
  job has left PENDING/QUEUING (a queued job has no log). The fair comparison of a poll.
* ``peer-design`` sends the job and its logs on every poll, as the official triggers would:
  the comparison of the two designs, not of what one request costs.

All are driven as Airflow's triggerer drives them: one task per trigger iterating ``run()``.
Measured here: RSS growth, CPU time, garbage-collection time, and the event loop's worst
lag (a 10 ms ticker), split at 1.5 poll intervals (the end of either side's first round:
the peer looks at once, ours spreads its first looks over 0.5-1.5 intervals). Over HTTPS
both trust the emulator's CA through ``SSL_CERT_FILE`` / ``REQUESTS_CA_BUNDLE``, set by the
parent. ``BENCH_PROFILE=path`` writes a cProfile of the window there.
"""

from __future__ import annotations

import asyncio
import gc
import json
import logging
import os
import sys
import time
from collections.abc import AsyncIterator
from typing import Any

from _common import BENCH_KEY, rss_kb

IMPL, N, BASE_URL, JOBS_FILE = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
POLL, SECONDS = float(sys.argv[5]), float(sys.argv[6])
EXTRA = {"max_connections": os.environ["BENCH_POOL"]} if os.environ.get("BENCH_POOL") else {}
os.environ["AIRFLOW_CONN_DASHSCOPE_DEFAULT"] = json.dumps(
    {"conn_type": "dashscope", "host": BASE_URL, "password": BENCH_KEY, "extra": EXTRA}
)

import dashscope  # noqa: E402
import structlog  # noqa: E402
from airflow.sdk import BaseHook  # noqa: E402
from airflow.triggers.base import BaseTrigger, TriggerEvent  # noqa: E402
from dashscope import FineTunes  # noqa: E402

from airflow_dashscope.triggers.fine_tune import DashScopeFineTuneJobTrigger  # noqa: E402

dashscope.base_http_api_url = BASE_URL
TERMINAL = {"SUCCEEDED", "FAILED", "CANCELED"}
NO_LOG_YET = {"PENDING", "QUEUING"}


class PeerHook:
    """Like the providers' hooks: the credential is looked up (blocking) on first use."""

    def __init__(self, conn_id: str) -> None:
        self.conn_id = conn_id
        self._key: str | None = None

    def _api_key(self) -> str:
        if self._key is None:
            self._key = BaseHook.get_connection(self.conn_id).password
        return self._key

    def get_job(self, job_id: str) -> Any:
        return FineTunes.get(job_id, api_key=self._api_key())

    def get_logs(self, job_id: str, offset: int) -> Any:
        return FineTunes.logs(job_id, offset=offset, line=1000, api_key=self._api_key())


class ToThreadPeerTrigger(BaseTrigger):
    """``AnthropicBatchTrigger``'s shape: ``await asyncio.to_thread(hook.get_batch, id)``."""

    def __init__(
        self,
        job_id: str,
        poll_interval: float,
        conn_id: str = "dashscope_default",
        always_logs: bool = False,
    ):
        super().__init__()
        self.job_id, self.poll_interval, self.conn_id = job_id, poll_interval, conn_id
        self.always_logs = always_logs

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return f"{__name__}.ToThreadPeerTrigger", {
            "job_id": self.job_id,
            "poll_interval": self.poll_interval,
            "conn_id": self.conn_id,
            "always_logs": self.always_logs,
        }

    async def run(self) -> AsyncIterator[TriggerEvent]:
        hook = PeerHook(self.conn_id)
        offset, last = 1, None
        while True:
            job = await asyncio.to_thread(hook.get_job, self.job_id)
            status = job.output["status"]
            if self.always_logs or status not in NO_LOG_YET:
                logs = await asyncio.to_thread(hook.get_logs, self.job_id, offset)
                lines = (logs.output or {}).get("logs") or []
                offset += len(lines)
                for line in lines:
                    self.log.info("[%s] %s", self.job_id, line)
            if status != last:
                self.log.info("job %s is %s", self.job_id, status)
                last = status
            if status in TERMINAL:
                yield TriggerEvent({"status": status, "job_id": self.job_id})
                return
            await asyncio.sleep(self.poll_interval)


class GcTimer:
    def __init__(self) -> None:
        self.total = self.worst = 0.0
        self._started = 0.0
        self.by_generation = [[0, 0.0], [0, 0.0], [0, 0.0]]  # count, seconds
        gc.callbacks.append(self)

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            spent = time.perf_counter() - self._started
            self.total += spent
            self.worst = max(self.worst, spent)
            entry = self.by_generation[info["generation"]]
            entry[0] += 1
            entry[1] += spent


async def watch_lag(stop: asyncio.Event, split_at: float, lags: dict[str, float]) -> None:
    loop = asyncio.get_running_loop()
    while not stop.is_set():
        before = loop.time()
        await asyncio.sleep(0.01)
        lag = loop.time() - before - 0.01
        phase = "start" if loop.time() < split_at else "steady"
        lags[phase] = max(lags[phase], lag)


async def count_promotions(seconds: float) -> dict[str, Any]:
    """Objects moved into the oldest generation by the young collections, by type, over
    ``seconds``: what makes the collector run full collections (CPython starts one when the
    objects promoted since the last exceed a quarter of the old generation)."""
    from collections import Counter

    kinds: Counter[str] = Counter()
    where: Counter[str] = Counter()
    seen: set[int] = {id(o) for o in gc.get_objects(2)}
    counts = {"young_collections": 0, "full_collections": 0}

    def callback(phase: str, info: dict[str, int]) -> None:
        nonlocal seen
        if phase != "stop" or info["generation"] == 0:
            return
        current = gc.get_objects(2)
        if info["generation"] == 2:
            counts["full_collections"] += 1
        else:
            counts["young_collections"] += 1
            new = [o for o in current if id(o) not in seen]
            kinds.update(type(o).__qualname__ for o in new)
            if os.environ.get("BENCH_PROMOTIONS") == "where":
                import tracemalloc

                for o in new[:: max(1, len(new) // 2000)]:
                    tb = tracemalloc.get_object_traceback(o)
                    if tb is not None:
                        frames = " < ".join(
                            f"{'/'.join(f.filename.rsplit('/', 2)[-2:])}:{f.lineno}"
                            for f in list(tb)[-3:]
                        )
                        where[f"{type(o).__qualname__} @ {frames}"] += 1
        seen = {id(o) for o in current}

    gc.callbacks.append(callback)
    await asyncio.sleep(seconds)
    gc.callbacks.remove(callback)
    return {
        **counts,
        "promoted": sum(kinds.values()),
        "by_type": kinds.most_common(30),
        **({"where": where.most_common(40)} if where else {}),
    }


async def drive(trigger: BaseTrigger, events: list[Any]) -> None:
    async for event in trigger.run():  # as the triggerer's runner does
        events.append(event)


async def main(job_ids: list[str]) -> dict[str, Any]:
    # Both log alike (status changes, remote log lines); the figures are about polling.
    logging.disable(logging.INFO)
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    loop = asyncio.get_running_loop()
    # A triggerer has looked up connections before: warm that path (imports) for both.
    await BaseHook.aget_connection("dashscope_default")
    BaseHook.get_connection("dashscope_default")
    gc.collect()
    rss_before, cpu_before = rss_kb(), time.process_time()
    timer = GcTimer()
    lags = {"start": 0.0, "steady": 0.0}
    stop = asyncio.Event()
    started = loop.time()
    watcher = asyncio.create_task(watch_lag(stop, started + 1.5 * POLL, lags))
    events: list[Any] = []
    if IMPL == "ours":
        triggers: list[BaseTrigger] = [
            DashScopeFineTuneJobTrigger(job_ids[i % len(job_ids)], poll_interval=POLL)
            for i in range(N)
        ]
    else:
        always = IMPL == "peer-design"
        triggers = [
            ToThreadPeerTrigger(job_ids[i % len(job_ids)], POLL, always_logs=always)
            for i in range(N)
        ]
    profile = None
    if os.environ.get("BENCH_PROFILE"):
        import cProfile

        profile = cProfile.Profile(time.process_time)
        profile.enable()
    tasks = [asyncio.create_task(drive(trigger, events)) for trigger in triggers]
    if os.environ.get("BENCH_PROMOTIONS"):  # which objects the young collections promote
        await asyncio.sleep(SECONDS / 3)
        promoted = await count_promotions(SECONDS * 2 / 3)
        print(json.dumps(promoted), file=sys.stderr)
    elif os.environ.get("BENCH_SURVIVORS"):  # which new objects stay alive across a pause
        await asyncio.sleep(SECONDS / 2)
        gc.collect()
        known = {id(o) for o in gc.get_objects()}
        await asyncio.sleep(SECONDS / 2)
        gc.collect()
        from collections import Counter

        kinds = Counter(type(o).__qualname__ for o in gc.get_objects() if id(o) not in known)
        print(json.dumps(kinds.most_common(25)), file=sys.stderr)
    else:
        await asyncio.sleep(SECONDS)
    rss_after, cpu_after = rss_kb(), time.process_time()
    if profile is not None:
        profile.disable()
        profile.dump_stats(os.environ["BENCH_PROFILE"])
    stop.set()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, watcher, return_exceptions=True)
    return {
        "rss_kb_per_trigger": (rss_after - rss_before) / N,
        "cpu_seconds": cpu_after - cpu_before,
        "gc_seconds": timer.total,
        "gc_worst": timer.worst,
        "gc_by_generation": timer.by_generation,
        "heap_objects": len(gc.get_objects()),
        "lag_start": lags["start"],
        "lag_steady": lags["steady"],
        "events": len(events),
    }


if __name__ == "__main__":
    with open(JOBS_FILE) as jobs:
        print(json.dumps(asyncio.run(main(json.load(jobs)))))
