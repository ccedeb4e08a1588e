"""Validation throughput against the practical limit of a pure-Python validator.

The same SFT file (varied English and Chinese ChatML lines) is read by
``validate_training_file`` and by a bare ``json.loads`` loop (read, decode, parse, nothing
else), interleaved, in one process; MB/s of each and their ratio.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path

from _common import REPEATS, fmt, table
from bench_validate_memory import write_sft_file

from airflow_dashscope.training_data import validate_training_file

SIZE_MB = int(os.environ.get("BENCH_VALIDATE_MB", "50"))


def bare_loads(path: Path) -> int:
    lines = 0
    with path.open("rb") as handle:
        for raw in handle:
            json.loads(raw.decode("utf-8"))
            lines += 1
    return lines


def validate(path: Path) -> int:
    report = validate_training_file(path, "sft")
    assert report.ok, report
    return report.stats.examples


def main() -> str:
    with tempfile.TemporaryDirectory(prefix="bench-validate-") as tmp:
        path = Path(tmp) / "train.jsonl"
        size = write_sft_file(path, SIZE_MB) / 2**20
        speeds: dict[str, list[float]] = {"validate_training_file": [], "bare json.loads loop": []}
        for _ in range(REPEATS):
            for name, run in (
                ("validate_training_file", validate),
                ("bare json.loads loop", bare_loads),
            ):
                started = time.perf_counter()
                run(path)
                speeds[name].append(size / (time.perf_counter() - started))
    ratio = [
        v / b
        for v, b in zip(
            speeds["validate_training_file"], speeds["bare json.loads loop"], strict=True
        )
    ]
    rows = [[name, fmt(values)] for name, values in speeds.items()]
    rows.append(["validator / bare loop", fmt([100 * r for r in ratio], 0) + " %"])
    note = f"{size:.0f} MB SFT file; min / median of {REPEATS} interleaved runs."
    return "### Validation throughput\n\n" + table(["reader", "MB/s"], rows) + "\n\n" + note + "\n"


if __name__ == "__main__":
    print(main())
