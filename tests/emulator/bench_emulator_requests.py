"""Benchmark (not a test): the emulator's per-request latency and the cost of many jobs.

    .venv/bin/python tests/emulator/bench_emulator_requests.py [N_JOBS] [--state-dir]

Prints, for one in-process emulator with a manual clock and one pooled keep-alive client:
the median/p90 latency of ``GET /fine-tunes/{id}`` with one job, the time to create N jobs
(1,003 by default, the figure issue 13 quotes), the same latency with N jobs, and the time of
one clock advance that makes N jobs leave PENDING. ``--state-dir`` persists to a temporary
directory (one small file per changed record). Loopback only.
"""

from __future__ import annotations

import io
import statistics
import sys
import tempfile
import time

import httpx

from airflow_dashscope.emulator import run_emulator


def _latency(client: httpx.Client, path: str, n: int = 200) -> tuple[float, float]:
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        assert client.get(path).status_code == 200
        samples.append(time.perf_counter() - start)
    samples.sort()
    return statistics.median(samples) * 1000, samples[int(n * 0.9)] * 1000


def main(argv: list[str]) -> None:
    n_jobs = int(next((a for a in argv if a.isdigit()), "1003"))
    state_dir = tempfile.mkdtemp(prefix="emu-bench-") if "--state-dir" in argv else None
    with (
        run_emulator(manual_clock=True, max_jobs=10 * n_jobs, state_dir=state_dir) as emu,
        httpx.Client(
            base_url=emu.base_url, headers={"Authorization": f"Bearer {emu.api_key}"}
        ) as client,
    ):
        line = b'{"messages": [{"role": "user", "content": "a"}]}\n'
        upload = client.post("/files", files={"files": ("t.jsonl", io.BytesIO(line * 10))})
        file_id = upload.json()["data"]["uploaded_files"][0]["file_id"]
        body = {
            "model": "qwen3-8b",
            "training_file_ids": [file_id],
            "hyper_parameters": {"n_epochs": 1, "batch_size": 16, "max_length": 8192},
        }
        job_id = client.post("/fine-tunes", json=body).json()["output"]["job_id"]
        median, p90 = _latency(client, f"/fine-tunes/{job_id}")
        print(f"GET a job, 1 job: median {median:.2f} ms, p90 {p90:.2f} ms")
        start = time.perf_counter()
        for _ in range(n_jobs - 1):
            assert client.post("/fine-tunes", json=body).status_code == 200
        took = time.perf_counter() - start
        print(f"{n_jobs} job creates: {took:.2f} s ({took / (n_jobs - 1) * 1000:.2f} ms each)")
        median, p90 = _latency(client, f"/fine-tunes/{job_id}")
        print(f"GET a job, {n_jobs} jobs: median {median:.2f} ms, p90 {p90:.2f} ms")
        start = time.perf_counter()
        emu.advance(1.0)
        print(
            f"advance: {n_jobs} jobs leave PENDING in {(time.perf_counter() - start) * 1000:.0f} ms"
        )


if __name__ == "__main__":
    main(sys.argv[1:])
