"""Triggerer scale: N waiting fine-tune triggers in one event loop, ours against a peer.

Each child process (``_triggerer_child.py``) runs N triggers for a fixed window against an
emulator in another process, served over plain HTTP and over HTTPS (a certificate made at
bench time for 127.0.0.1; the clients trust its CA explicitly). The emulator counts the
requests and TCP connections of each run; the child reports CPU, RSS growth, GC time and
loop lag. Jobs never end during a run (long ``job_seconds``). Three comparisons:

* **same requests, queued**: every watched job waits for the service's single training slot,
  so both sides send one GET of the job per poll (``peer``);
* **same requests, running**: every trigger watches the one running job, so both send the
  job and its new log lines per poll;
* **design**: the peer as the official triggers are written (job and logs every poll,
  ``peer-design``) against ours on queued jobs: what the adaptive design saves.

Within each repetition every case runs once, one after the other (interleaved), so slow
phases of a shared machine hit both sides alike.

    python bench/bench_triggerer.py [N ...]
"""

from __future__ import annotations

import json
import os
import ssl
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

from airflow_dashscope.emulator.tls import loopback_certificates

HERE = Path(__file__).parent
#: N -> (poll interval s, seconds measured, repetitions): a few polls each, bounded run time.
PLANS = {
    100: (2.0, 6.0, REPEATS),
    1000: (5.0, 12.0, REPEATS),
    5000: (10.0, 20.0, max(1, min(REPEATS, int(os.environ.get("BENCH_REPEATS_5000", "1"))))),
}
#: Distinct jobs polled (triggers share them beyond this); the emulator's create is slow.
JOB_CAP = int(os.environ.get("BENCH_JOBS", "1000"))
JOB_ROUTE = "GET /api/v1/fine-tunes/{job_id}"
SCHEMES = ("http", "https")
JOB_SECONDS = 86_400.0
#: The N of the running-job and design comparisons.
FOCUS_N = 1000


def create_jobs(base_url: str, count: int, tmp: Path, verify: Any) -> list[str]:
    data = tmp / "train.jsonl"
    line = '{"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]}'
    data.write_text((line + "\n") * 20)
    headers = {"Authorization": f"Bearer {BENCH_KEY}"}
    with httpx.Client(base_url=base_url, headers=headers, timeout=120, verify=verify) as http:
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
    # Past validation (a quarter of job_seconds): job 0 runs, the others queue behind it.
    control = Control(base_url, verify=verify)
    control.advance(JOB_SECONDS / 4 + 1)
    control.close()
    with httpx.Client(base_url=base_url, headers=headers, timeout=120, verify=verify) as http:
        status = http.get(f"/fine-tunes/{ids[0]}").json()["output"]["status"]
        if status != "RUNNING":
            raise RuntimeError(f"job {ids[0]} is {status}, not RUNNING")
    return ids


