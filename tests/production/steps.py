"""Steps the scenarios share: holding the emulator's training slot, finding who runs what."""

from __future__ import annotations

from typing import Any

from .cluster import WORKERS
from .conftest import Production, Scenario
from .processes import Process, wait_until

FINE_TUNE = "fine_tune"
IN_PROGRESS = ("PENDING", "QUEUING", "RUNNING", "CANCELING")
HOLD_SECONDS = 3600.0


def hold_training_slot(scenario: Scenario) -> str:
    """Keep the first new job RUNNING for an hour (emulated): every later job queues behind it.

    The service trains one job at a time, so this holds every fine-tune of the scenario in its
    deferred wait for as long as the scenario needs; ``release_training_slot`` ends the hold.
    """

    def running() -> str | None:
        for job_id, job in scenario.new_jobs().items():
            if job["status"] == "RUNNING":
                return job_id
        return None

    job_id = wait_until("a new job to start training", running, 300, every=0.25)
    scenario.production.emulator.extend_job(job_id, HOLD_SECONDS)
    return job_id


def release_training_slot(production: Production) -> None:
    production.emulator.advance(HOLD_SECONDS)


def fine_tune_jobs_by_run(production: Production, run_ids: list[str]) -> dict[str, str]:
    """The job each run's deferred fine-tune waits on, read from its trigger's kwargs."""
    rows = production.postgres.query(
        "SELECT ti.run_id, ti.trigger_id FROM task_instance ti "
        "WHERE ti.task_id = %s AND ti.trigger_id IS NOT NULL AND ti.run_id = ANY(%s)",
        FINE_TUNE,
        run_ids,
    )
    kwargs = {trigger_id: text for trigger_id, _, text, _ in production.airflow.triggers()}
    jobs = production.emulator.jobs()
    found: dict[str, str] = {}
    for run_id, trigger_id in rows:
        text = kwargs.get(int(trigger_id), "")
        matches = [job_id for job_id in jobs if job_id in text]
        if len(matches) == 1:
            found[str(run_id)] = matches[0]
    return found


def fine_tune_triggers(production: Production) -> dict[int, int | None]:
    """Fine-tune trigger id -> the triggerer job running it."""
    return {
        trigger_id: triggerer
        for trigger_id, classpath, _, triggerer in production.airflow.triggers()
        if "FineTune" in classpath
    }


def worker_running(production: Production, ti: dict[str, Any]) -> Process:
    """The Celery worker whose process tree holds the task's process (its pid), or else the one
    with a socket open to the emulator (the held create)."""
    workers = [production.airflow.processes[name] for name in WORKERS]
    pid = ti.get("pid")
    for worker in workers:
        if pid and any(p.pid == pid for p in worker.tree()):
            return worker
    for worker in workers:
        for proc in worker.tree():
            try:
                conns = proc.net_connections(kind="tcp")
            except Exception:
                continue
            if any(c.raddr and c.raddr.port == production.emulator.port for c in conns):
                return worker
    raise AssertionError(f"no Celery worker runs task pid {pid}")


def jobs_in_progress(production: Production, job_ids: list[str]) -> list[str]:
    jobs = production.emulator.jobs()
    return [j for j in job_ids if jobs[j]["status"] in IN_PROGRESS]
