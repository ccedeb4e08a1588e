"""A 300 MB upload: peak memory growth and throughput, ours against the official SDK and curl.

Each upload runs in a fresh process against one emulator in another process (loopback).
Growth is the process's peak RSS (VmHWM) minus its RSS just before the upload (after its
imports); for curl, its peak RSS minus the peak of uploading a 1-byte-line file. The three
clients are interleaved within each repetition; the uploaded file is deleted after each.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
import time
from pathlib import Path

from _common import BENCH_KEY, PYTHON, REPEATS, emulator_process, fmt, table

MB = 1024 * 1024
SIZE_MB = int(os.environ.get("BENCH_UPLOAD_MB", "300"))
CURL = ("curl", "-sS", "-H", f"Authorization: Bearer {BENCH_KEY}")

PY_CLIENT = """
import json, sys, time
from pathlib import Path
which, base_url, path, key = sys.argv[1:5]
def rss_kb(field):
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field):
            return int(line.split()[1])
if which == "ours":
    from airflow_dashscope.client import ClientConfig, DashScopeClient, Secret
    client = DashScopeClient(ClientConfig(api_key=Secret(key), base_url=base_url, timeout=600))
    upload = lambda: client.upload_file(path)
    delete = client.delete_file
else:
    import dashscope
    from dashscope import Files
    dashscope.base_http_api_url = base_url
    def upload():
        answer = Files.upload(file_path=path, api_key=key)
        assert answer.status_code == 200, answer
        return answer.output["uploaded_files"][0]["file_id"]
    delete = lambda file_id: Files.delete(file_id, api_key=key)
before = rss_kb("VmRSS:")
started = time.perf_counter()
file_id = upload()
seconds = time.perf_counter() - started
peak = rss_kb("VmHWM:")
delete(file_id)
print(json.dumps({"seconds": seconds, "growth_mb": (peak - before) / 1024}))
"""


def write_file(path: Path, size_mb: int) -> None:
    line = (
        b'{"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]}\n'
    )
    block = line * (MB // len(line))  # whole lines: the SDK checks every line is JSON
    with path.open("wb") as out:
        for _ in range(size_mb):
            out.write(block)


def python_upload(which: str, base_url: str, path: Path) -> dict[str, float]:
    done = subprocess.run(
        [PYTHON, "-c", PY_CLIENT, which, base_url, str(path), BENCH_KEY],
        capture_output=True,
        text=True,
        timeout=900,
    )
    if done.returncode:
        raise RuntimeError(f"{which} upload failed: {done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def curl_peak_kb(base_url: str, path: Path) -> tuple[float, float, str]:
    """(seconds, peak RSS KB, file id) of ``curl -F`` uploading ``path``."""
    started = time.perf_counter()
    process = subprocess.Popen(
        [*CURL, "-F", f"files=@{path}", f"{base_url}/files"],
        stdout=subprocess.PIPE,
    )
    assert process.stdout is not None
    body = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    if status:
        raise RuntimeError(f"curl failed: {body[-500:]!r}")
    file_id = json.loads(body)["data"]["uploaded_files"][0]["file_id"]
    return seconds, float(usage.ru_maxrss), file_id


def curl_delete(base_url: str, file_id: str) -> None:
    subprocess.run(
        [*CURL, "-X", "DELETE", f"{base_url}/files/{file_id}"],
        capture_output=True,
        check=True,
    )


def main() -> str:
    runs: dict[str, dict[str, list[float]]] = {
        name: {"growth_mb": [], "mb_s": []} for name in ("ours", "sdk", "curl")
    }
    with tempfile.TemporaryDirectory(prefix="bench-upload-") as tmp_name:
        tmp = Path(tmp_name)
        data, tiny = tmp / "train.jsonl", tmp / "tiny.jsonl"
        write_file(data, SIZE_MB)
        tiny.write_bytes(b"{}\n")
        with emulator_process() as base_url:
            for _ in range(REPEATS):
                for name in ("ours", "sdk"):
                    result = python_upload(name, base_url, data)
                    runs[name]["growth_mb"].append(result["growth_mb"])
                    runs[name]["mb_s"].append(SIZE_MB / result["seconds"])
                _, base_kb, tiny_id = curl_peak_kb(base_url, tiny)
                curl_delete(base_url, tiny_id)
                seconds, peak_kb, file_id = curl_peak_kb(base_url, data)
                curl_delete(base_url, file_id)
                runs["curl"]["growth_mb"].append((peak_kb - base_kb) / 1024)
                runs["curl"]["mb_s"].append(SIZE_MB / seconds)
    names = {"ours": "this provider (httpx, streamed)", "sdk": "official dashscope SDK"}
    names["curl"] = "curl -F"
    rows = [
        [names[name], fmt(values["growth_mb"]), fmt(values["mb_s"])]
        for name, values in runs.items()
    ]
    header = [f"{SIZE_MB} MB upload", "peak RSS growth MB", "MB/s"]
    note = f"min / median of {REPEATS} uploads each, to the emulator in another process."
    return "### Upload\n\n" + table(header, rows) + "\n\n" + note + "\n"


if __name__ == "__main__":
    print(main())
