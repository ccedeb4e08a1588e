"""``make bench``: every figure of issue 13 in one run, side by side, on this machine.

Prints a Markdown report and writes it to ``bench/out/latest.md``; ``bench/RESULTS.md`` is
the annotated record of one such run. ``BENCH_REPEATS`` (default 3) sets the repetitions.
"""

from __future__ import annotations

import sys
import time
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))

import bench_gc  # noqa: E402
import bench_import  # noqa: E402
import bench_latency  # noqa: E402
import bench_triggerer  # noqa: E402
import bench_upload  # noqa: E402
import bench_validate  # noqa: E402
from _common import machine  # noqa: E402

SECTIONS = (
    ("import cost", bench_import.main),
    ("triggerer scale", lambda: bench_triggerer.main(sorted(bench_triggerer.PLANS))),
    ("garbage collections over a minute", bench_gc.main),
    ("upload", bench_upload.main),
    ("validation", bench_validate.main),
    ("latency", bench_latency.main),
)


def main() -> int:
    started = time.monotonic()
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    parts = [f"# make bench, {stamp}\n\nMachine: {machine()}\n"]
    for name, run in SECTIONS:
        began = time.monotonic()
        print(f"== {name}", file=sys.stderr, flush=True)
        section = run()
        print(section, flush=True)
        parts.append(section + f"\n({name}: {time.monotonic() - began:.0f} s)\n")
    parts.append(f"Total {time.monotonic() - started:.0f} s; machine after: {machine()}\n")
    out = HERE / "out"
    out.mkdir(exist_ok=True)
    (out / "latest.md").write_text("\n".join(parts))
    print(f"written to {out / 'latest.md'}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
