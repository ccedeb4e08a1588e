"""The example pipeline under ``airflow standalone``: real scheduler, executor and triggerer.

The emulator serves on loopback from this test process; Airflow runs as its own process
group in a throw-away AIRFLOW_HOME and is stopped at the end. Proves what ``dag.test()``
cannot: the waiting steps really defer to the triggerer (which writes their progress to the
task's ``.trigger.<id>.log``) and the chain completes with one job and one deployment.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from airflow_dashscope.emulator import run_emulator
from airflow_dashscope.emulator.runner import RunningEmulator

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

EXAMPLES = Path(__file__).resolve().parents[2] / "example_dags"
DAG_ID = "example_dashscope_finetune"
START_TIMEOUT = 240
RUN_TIMEOUT = 400


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def emulator() -> Iterator[RunningEmulator]:
    # Not instant: a trigger that fires before the executor has reported the deferring
    # workload's exit makes Airflow's scheduler retry the task (a scheduler race; the
    # operators then reattach, but the retry delay would slow this test down).
    with run_emulator(job_seconds=8, deploy_seconds=8, export_seconds=8, api_key=None) as emu:
        yield emu


@pytest.fixture
def airflow_env(tmp_path: Path, emulator: RunningEmulator) -> dict[str, str]:
    dags = tmp_path / "dags"
    shutil.copytree(EXAMPLES, dags, ignore=shutil.ignore_patterns("run_demo.py", "__pycache__"))
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    env.update(
        {
            # standalone starts its components as ``airflow ...`` from PATH.
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
            "AIRFLOW_HOME": str(tmp_path / "home"),
            "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{tmp_path / 'airflow.db'}",
            "AIRFLOW__API__PORT": str(port),
            "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{port}",
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
            "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "1",
            "AIRFLOW_CONN_DASHSCOPE_DEFAULT": json.dumps(
                {"conn_type": "dashscope", "host": emulator.base_url, "password": "sk-e2e"}
            ),
        }
    )
    return env


def _airflow(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "airflow", *args], env=env, capture_output=True, text=True
    )


def _wait_for(what: str, check: object, timeout: float, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return
        time.sleep(2)
    tail = log.read_text(errors="replace")[-4000:] if log.exists() else ""
    pytest.fail(f"timed out waiting for {what}; airflow standalone said:\n{tail}")


def test_the_pipeline_runs_with_a_real_triggerer(
    airflow_env: dict[str, str], emulator: RunningEmulator, tmp_path: Path
) -> None:
    log = tmp_path / "standalone.log"
    with log.open("w") as out:
        standalone = subprocess.Popen(
            [sys.executable, "-m", "airflow", "standalone"],
            env=airflow_env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        _wait_for(
            "the DAG to be parsed",
            lambda: DAG_ID in _airflow(airflow_env, "dags", "list", "-o", "plain").stdout,
            START_TIMEOUT,
            log,
        )
        assert _airflow(airflow_env, "dags", "unpause", DAG_ID).returncode == 0
        triggered = _airflow(airflow_env, "dags", "trigger", DAG_ID, "-o", "json")
        assert triggered.returncode == 0, triggered.stderr

        def run_state() -> str:
            listed = _airflow(airflow_env, "dags", "list-runs", DAG_ID, "-o", "json")
            # Airflow may print warnings before the JSON document on stdout.
            lines = [line for line in listed.stdout.splitlines() if line.startswith("[")]
            runs = json.loads(lines[-1]) if lines else []
            return str(runs[0]["state"]) if runs else ""

        _wait_for(
            "the run to finish", lambda: run_state() in ("success", "failed"), RUN_TIMEOUT, log
        )
        assert run_state() == "success", log.read_text(errors="replace")[-4000:]
    finally:
        os.killpg(standalone.pid, signal.SIGTERM)
        try:
            standalone.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(standalone.pid, signal.SIGKILL)
            standalone.wait()

    counters = emulator.counters()
    assert counters["jobs_created"] == 1 and counters["deployments_created"] == 1
    logs = Path(airflow_env["AIRFLOW_HOME"]) / "logs"
    trigger_logs = list(logs.rglob("task_id=fine_tune/*.trigger.*.log"))
    assert trigger_logs, "the fine-tune step never ran in the triggerer"
    written = "".join(p.read_text(errors="replace") for p in trigger_logs)
    assert "is RUNNING" in written and "is SUCCEEDED" in written
    assert "sk-e2e" not in "".join(p.read_text(errors="replace") for p in logs.rglob("*.log"))
