"""Faults, counters, the control API, the runner, persistence, the CLI and the pytest plugin."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from airflow_dashscope.emulator import RunningEmulator, run_emulator

LINE = (
    b'{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}]}\n'
)
REPO = Path(__file__).resolve().parents[2]
pytest_plugins = ["pytester"]


def upload(client: httpx.Client) -> str:
    r = client.post("/files", files=[("files", ("a.jsonl", LINE * 10))])
    return str(r.json()["data"]["uploaded_files"][0]["file_id"])


def create_body(file_id: str) -> dict[str, object]:
    return {"model": "qwen3-8b", "training_file_ids": [file_id]}


# ------------------------------------------------------------------------------ faults
@pytest.mark.parametrize(
    ("status", "code"),
    [(429, "Throttling.RateQuota"), (500, "InternalError"), (503, "ServiceUnavailable")],
)
def test_error_faults(emu: RunningEmulator, client: httpx.Client, status: int, code: str) -> None:
    emu.inject_fault(
        status=status, count=2, method="POST", path="^/api/v1/fine-tunes$", retry_after=3
    )
    file_id = upload(client)
    assert client.get("/fine-tunes").status_code == 200  # other method: untouched
    for _ in range(2):
        r = client.post("/fine-tunes", json=create_body(file_id))
        assert r.status_code == status and r.json()["code"] == code
        assert set(r.json()) == {"request_id", "code", "message"}
        assert r.headers["retry-after"] == "3"
    assert client.post("/fine-tunes", json=create_body(file_id)).status_code == 200
    counters = emu.counters()
    assert counters["requests"]["POST /api/v1/fine-tunes"] == 3
    assert counters["jobs_created"] == 1 and counters["faults_triggered"] == 2


def test_drop_fault_breaks_the_response_and_creates_nothing(
    emu: RunningEmulator, client: httpx.Client
) -> None:
    file_id = upload(client)
    emu.inject_fault(kind="drop", path="/fine-tunes", method="POST")
    with pytest.raises(httpx.RemoteProtocolError):
        client.post("/fine-tunes", json=create_body(file_id))
    retried = client.post("/fine-tunes", json=create_body(file_id))
    assert retried.status_code == 200
    assert emu.counters()["jobs_created"] == 1
    assert client.get("/fine-tunes").json()["output"]["total"] == 1


def test_delay_fault(emu: RunningEmulator, client: httpx.Client) -> None:
    emu.inject_fault(kind="delay", delay=0.3, path="/files")
    start = time.monotonic()
    assert client.get("/files").status_code == 200
    assert time.monotonic() - start >= 0.3
    with pytest.raises(httpx.ReadTimeout):
        emu.inject_fault(kind="delay", delay=1.0, path="/files")
        client.get("/files", timeout=0.2)


def test_compatible_mode_fault_uses_openai_shape(emu: RunningEmulator) -> None:
    emu.inject_fault(status=429, path="/compatible-mode/")
    r = httpx.post(
        f"{emu.compatible_base_url}/chat/completions",
        headers={"Authorization": f"Bearer {emu.api_key}"},
        json={"model": "qwen3-8b", "messages": [{"role": "user", "content": "x"}]},
    )
    # error-code.md: "429-Throttling.RateQuota/LimitRequests/limit_requests" and
    # "429-Throttling.AllocationQuota/insufficient_quota".
    error = r.json()["error"]
    assert r.status_code == 429 and error["code"] == "limit_requests"
    assert error["message"] == "You exceeded your current requests list."
    emu.inject_fault(status=429, code="Throttling.AllocationQuota", path="/compatible-mode/")
    r = httpx.post(
        f"{emu.compatible_base_url}/chat/completions",
        headers={"Authorization": f"Bearer {emu.api_key}"},
        json={"model": "qwen3-8b", "messages": [{"role": "user", "content": "x"}]},
    )
    assert r.json()["error"]["code"] == "insufficient_quota"
    emu.inject_fault(status=429, code="Throttling.AllocationQuota", path="/api/v1/files")
    native = httpx.get(f"{emu.base_url}/files", headers={"Authorization": f"Bearer {emu.api_key}"})
    assert native.status_code == 429 and native.json()["code"] == "Throttling.AllocationQuota"
    assert native.json()["message"] == "Allocated quota exceeded, please increase your quota limit."


def test_counters_connections_and_templates(emu: RunningEmulator, client: httpx.Client) -> None:
    for _ in range(3):
        client.get("/files")
    client.get("/fine-tunes/ft-1/logs")
    counters = emu.counters()
    assert counters["connections"] == 1  # one pooled keep-alive connection
    assert counters["requests"]["GET /api/v1/files"] == 3
    assert counters["requests"]["GET /api/v1/fine-tunes/{job_id}/logs"] == 1
    for _ in range(2):
        with httpx.Client(headers=client.headers) as fresh:
            fresh.get(f"{emu.base_url}/files")
    assert emu.counters()["connections"] == 3
    emu.reset()
    assert emu.counters()["requests"] == {}


# ------------------------------------------------------------------------------ control API
def test_control_api_over_http(emu: RunningEmulator, client: httpx.Client) -> None:
    control = emu.base_url.replace("/api/v1", "/__emulator__")
    job_id = client.post("/fine-tunes", json=create_body(upload(client))).json()["output"]["job_id"]
    before = httpx.get(f"{control}/clock").json()["now"]
    assert httpx.post(f"{control}/clock/advance", json={"seconds": 2}).json()["now"] >= before + 2
    assert client.get(f"/fine-tunes/{job_id}").json()["output"]["status"] == "RUNNING"
    httpx.post(f"{control}/jobs/{job_id}/extend", json={"seconds": 100})
    httpx.post(f"{control}/clock/advance", json={"seconds": 10})
    assert client.get(f"/fine-tunes/{job_id}").json()["output"]["status"] == "RUNNING"
    failed = httpx.post(
        f"{control}/jobs/{job_id}/fail",
        json={"code": "ResourceExhausted", "message": "GPU on fire"},
    ).json()
    assert failed["status"] == "FAILED"
    job = client.get(f"/fine-tunes/{job_id}").json()["output"]
    assert (job["code"], job["message"]) == ("ResourceExhausted", "GPU on fire")
    fault = httpx.post(f"{control}/faults", json={"status": 500, "path": "/files"}).json()
    assert fault["fault_id"] and httpx.get(f"{control}/faults").json()["faults"]
    assert client.get("/files").status_code == 500
    assert httpx.post(f"{control}/faults", json={"kind": "bogus"}).status_code == 400
    counters = httpx.get(f"{control}/counters").json()
    assert counters["jobs_created"] == 1 and counters["files_uploaded"] == 1
    assert not any(k.startswith(("GET /__", "POST /__")) for k in counters["requests"])
    assert httpx.post(f"{control}/reset").json() == {"status": "reset"}
    assert client.get("/fine-tunes").json()["output"]["total"] == 0


def test_fail_job_at_end(emu: RunningEmulator, client: httpx.Client) -> None:
    job_id = client.post("/fine-tunes", json=create_body(upload(client))).json()["output"]["job_id"]
    emu.fail_job(job_id, "InternalError", "late failure", when="end")
    emu.advance(2)
    assert client.get(f"/fine-tunes/{job_id}").json()["output"]["status"] == "RUNNING"
    emu.advance(5)
    assert client.get(f"/fine-tunes/{job_id}").json()["output"]["message"] == "late failure"


# ------------------------------------------------------------------------------ runner
def test_run_emulator_stops_cleanly() -> None:
    threads = threading.active_count()
    with run_emulator() as running:
        port = running.port
        assert running.base_url == f"http://127.0.0.1:{port}/api/v1"
        assert running.compatible_base_url == f"http://127.0.0.1:{port}/compatible-mode/v1"
        assert httpx.get(f"{running.root_url}/__emulator__/health").status_code == 200
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{port}/__emulator__/health")
    assert threading.active_count() == threads


def test_default_timings_finish_a_small_job_in_real_time() -> None:
    with (
        run_emulator() as running,
        httpx.Client(
            base_url=running.base_url, headers={"Authorization": f"Bearer {running.api_key}"}
        ) as client,
    ):
        job_id = client.post("/fine-tunes", json=create_body(upload(client))).json()["output"][
            "job_id"
        ]
        seen = []
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            status = client.get(f"/fine-tunes/{job_id}").json()["output"]["status"]
            if not seen or seen[-1] != status:
                seen.append(status)
            if status == "SUCCEEDED":
                break
            time.sleep(0.2)
        assert seen == ["PENDING", "RUNNING", "SUCCEEDED"]


def test_state_dir_survives_restart(tmp_path: Path) -> None:
    kwargs = {"state_dir": tmp_path, "api_key": "k", "manual_clock": True}
    with (
        run_emulator(**kwargs) as running,
        httpx.Client(base_url=running.base_url, headers={"Authorization": "Bearer k"}) as client,
    ):
        file_id = upload(client)
        job_id = client.post("/fine-tunes", json=create_body(file_id)).json()["output"]["job_id"]
        running.advance(10)
    assert (tmp_path / "files" / file_id).exists()
    with (
        run_emulator(**kwargs) as running,
        httpx.Client(base_url=running.base_url, headers={"Authorization": "Bearer k"}) as client,
    ):
        assert client.get(f"/files/{file_id}").json()["data"]["size"] == len(LINE * 10)
        assert client.get(f"/fine-tunes/{job_id}").json()["output"]["status"] == "SUCCEEDED"


def _spawn(*args: str) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "airflow_dashscope.emulator", "--port", "0", *args],
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )
    assert proc.stdout is not None
    return proc, proc.stdout.readline().strip()


def test_cli_prints_base_url_and_honours_api_key(tmp_path: Path) -> None:
    proc, url = _spawn("--api-key", "cli-key", "--state-dir", str(tmp_path))
    try:
        assert url.startswith("http://127.0.0.1:") and url.endswith("/api/v1")
        assert httpx.get(f"{url}/files", headers={"Authorization": "Bearer cli-key"}).is_success
        assert httpx.get(f"{url}/files", headers={"Authorization": "Bearer x"}).status_code == 401
    finally:
        proc.terminate()
        assert proc.wait(timeout=15) == 0
    assert (tmp_path / "meta.json").exists()


def test_cli_sets_the_account_limits() -> None:
    proc, url = _spawn("--max-files", "1", "--max-jobs", "3")
    try:
        control = url.replace("/api/v1", "/__emulator__")
        limits = httpx.get(f"{control}/limits").json()
        assert (limits["max_files"], limits["max_jobs"]) == (1, 3)
        assert limits["max_total_bytes"] == 5 * 1024**3  # the service's, untouched
        headers = {"Authorization": "Bearer k"}
        sent = [
            httpx.post(f"{url}/files", headers=headers, files=[("files", ("a.jsonl", LINE))])
            for _ in range(2)
        ]
        failed = sent[1].json()["data"]["failed_uploads"]
        assert failed[0]["code"] == "BadRequest.TooMany"
        assert failed[0]["message"] == "Out of number, <1> of <1> files has been uploaded."
    finally:
        proc.terminate()
        assert proc.wait(timeout=15) == 0


def test_limits_default_to_the_service_and_change_at_run_time(
    emu: RunningEmulator, client: httpx.Client
) -> None:
    real = {
        "max_file_bytes": 1024**3,
        "max_files": 100,
        "max_total_bytes": 5 * 1024**3,
        "max_jobs": 20,
    }
    assert httpx.get(f"{emu.control_url}/limits").json() == real == emu.settings.limits()
    try:
        changed = httpx.post(f"{emu.control_url}/limits", json={"max_jobs": 1}).json()
        assert changed == {**real, "max_jobs": 1}
        client.post("/fine-tunes", json=create_body(upload(client))).raise_for_status()
        second = client.post("/fine-tunes", json=create_body(upload(client)))
        assert (second.status_code, second.json()["code"]) == (429, "Throttling")
        for bad in ({"max_jobs": 0}, {"max_jobs": "2"}, {"max_apples": 3}):
            r = httpx.post(f"{emu.control_url}/limits", json=bad)
            assert r.status_code == 400 and emu.settings.max_jobs == 1, r.text
        assert emu.set_limits(max_files=1)["max_files"] == 1
        failed = client.post("/files", files=[("files", ("b.jsonl", LINE))]).json()["data"]
        assert failed["failed_uploads"][0]["code"] == "BadRequest.TooMany"
    finally:
        emu.set_limits(**real)


def _rss_peak_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise AssertionError("no VmHWM")


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs /proc")
def test_300_mb_upload_is_streamed_to_disk(tmp_path: Path) -> None:
    proc, url = _spawn("--state-dir", str(tmp_path))
    try:
        httpx.get(f"{url}/files", headers={"Authorization": "Bearer k"})
        before = _rss_peak_kb(proc.pid)
        size = 300 * 1024 * 1024
        chunk = LINE * (1024 * 1024 // len(LINE))

        def body() -> Iterator[bytes]:
            boundary = b"--bnd\r\n"
            yield boundary + b'Content-Disposition: form-data; name="files"; filename="big.jsonl"'
            yield b"\r\nContent-Type: application/octet-stream\r\n\r\n"
            sent = 0
            while sent < size:
                piece = chunk[: size - sent]
                sent += len(piece)
                yield piece
            yield b"\r\n--bnd--\r\n"

        r = httpx.post(
            f"{url}/files",
            content=body(),
            timeout=120,
            headers={
                "Authorization": "Bearer k",
                "Content-Type": "multipart/form-data; boundary=bnd",
            },
        )
        data = r.json()["data"]
        assert data["failed_uploads"] == [] and len(data["uploaded_files"]) == 1
        file_id = data["uploaded_files"][0]["file_id"]
        assert os.path.getsize(tmp_path / "files" / file_id) == size
        assert _rss_peak_kb(proc.pid) - before < 100 * 1024  # far below 300 MB
    finally:
        proc.terminate()
        proc.wait(timeout=15)


# ------------------------------------------------------------------------------ pytest plugin
def test_plugin_fixtures(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import json, os, httpx

        def test_one(dashscope_connection):
            conn = json.loads(os.environ["AIRFLOW_CONN_DASHSCOPE_DEFAULT"])
            assert conn["conn_type"] == "dashscope"
            assert conn["host"] == dashscope_connection.base_url
            headers = {"Authorization": "Bearer " + conn["password"]}
            r = httpx.post(conn["host"] + "/files", headers=headers,
                           files=[("files", ("a.jsonl", b"{}"))])
            assert r.status_code == 200

        def test_two_starts_clean(dashscope_emulator, dashscope_emulator_session):
            assert dashscope_emulator is dashscope_emulator_session
            headers = {"Authorization": "Bearer " + dashscope_emulator.api_key}
            r = httpx.get(dashscope_emulator.base_url + "/files", headers=headers)
            assert r.json()["data"]["total"] == 0
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)


def test_package_import_is_light() -> None:
    code = (
        "import sys, airflow_dashscope.emulator as e; "
        "assert 'fastapi' not in sys.modules and 'uvicorn' not in sys.modules; "
        "assert 'airflow' not in sys.modules; "
        "from airflow_dashscope.emulator import run_emulator, create_app, RunningEmulator; "
        "assert 'airflow' not in sys.modules; print(json.dumps(1))"
    )
    out = subprocess.run(
        [sys.executable, "-c", "import json; " + code],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(out.stdout) == 1
