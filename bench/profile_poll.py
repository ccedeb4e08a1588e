"""Where a poll's CPU goes: one run of N triggers under cProfile, grouped by library.

    python bench/profile_poll.py [N] [http|https] [ours|peer]

Runs the triggerer child (``_triggerer_child.py``) once with ``BENCH_PROFILE`` against an
emulator in another process, then prints the CPU per poll by the library whose code ran
(self time of each function, attributed by its file) and the functions costing most.
"""

from __future__ import annotations

import json
import pstats
import ssl
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

from _common import Control, emulator_process
from bench_triggerer import JOB_SECONDS, PLANS, create_jobs, run_child

from airflow_dashscope.emulator.tls import loopback_certificates

GROUPS = (
    ("airflow_dashscope/", "this provider"),
    ("pydantic", "pydantic"),
    ("httpx/", "httpx"),
    ("httpcore/", "httpcore"),
    ("anyio/", "anyio"),
    ("h11/", "h11"),
    ("ssl.py", "ssl"),
    ("json/", "json"),
    ("asyncio/", "asyncio"),
    ("logging/", "logging"),
    ("structlog/", "structlog"),
    ("requests/", "requests"),
    ("urllib3/", "urllib3"),
    ("dashscope/", "dashscope SDK"),
    ("concurrent/", "threads"),
    ("threading.py", "threads"),
    ("airflow/", "airflow"),
)


def group_of(filename: str) -> str:
    for marker, name in GROUPS:
        if marker in filename:
            return name
    if filename.startswith("~") or filename.startswith("<"):
        return "builtins (C)"
    return "other Python"


def summary(stats_file: Path, polls: int, top: int = 25) -> str:
    stats = pstats.Stats(str(stats_file))
    by_group: dict[str, float] = defaultdict(float)
    rows = []
    for (filename, line, name), (_, calls, own, cumulative, _) in stats.stats.items():  # type: ignore[attr-defined]
        by_group[group_of(filename)] += own
        rows.append((own, calls, cumulative, f"{Path(filename).name}:{line} {name}"))
    total = sum(by_group.values())
    out = [f"profiled CPU {total:.2f} s over {polls} polls: {1000 * total / polls:.3f} ms/poll"]
    for name, own in sorted(by_group.items(), key=lambda item: -item[1]):
        out.append(f"  {name:<16} {1000 * own / polls:7.3f} ms/poll  {100 * own / total:5.1f} %")
    out.append("top functions by own time (µs per poll, calls per poll):")
    for own, calls, cumulative, where in sorted(rows, reverse=True)[:top]:
        out.append(
            f"  {1e6 * own / polls:8.1f} own {1e6 * cumulative / polls:8.1f} cum "
            f"{calls / polls:6.2f}x  {where}"
        )
    return "\n".join(out)


def main(n: int, scheme: str, impl: str) -> str:
    with tempfile.TemporaryDirectory(prefix="bench-profile-") as tmp_name:
        tmp = Path(tmp_name)
        certs = loopback_certificates(tmp / "tls")
        verify = (
            ssl.create_default_context(cafile=str(certs.ca_file)) if scheme == "https" else True
        )
        limits = {"max_jobs": 100_000, "job_seconds": JOB_SECONDS}
        with emulator_process(tls=certs if scheme == "https" else None, **limits) as url:
            ids = create_jobs(url, min(n, 1000) + 1, tmp, verify)
            jobs = tmp / "jobs.json"
            jobs.write_text(json.dumps(ids[1:]))
            ca = str(certs.ca_file)
            site = {
                "base_url": url,
                "env": {"SSL_CERT_FILE": ca, "REQUESTS_CA_BUNDLE": ca},
                "control": Control(url, verify=verify),
            }
            profile = tmp / "poll.prof"
            result = run_child(impl, n, site, jobs, profile=profile)
            site["control"].close()
            head = (
                f"{impl} N={n} {scheme}: window {PLANS[n][1]} s, {result['polls']} polls, "
                f"{result['cpu_ms_per_poll']:.2f} ms/poll with the profiler on (it costs)"
            )
            return head + "\n" + summary(profile, max(result["polls"], 1))


if __name__ == "__main__":
    args = sys.argv[1:]
    print(
        main(
            int(args[0]) if args else 1000,
            args[1] if len(args) > 1 else "http",
            args[2] if len(args) > 2 else "ours",
        )
    )
