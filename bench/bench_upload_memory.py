"""Peak memory of a streamed upload: the client's and the emulator's, 30 MB vs 300 MB.

Each upload runs in a fresh client process against an emulator in its own process, both on
loopback; peak RSS (VmHWM) is read from /proc. A streamed upload keeps both flat: the
figures for 300 MB must stay within ``GROWTH_LIMIT_MB`` of those for 30 MB.

    python bench/bench_upload_memory.py
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MB = 1024 * 1024
SIZES_MB = (30, 300)
GROWTH_LIMIT_MB = 40

CLIENT = """
import resource, sys
from airflow_dashscope.client import ClientConfig, DashScopeClient, Secret
config = ClientConfig(api_key=Secret("bench-key"), base_url=sys.argv[1], timeout=600)
with DashScopeClient(config) as client:
    file_id = client.upload_file(sys.argv[2])
    assert client.get_file(file_id).size == int(sys.argv[3])
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)
"""


def _peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _make_file(path: Path, size_mb: int) -> None:
    line = (
        b'{"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]}\n'
    )
    block = line * (MB // len(line) + 1)
    with path.open("wb") as out:
        for _ in range(size_mb):
            out.write(block[:MB])


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="bench-upload-") as tmp:
        emulator = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "airflow_dashscope.emulator",
                "--port",
                "0",
                "--state-dir",
                str(Path(tmp) / "state"),
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert emulator.stdout is not None
            base_url = emulator.stdout.readline().strip()
            rows = []
            for size_mb in SIZES_MB:
                data = Path(tmp) / f"train-{size_mb}.jsonl"
                _make_file(data, size_mb)
                started = time.monotonic()
                done = subprocess.run(
                    [sys.executable, "-c", CLIENT, base_url, str(data), str(data.stat().st_size)],
                    capture_output=True,
                    text=True,
                )
                seconds = time.monotonic() - started
                if done.returncode:
                    print(done.stderr, file=sys.stderr)
                    return 1
                client_mb = float(done.stdout.strip().splitlines()[-1])
                rows.append((size_mb, client_mb, _peak_rss_mb(emulator.pid), seconds))
                data.unlink()
        finally:
            emulator.terminate()
            emulator.wait(timeout=30)
    print(f"{'file MB':>8} {'client peak RSS MB':>19} {'emulator peak RSS MB':>21} {'MB/s':>7}")
    for size_mb, client_mb, emulator_mb, seconds in rows:
        print(f"{size_mb:>8} {client_mb:>19.1f} {emulator_mb:>21.1f} {size_mb / seconds:>7.1f}")
    growth = rows[-1][1] - rows[0][1]
    print(f"client growth from {SIZES_MB[0]} MB to {SIZES_MB[-1]} MB: {growth:.1f} MB")
    if growth > GROWTH_LIMIT_MB:
        print(f"FAIL: client peak memory grew by more than {GROWTH_LIMIT_MB} MB")
        return 1
    return 0


if __name__ == "__main__":
    os.environ.pop("DASHSCOPE_API_KEY", None)
    sys.exit(main())
