"""Garbage collections of a triggerer over a minute: this provider against the peer.

A 12 s window (the triggerer bench) sees a full collection on one side and not the other by
chance: CPython starts one when the objects promoted to its oldest generation since the last
exceed a quarter of that generation, and a full collection walks the whole heap (the stall).
So this runs N = 1,000 queued-job triggers per side for ``BENCH_GC_SECONDS`` (default 60),
one after the other in fresh processes, and reports the collections by generation, the
worst collection, the worst loop lag after the first round, and what the young collections
promoted, by type (the profile: what to cut to collect less often).

    python bench/bench_gc.py [N]
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import bench_triggerer
from _common import PYTHON, emulator_process, machine, table

HERE = Path(__file__).parent
SECONDS = float(os.environ.get("BENCH_GC_SECONDS", "60"))
POLL = 5.0
SIDES = (("this provider", "ours"), ("to_thread peer", "peer"))


def run(impl: str, n: int, base_url: str, jobs: Path) -> dict:
    env = dict(os.environ, BENCH_PROMOTIONS="1")
    args = [impl, str(n), base_url, str(jobs), str(POLL), str(SECONDS)]
    done = subprocess.run(
        [PYTHON, str(HERE / "_triggerer_child.py"), *args],
        capture_output=True,
        text=True,
        timeout=SECONDS + 300,
        cwd=HERE,
        env=env,
    )
    if done.returncode:
        raise RuntimeError(f"{impl} failed:\n{done.stderr[-3000:]}")
    result: dict = json.loads(done.stdout.strip().splitlines()[-1])
    result["promotions"] = json.loads(done.stderr.strip().splitlines()[-1])
    return result


def main(n: int = 1000) -> str:
    with tempfile.TemporaryDirectory(prefix="bench-gc-") as tmp_name:
        tmp = Path(tmp_name)
        settings = {"max_jobs": 100_000, "job_seconds": bench_triggerer.JOB_SECONDS}
        with emulator_process(**settings) as url:
            ids = bench_triggerer.create_jobs(url, n + 1, tmp, True)
            jobs = tmp / "jobs.json"
            jobs.write_text(json.dumps(ids[1:]))  # job 0 trains; these queue behind it
            results = {name: run(impl, n, url, jobs) for name, impl in SIDES}
    rows, kinds = [], []
    for name, r in results.items():
        by_gen = r["gc_by_generation"]
        promoted = r["promotions"]
        rows.append(
            [
                name,
                " / ".join(str(count) for count, _ in by_gen),
                f"{1000 * r['gc_worst']:.0f}",
                f"{1000 * r['lag_steady']:.0f}",
                f"{promoted['promoted']:,}",
                f"{r['cpu_seconds']:.1f}",
                f"{r['heap_objects']:,}",
            ]
        )
        top = ", ".join(f"{kind} {count:,}" for kind, count in promoted["by_type"][:8])
        kinds.append(f"- {name}: {top}")
    return "\n".join(
        [
            f"### Garbage collections over {SECONDS:.0f} s, N = {n:,} queued jobs, "
            f"{POLL:.0f} s interval, HTTP",
            "",
            f"Machine: {machine()}",
            "",
            table(
                [
                    "side",
                    "collections gen 0 / 1 / 2",
                    "worst collection ms",
                    "worst lag after 1st round ms",
                    "promoted to gen 2 (last 2/3)",
                    "CPU s",
                    "heap objects",
                ],
                rows,
            ),
            "",
            "Promoted, by type (the most):",
            "",
            *kinds,
            "",
        ]
    )


if __name__ == "__main__":
    print(main(int(sys.argv[1]) if len(sys.argv) > 1 else 1000))