def run_child(
    impl: str, n: int, site: dict[str, Any], jobs_file: Path, *, profile: Path | None = None
) -> dict:
    poll, seconds, _ = PLANS[n]
    control: Control = site["control"]
    env = dict(os.environ, **site["env"])
    if profile is not None:
        env["BENCH_PROFILE"] = str(profile)
    before = control.counters()
    args = [impl, str(n), site["base_url"], str(jobs_file), str(poll), str(seconds)]
    done = subprocess.run(
        [PYTHON, str(HERE / "_triggerer_child.py"), *args],
        capture_output=True,
        text=True,
        timeout=seconds + 300,
        cwd=HERE,
        env=env,
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
    result["cpu_ms_per_request"] = 1000 * result["cpu_seconds"] / max(result["requests"], 1)
    result["gc_share"] = result["gc_seconds"] / max(result["cpu_seconds"], 1e-9)
    return result


CASES_DOC = {
    "queued": "same requests: 1 GET per poll (queued jobs)",
    "running": "same requests: job + new log lines (running job)",
    "design": "design: peer sends job + logs every poll (queued jobs)",
}


def focus(sizes: list[int]) -> int:
    return FOCUS_N if FOCUS_N in sizes else min(sizes)


def cases(sizes: list[int]) -> list[tuple[str, str, int, str]]:
    """(comparison, scheme, N, impl) in the order one repetition runs them."""
    out = []
    only = os.environ.get("BENCH_CASES", "").split(",")  # e.g. "queued" for a quick look
    for n in sizes:
        for scheme in SCHEMES:
            out += [("queued", scheme, n, "ours"), ("queued", scheme, n, "peer")]
            if n == focus(sizes):
                out += [("running", scheme, n, "ours"), ("running", scheme, n, "peer")]
                if scheme == "https":  # where the design matters most: a handshake a request
                    out += [("design", scheme, n, "peer-design")]
    return [case for case in out if only == [""] or case[0] in only]


def main(sizes: list[int]) -> str:
    started = time.monotonic()
    results: dict[tuple[str, str, int, str], list[dict]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-triggerer-") as tmp_name:
        tmp = Path(tmp_name)
        certs = loopback_certificates(tmp / "tls")
        trusted = ssl.create_default_context(cafile=str(certs.ca_file))
        limits = {"max_jobs": 100_000, "job_seconds": JOB_SECONDS}
        count = min(max(sizes), JOB_CAP)
        with (
            emulator_process(**limits) as http_url,
            emulator_process(tls=certs, **limits) as https_url,
        ):
            sites: dict[str, dict[str, Any]] = {}
            made = time.monotonic()
            for scheme, url, verify in (("http", http_url, True), ("https", https_url, trusted)):
                ids = create_jobs(url, count, tmp, verify)
                env = {
                    "SSL_CERT_FILE": str(certs.ca_file),
                    "REQUESTS_CA_BUNDLE": str(certs.ca_file),
                }
                files = {}
                for n in sizes:
                    files[("queued", n)] = tmp / f"{scheme}-queued-{n}.json"
                    # Job 0 holds the training slot: the queued comparison leaves it out.
                    queued = ids[1:] if len(ids) > 1 else ids
                    files[("queued", n)].write_text(json.dumps(queued[: min(n, count)]))
                running = tmp / f"{scheme}-running.json"
                running.write_text(json.dumps(ids[:1]))
                files[("running", focus(sizes))] = running
                files[("design", focus(sizes))] = files[("queued", focus(sizes))]
                control = Control(url, verify=verify)
                sites[scheme] = {"base_url": url, "env": env, "control": control, "files": files}
            create_s = time.monotonic() - made
            for repeat in range(max(plan[2] for plan in PLANS.values())):
                for case in cases(sizes):
                    comparison, scheme, n, impl = case
                    if repeat >= PLANS[n][2]:
                        continue
                    site = sites[scheme]
                    result = run_child(impl, n, site, site["files"][(comparison, n)])
                    results.setdefault(case, []).append(result)
                    ms, gcs = result["cpu_ms_per_poll"], result["gc_by_generation"]
                    print(f"  {case}: {ms:.2f} ms/poll, gc {gcs}", file=sys.stderr)
            for site in sites.values():
                site["control"].close()
    return report(results, sizes, create_s, time.monotonic() - started)


def report(results: dict, sizes: list[int], create_s: float, total_s: float) -> str:
    rows = []
    for (comparison, scheme, n, impl), runs in results.items():
        ratio = "-"
        if impl == "ours":
            pairs = zip(runs, results.get((comparison, scheme, n, "peer"), []), strict=False)
        else:
            pairs = zip(results.get(("queued", scheme, n, "ours"), []), runs, strict=False)
        ratios = [a["cpu_ms_per_poll"] / b["cpu_ms_per_poll"] for a, b in pairs]
        if ratios and impl != "peer":
            ratio = fmt(ratios, 2) + " x"

        def col(key: str, scale: float = 1.0, digits: int = 1, runs: list = runs) -> str:
            return fmt([run[key] * scale for run in runs], digits)

        poll, seconds, repeats = PLANS[n]
        rows.append(
            [
                CASES_DOC[comparison],
                scheme.upper(),
                f"{n:,}",
                {"ours": "this provider", "peer": "to_thread peer"}.get(
                    impl, "to_thread peer (design)"
                ),
                f"{poll:g} s / {seconds:g} s / {repeats}",
                col("polls", digits=0),
                col("requests", digits=0),
                col("cpu_ms_per_poll", digits=2),
                ratio,
                col("gc_share", 100, 0) + " %",
                col("rss_kb_per_trigger", digits=1),
                col("connections", digits=0),
                col("lag_start", 1000, 0),
                col("lag_steady", 1000, 0),
            ]
        )
    header = [
        "comparison",
        "scheme",
        "N",
        "trigger",
        "poll / window / runs",
        "job GETs (polls)",
        "requests",
        "CPU ms per poll",
        "ours / peer CPU",
        "GC share of CPU",
        "RSS KB per trigger",
        "TCP connections",
        "worst lag ms, 1st round",
        "worst lag ms, after",
    ]
    note = (
        f"Triggers poll up to {min(max(sizes), JOB_CAP) - 1:,} distinct queued jobs per scheme "
        f"(created in {create_s:.0f} s); the running case polls the one running job. Each "
        f"figure min / median of the runs stated; the ratio is per repetition (same run), "
        f"against the peer sending the same requests, or for the design row the design peer. "
        f"Total {total_s:.0f} s."
    )
    return "### Triggerer scale\n\n" + table(header, rows) + "\n\n" + note + "\n"


if __name__ == "__main__":
    print(main([int(arg) for arg in sys.argv[1:]] or sorted(PLANS)))
