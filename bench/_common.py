"""What the benchmarks share: the emulator in its own process, statistics, the machine.

Every figure is the min and the median of ``REPEATS`` runs taken side by side (the variants
interleaved in one run), on loopback only.
"""

from __future__ import annotations

import contextlib
import os
import platform
import statistics
import subprocess
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import httpx

REPEATS = int(os.environ.get("BENCH_REPEATS", "3"))
BENCH_KEY = "sk-bench-0123456789"
PYTHON = sys.executable

_LAUNCH = """
import signal, sys, threading, uvicorn
from airflow_dashscope.emulator.runner import run_emulator
settings = dict(arg.split("=", 1) for arg in sys.argv[1:])
settings = {
    k: v if k.startswith("ssl_") else float(v) if k.endswith("seconds") else int(v)
    for k, v in settings.items()
}
stop = threading.Event()
signal.signal(signal.SIGTERM, lambda *_: stop.set())
with run_emulator(api_key=None, **settings) as running:
    print(running.base_url, flush=True)
    stop.wait()
"""


@contextlib.contextmanager
def emulator_process(tls: Any = None, **settings: float) -> Iterator[str]:
    """An emulator in another process (``run_emulator`` with ``settings``); yields its URL.

    ``tls`` (``emulator.tls.LoopbackCertificates``) serves HTTPS with that certificate."""
    args = [f"{name}={value}" for name, value in settings.items()]
    if tls is not None:
        args += [f"ssl_certfile={tls.cert_file}", f"ssl_keyfile={tls.key_file}"]
    process = subprocess.Popen([PYTHON, "-c", _LAUNCH, *args], stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        base_url = process.stdout.readline().strip()
        if not base_url:
            raise RuntimeError("the emulator did not start")
        yield base_url
    finally:
        process.terminate()
        process.wait(timeout=30)


class Control:
    """The emulator's control API over one persistent connection (counted once)."""

    def __init__(self, base_url: str, verify: Any = True) -> None:
        root = base_url.split("/api/v1")[0]
        self._http = httpx.Client(base_url=f"{root}/__emulator__", timeout=120, verify=verify)

    def counters(self) -> dict[str, Any]:
        return self._http.get("/counters").json()

    def advance(self, seconds: float) -> None:
        self._http.post("/clock/advance", json={"seconds": seconds}).raise_for_status()

    def fail_job(self, job_id: str) -> None:
        self._http.post(f"/jobs/{job_id}/fail", json={}).raise_for_status()

    def close(self) -> None:
        self._http.close()


def requests_to(counters: dict[str, Any], route: str) -> int:
    return int(counters["requests"].get(route, 0))


def min_median(values: Sequence[float]) -> tuple[float, float]:
    return min(values), statistics.median(values)


def fmt(values: Sequence[float], digits: int = 1) -> str:
    low, mid = min_median(values)
    return f"{low:.{digits}f} / {mid:.{digits}f}"


def machine() -> str:
    cpu = "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = ""
    with contextlib.suppress(OSError):
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f", {kb / 2**20:.0f} GiB RAM"
    load = ", load average {:.1f} {:.1f} {:.1f}".format(*os.getloadavg())
    return (
        f"{cpu}, {os.cpu_count()} cores{mem}{load}; Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}"
    )


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def rss_kb() -> int:
    """This process's resident set now (not the peak)."""
    return int(Path("/proc/self/statm").read_text().split()[1]) * os.sysconf("SC_PAGESIZE") // 1024
