"""Triggerer scale: N waiting fine-tune triggers in one event loop, ours against a peer.

For each N, each repetition runs ``ours`` (the real ``DashScopeFineTuneJobTrigger.run()``)
and the ``to_thread`` peer (see ``_triggerer_child.py``) one after the other, each in a
fresh process, against one emulator in a third process. The emulator counts the requests
and the TCP connections each run made; the child reports CPU, RSS growth, GC time and loop
lag. The jobs never end during the run (long ``job_seconds``), so every poll is a "nothing
changed" poll: the steady state of a busy triggerer.

    python bench/bench_triggerer.py [N ...]
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from _common import (
    BENCH_KEY,
    PYTHON,
    REPEATS,
    Control,
    emulator_process,
    fmt,
    requests_to,
    table,
)

HERE = Path(__file__).parent
#: N -> (poll interval s, seconds measured): at most a few polls each, bounded run time.
PLANS = {100: (2.0, 6.0), 1000: (5.0, 12.0), 5000: (10.0, 15.0)}
#: Distinct jobs polled (triggers share them beyond this); the emulator's create is slow.
JOB_CAP = int(os.environ.get("BENCH_JOBS", "1000"))
JOB_ROUTE = "GET /api/v1/fine-tunes/{job_id}"


def create_jobs(base_url: str, count: int, tmp: Path) -> list[str]:
    data = tmp / "train.jsonl"
    line = '{"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]}'
    data.write_text((line + "\n") * 20)
    headers = {"Authorization": f"Bearer {BENCH_KEY}"}
    with httpx.Client(base_url=base_url, headers=headers, timeout=120) as http:
        with data.open("rb") as handle:
            uploaded = http.post("/files", files={"files": ("train.jsonl", handle)}).json()
        file_id = uploaded["data"]["uploaded_files"][0]["file_id"]
        ids = []
        for index in range(count):
            body = {
                "model": "qwen3-8b",
                "training_file_ids": [file_id],
                "training_type": "sft",
                "job_name": f"bench-{index}",
            }
            answer = http.post("/fine-tunes", json=body)
            answer.raise_for_status()
            ids.append(answer.json()["output"]["job_id"])
    return ids


def run_child(impl: str, n: int, base_url: str, jobs_file: Path, control: Control) -> dict:
    poll, seconds = PLANS[n]
    before = control.counters()
    args = [impl, str(n), base_url, str(jobs_file), str(poll), str(seconds)]
    done = subprocess.run(
        [PYTHON, str(HERE / "_triggerer_child.py"), *args],
        capture_output=True,
        text=True,
        timeout=seconds + 300,
        cwd=HERE,
    )
    if done.returncode:
        raise RuntimeError(f"{impl} N={n} failed:\n{done.stderr[-3000:]}")
    after = control.counters()
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    polls = requests_to(after, JOB_ROUTE) - requests_to(before, JOB_ROUTE)
    result["polls"] = polls
    result["requests"] = after["requests_total"] - before["requests_total"] - 1  # counters call
    result["connections"] = after["connections"] - before["connections"]
    result["cpu_ms_per_poll"] = 1000 * result["cpu_seconds"] / max(polls, 1)
    result["gc_share"] = result["gc_seconds"] / max(result["cpu_seconds"], 1e-9)
    return result


def main(sizes: list[int]) -> str:
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="bench-triggerer-") as tmp_name:
        tmp = Path(tmp_name)
        limits = {"max_jobs": 100_000, "job_seconds": 86_400.0}
        with emulator_process(**limits) as base_url:
            control = Control(base_url)
            count = min(max(sizes), JOB_CAP)
            made = time.monotonic()
            job_ids = create_jobs(base_url, count, tmp)
            create_s = time.monotonic() - made
            results: dict[tuple[str, int], list[dict]] = {}
            for n in sizes:
                jobs_file = tmp / f"jobs-{n}.json"
                jobs_file.write_text(json.dumps(job_ids[: min(n, count)]))
                for _ in range(REPEATS):
                    for impl in ("ours", "peer"):
                        result = run_child(impl, n, base_url, jobs_file, control)
                        results.setdefault((impl, n), []).append(result)
            control.close()
    rows = []
    for (impl, n), runs in results.items():

        def col(key: str, scale: float = 1.0, digits: int = 1, runs: list = runs) -> str:
            return fmt([run[key] * scale for run in runs], digits)

        rows.append(
            [
                f"{n:,}",
                "this provider" if impl == "ours" else "to_thread peer",
                f"{PLANS[n][0]:g} s / {PLANS[n][1]:g} s",
                col("polls", digits=0),
                col("cpu_ms_per_poll", digits=2),
                col("gc_share", 100, 0) + " %",
                col("rss_kb_per_trigger", digits=1),
                col("connections", digits=0),
                col("lag_start", 1000, 0),
                col("lag_steady", 1000, 0),
            ]
        )
    header = [
        "N",
        "trigger",
        "poll / window",
        "polls",
        "CPU ms per poll",
        "GC share of CPU",
        "RSS KB per trigger",
        "TCP connections",
        "worst lag ms, 1st round",
        "worst lag ms, after",
    ]
    note = (
        f"Triggers poll {min(max(sizes), JOB_CAP):,} distinct jobs (created in {create_s:.0f} s); "
        f"each figure min / median of {REPEATS} runs; total {time.monotonic() - started:.0f} s."
    )
    return "### Triggerer scale\n\n" + table(header, rows) + "\n\n" + note + "\n"


if __name__ == "__main__":
    print(main([int(arg) for arg in sys.argv[1:]] or sorted(PLANS)))
