"""Run the example pipeline end to end against the embedded DashScope emulator.

    python example_dags/run_demo.py        (or: make demo)

Starts the emulator on a free loopback port, points the ``dashscope_default`` connection at
it, uses a throw-away AIRFLOW_HOME with a fresh SQLite metadata DB, runs
``example_dashscope_finetune`` with ``dag.test()`` (deferred steps run their triggers
in-process) and prints what every task returned. Exits non-zero if the run fails.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _prepare_airflow_home() -> Path:
    home = Path(tempfile.mkdtemp(prefix="dashscope-demo-"))
    os.environ["AIRFLOW_HOME"] = str(home)
    os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
    os.environ["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = f"sqlite:///{home / 'airflow.db'}"
    os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(HERE)
    os.environ.pop("DASHSCOPE_API_KEY", None)
    os.environ.setdefault("DASHSCOPE_EXAMPLE_POLL_SECONDS", "2")  # emulated jobs take seconds
    subprocess.run(
        [sys.executable, "-m", "airflow", "db", "migrate"], check=True, capture_output=True
    )
    return home


def _load_dag(path: Path):  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.dag


def main() -> int:
    _prepare_airflow_home()
    from airflow_dashscope.emulator import run_emulator

    with run_emulator(job_seconds=6, deploy_seconds=2, export_seconds=2) as emulator:
        print(f"DashScope emulator at {emulator.base_url}")
        os.environ["AIRFLOW_CONN_DASHSCOPE_DEFAULT"] = json.dumps(
            {"conn_type": "dashscope", "host": emulator.base_url, "password": emulator.api_key}
        )
        dag = _load_dag(HERE / "example_dashscope_finetune.py")
        run = dag.test()
        print(f"\nDAG run {run.run_id}: {run.state}")
        for ti in sorted(run.get_task_instances(), key=lambda t: t.start_date or t.end_date):
            result = ti.xcom_pull(task_ids=ti.task_id)
            print(f"  {ti.task_id:<22} {ti.state!s:<8} {json.dumps(result, default=str)[:160]}")
        counters = emulator.counters()
        print(
            f"\nemulator: {counters['requests_total']} requests over "
            f"{counters['connections']} connections, {counters['jobs_created']} job, "
            f"{counters['deployments_created']} deployment"
        )
    return 0 if str(run.state) == "success" else 1


if __name__ == "__main__":
    sys.exit(main())
