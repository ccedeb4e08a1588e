"""What the tests that start a real ``airflow standalone`` share: free ports, the
environment of a throw-away AIRFLOW_HOME pointed at an emulator, the CLI, and a bounded wait
that quotes the server's log when it runs out."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "example_dags"
START_TIMEOUT = 240


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def standalone_env(home: Path, dags: Path, emulator_url: str, port: int) -> dict[str, str]:
    """The environment of an ``airflow standalone`` in ``home`` (SQLite), serving on
    ``port``, whose ``dashscope_default`` connection is the emulator at ``emulator_url``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    env.update(
        {
            # standalone starts its components as ``airflow ...`` from PATH.
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home.parent / 'airflow.db'}",
            "AIRFLOW__API__PORT": str(port),
            "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{port}",
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
            "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "1",
            "AIRFLOW_CONN_DASHSCOPE_DEFAULT": json.dumps(
                {"conn_type": "dashscope", "host": emulator_url, "password": "sk-e2e"}
            ),
        }
    )
    return env


def airflow_cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "airflow", *args], env=env, capture_output=True, text=True
    )


def wait_until(what: str, check: Callable[[], Any], timeout: float, log: Path) -> None:
    """Poll ``check`` every 2 s until it is true; on time-out fail with the log's tail."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(2)
    tail = log.read_text(errors="replace")[-4000:] if log.exists() else ""
    pytest.fail(f"timed out waiting for {what}; the server's log said:\n{tail}")
