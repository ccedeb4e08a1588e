"""Run the example pipeline end to end against the embedded DashScope emulator.

    python example_dags/run_demo.py            (or: make demo)
    DEMO_VERBOSE=1 python example_dags/run_demo.py    (or: --verbose: Airflow's log here too)

Starts the emulator on a free loopback port, points the ``dashscope_default`` connection at
it, uses a throw-away AIRFLOW_HOME with a fresh SQLite metadata DB, runs
``example_dashscope_finetune`` with ``dag.test()`` (deferred steps run their triggers
in-process) and prints a summary: the model's answer, the job and its billed tokens, and how
to see it all in Airflow's UI. Airflow's own log (about 160 lines) goes to a file whose path
is printed, so the summary is what a newcomer reads. Exits non-zero if the run fails.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
DAG_ID = "example_dashscope_finetune"
VERBOSE_ENV = "DEMO_VERBOSE"


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


def _load_dag(path: Path) -> Any:
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.dag


@contextlib.contextmanager
def _output_to(log: Path | None) -> Iterator[None]:
    """Send everything written to stdout and stderr to ``log`` (None: leave it on screen).

    Redirects the file descriptors, not ``sys.stdout``: Airflow's log handlers hold the
    streams they found at start-up, and subprocesses write to the descriptors.
    """
    if log is None:
        yield
        return
    sys.stdout.flush()
    sys.stderr.flush()
    saved_out, saved_err = os.dup(1), os.dup(2)
    try:
        with log.open("ab") as sink:
            os.dup2(sink.fileno(), 1)
            os.dup2(sink.fileno(), 2)
            try:
                yield
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os.dup2(saved_out, 1)
                os.dup2(saved_err, 2)
    finally:
        os.close(saved_out)
        os.close(saved_err)


def summary(run: Any, counters: dict[str, Any], *, log: Path | None = None) -> str:
    """What the run did, for a reader: state, the answer in full, the job, how to look."""
    from airflow_dashscope.operators.fine_tune_outcome import billed_tokens
    from airflow_dashscope.plugins.plugin import DASHSCOPE_PAGE, FINE_TUNING_TAB

    tis = {ti.task_id: ti for ti in run.get_task_instances()}

    def result(task_id: str) -> dict[str, Any]:
        value = tis[task_id].xcom_pull(task_ids=task_id) if task_id in tis else None
        return value if isinstance(value, dict) else {}

    tune, answer = result("fine_tune"), result("invoke")
    billed = billed_tokens(tune.get("usage"))
    estimated = tune.get("estimated_tokens")
    billed_cost, estimated_cost = tune.get("billed_cost"), tune.get("estimated_cost")
    lines = [
        f"DAG run {run.run_id}: {run.state}",
        *(f"  {t.task_id:<22} {t.state}" for t in _in_order(tis.values())),
        "",
        "The fine-tuned model answered:",
        *(f"  {line}" for line in (answer.get("text") or "(no answer)").splitlines()),
        "",
        f"Fine-tune job: {tune.get('job_id', '(none)')} ({tune.get('status', 'no status')})",
        f"  billed tokens: {billed if billed is not None else 'unknown'}"
        + (f" (estimated before the job: {estimated})" if estimated is not None else ""),
        f"  cost: {_yuan(billed_cost)}"
        + (f" (estimated before the job: {_yuan(estimated_cost)})" if estimated_cost else ""),
        "  (on the real service, billed tokens x the model's price are what the job costs)",
        f"  model: {tune.get('finetuned_output', '(none)')}",
        "",
        f"Emulator: {counters['requests_total']} requests, {counters['jobs_created']} job,"
        f" {counters['deployments_created']} deployment; nothing left this machine.",
        "",
        "See fine-tune jobs in Airflow's UI (docs/quickstart.md: the emulator, then Airflow):",
        "  python -m airflow_dashscope.emulator --port 8765 --job-seconds 30",
        "  airflow standalone",
        f"  then open http://localhost:8080/plugin/{DASHSCOPE_PAGE['url_route']}"
        " (the DashScope page);",
        f"  a fine-tune task's tab: .../tasks/fine_tune/plugin/{FINE_TUNING_TAB['url_route']}",
    ]
    if log is not None:
        lines += ["", f"Airflow's log of this run: {log}  ({VERBOSE_ENV}=1 shows it here)"]
    return "\n".join(lines)


def _yuan(amount: Any) -> str:
    """A result's cost (text of yuan, None without a price) as the summary shows it."""
    from airflow_dashscope.checks.prices import NO_PRICE

    return f"about ¥{amount}" if amount is not None else NO_PRICE


def _in_order(tis: Any) -> list[Any]:
    """In the order they ran (the ones that never started last)."""
    return sorted(tis, key=lambda t: t.start_date.timestamp() if t.start_date else float("inf"))


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    verbose = "--verbose" in args or os.environ.get(VERBOSE_ENV, "") not in ("", "0")
    home = _prepare_airflow_home()
    log = None if verbose else home / "demo.log"
    from airflow_dashscope.emulator import run_emulator

    with run_emulator(job_seconds=6, deploy_seconds=2, export_seconds=2) as emulator:
        print(f"Running {DAG_ID} against the DashScope emulator at {emulator.base_url} ...")
        if log is not None:
            print(f"(Airflow's log goes to {log}; about a minute)")
        os.environ["AIRFLOW_CONN_DASHSCOPE_DEFAULT"] = json.dumps(
            {"conn_type": "dashscope", "host": emulator.base_url, "password": emulator.api_key}
        )
        with _output_to(log):
            run = _load_dag(HERE / f"{DAG_ID}.py").test()
        print()
        print(summary(run, emulator.counters(), log=log))
    return 0 if str(run.state) == "success" else 1


if __name__ == "__main__":
    sys.exit(main())
