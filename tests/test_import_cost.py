"""Importing the provider at DAG-parse time is cheap and does no network I/O."""

from __future__ import annotations

import subprocess
import sys

PROBE = """
import socket, sys
def refuse(*args, **kwargs):
    raise AssertionError("network I/O while importing the provider")
socket.socket.connect = refuse
socket.create_connection = refuse
import airflow_dashscope.operators, airflow_dashscope.sensors, airflow_dashscope.triggers
import airflow_dashscope.hooks, airflow_dashscope.assets, airflow_dashscope.links
from airflow_dashscope.get_provider_info import get_provider_info
get_provider_info()
heavy = sorted(m for m in sys.modules if m.startswith(("airflow_dashscope.emulator", "uvicorn")))
print("heavy:" + ",".join(heavy))
"""


def test_importing_the_provider_does_no_io_and_loads_no_emulator() -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    (heavy,) = [line for line in done.stdout.splitlines() if line.startswith("heavy:")]
    assert heavy == "heavy:"
