"""Peak memory of validating a 30 MB and a ~290 MB SFT file: it must stay flat.

Each validation runs in a fresh interpreter that reports its peak RSS (ru_maxrss), so the
two runs do not share a heap; ``--tracemalloc`` also reports the Python-heap peak of the
validation itself (about 3x slower). The large
file stays just under the 300 MB upload limit so it validates clean. Temp files are removed.

    .venv/bin/python bench/bench_validate_memory.py [--small-mb 30] [--large-mb 290]

Exits 1 when the large file's peak exceeds the small one's by more than ``--max-growth-mb``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

_CHILD = """
import json, resource, sys, time, tracemalloc
from airflow_dashscope.training_data import validate_training_file
if sys.argv[2] == "1":
    tracemalloc.start()
started = time.perf_counter()
report = validate_training_file(sys.argv[1], "sft", n_epochs=2)
elapsed = time.perf_counter() - started
_, traced_peak = tracemalloc.get_traced_memory()
print(json.dumps({
    "ok": report.ok, "examples": report.stats.examples, "errors": report.error_count,
    "tokens": report.stats.estimated_tokens, "seconds": elapsed,
    "traced_peak": traced_peak,
    "max_rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
}))
"""


def write_sft_file(path: Path, size_mb: int) -> int:
    """Write varied, valid SFT lines (English and Chinese, several turns) up to size_mb."""
    target = size_mb * 1024 * 1024
    written = 0
    with path.open("wb", buffering=1024 * 1024) as handle:
        index = 0
        while written < target:
            turns = [{"role": "system", "content": f"You are assistant number {index % 97}."}]
            for turn in range(1 + index % 3):
                turns.append({"role": "user", "content": f"问题 {index}-{turn}: how do I fix it?"})
                answer = "Here is a careful answer. " * (1 + index % 7) + "好的。" * (index % 5)
                turns.append({"role": "assistant", "content": answer})
            line = json.dumps({"messages": turns}, ensure_ascii=False).encode() + b"\n"
            handle.write(line)
            written += len(line)
            index += 1
    return written


def measure(path: Path, traced: bool) -> dict[str, float]:
    """Validate ``path`` in a fresh interpreter; throughput includes tracemalloc if traced."""
    output = subprocess.run(
        [sys.executable, "-c", _CHILD, str(path), "1" if traced else "0"],
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, float] = json.loads(output.stdout)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small-mb", type=int, default=30)
    parser.add_argument("--large-mb", type=int, default=290)
    parser.add_argument("--max-growth-mb", type=float, default=32.0)
    parser.add_argument("--tracemalloc", action="store_true", help="also trace the Python heap")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-validate-") as directory:
        for size_mb in (args.small_mb, args.large_mb):
            path = Path(directory) / f"sft_{size_mb}mb.jsonl"
            started = time.perf_counter()
            size = write_sft_file(path, size_mb)
            generated = time.perf_counter() - started
            result = measure(path, args.tracemalloc)
            path.unlink()
            mb = size / 1024**2
            rows.append((mb, result))
            print(
                f"{mb:7.1f} MB: ok={result['ok']} examples={result['examples']:,} "
                f"tokens~{result['tokens']:,} | peak RSS {result['max_rss_kb'] / 1024:6.1f} MB | "
                f"tracemalloc peak {result['traced_peak'] / 1024**2:6.2f} MB | "
                f"{mb / result['seconds']:5.1f} MB/s (generated in {generated:.1f} s)"
            )
    (_, small), (_, large) = rows
    growth_rss = (large["max_rss_kb"] - small["max_rss_kb"]) / 1024
    growth_traced = (large["traced_peak"] - small["traced_peak"]) / 1024**2
    growth = f"growth {args.small_mb} -> {args.large_mb} MB: peak RSS {growth_rss:+.1f} MB"
    if args.tracemalloc:
        growth += f", tracemalloc peak {growth_traced:+.2f} MB"
    print(growth)
    if not (small["ok"] and large["ok"]):
        print("FAIL: the generated files should validate clean")
        return 1
    if max(growth_rss, growth_traced) > args.max_growth_mb:
        print(f"FAIL: peak memory grew by more than {args.max_growth_mb} MB with file size")
        return 1
    print("PASS: memory stays flat")
    return 0


if __name__ == "__main__":
    sys.exit(main())
