"""Scenario 6: the API key appears nowhere but in the secrets backend.

Checked at the end of the suite, after every other scenario, over: every log file (Airflow's
task and trigger logs, each component's output), every PostgreSQL table (``pg_dump``), Redis
(every key and queued or unacknowledged message), the command line of every process the suite
started and their children, and every trigger's serialized kwargs (decrypted). Messages and
trigger rows are short-lived: the observer sampled them all along (see ``observe.py``); three
more runs here make sure this scenario saw some even when run on its own.
"""

from __future__ import annotations

from pathlib import Path

import psutil
import pytest

from .conftest import Production
from .processes import wait_until

pytestmark = [pytest.mark.production, pytest.mark.slow]

RUNS = 3


def _files_with(root: Path, secret: str) -> tuple[list[str], int]:
    found, scanned = [], 0
    for path in root.rglob("*"):
        if path.is_file():
            scanned += 1
            if secret.encode() in path.read_bytes():
                found.append(str(path.relative_to(root)))
    return found, scanned


def test_the_api_key_leaks_nowhere(production: Production) -> None:
    airflow, secret = production.airflow, production.secret
    scenario = production.scenario("6 secrets")
    samples_before = production.observer.leaks.redis_messages
    run_ids = airflow.trigger_runs("secrets", RUNS)
    states = airflow.wait_runs(run_ids, timeout=600)
    # One more full round of sampling after the runs, so the last rows were looked at too.
    rounds = production.observer.rounds
    wait_until("the observer's next rounds", lambda: production.observer.rounds >= rounds + 2, 30)

    logs_found, logs_scanned = _files_with(production.base / "logs", secret)
    task_logs_found, task_logs_scanned = _files_with(airflow.home / "logs", secret)
    dump = production.postgres.dump()
    redis_now = production.redis.dump()
    cmdlines = []
    for process in [*airflow.processes.values(), production.emulator.process]:
        for proc in process.tree():
            try:
                cmdlines.append("\0".join(proc.cmdline()))
            except psutil.Error:
                continue
    leaks = production.observer.leaks
    figures = scenario.report(
        RUNS,
        log_files=logs_scanned + task_logs_scanned,
        dump_bytes=len(dump),
        redis_samples=leaks.redis_samples,
        redis_samples_with_messages=leaks.redis_messages,
        triggers_seen=len(leaks.trigger_ids),
        cmdlines_seen=len(leaks.cmdlines),
        observer_errors=len(production.observer.errors),
    )

    assert states == dict.fromkeys(run_ids, "success")
    assert figures["jobs"] == RUNS  # the key was in use: the emulator accepts no other
    assert not logs_found, f"key in component logs: {logs_found}"
    assert not task_logs_found, f"key in task/trigger logs: {task_logs_found}"
    assert task_logs_scanned >= RUNS * 6
    assert secret not in dump
    assert "CREATE TABLE public.trigger" in dump and "COPY public.task_instance" in dump
    assert secret not in redis_now
    assert not [line for line in cmdlines if secret in line]
    assert not leaks.found, f"key seen while running: {leaks.found}"
    # The sampler did look at what it claims to have checked.
    assert leaks.redis_messages > samples_before, "no Celery message was ever sampled in Redis"
    assert leaks.trigger_ids, "no trigger row was ever sampled"
    assert len(leaks.cmdlines) > 10
