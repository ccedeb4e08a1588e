"""Scenario 3: the Celery worker dies between the fine-tune's create and its deferral; the
retry, on the other worker, reattaches to the job the lost create made: one job.

A ``delay`` fault holds the create; the worker is frozen (SIGSTOP) while it waits, so its socket
stays open and the emulator, after the delay, creates the job and answers into a dead process;
the worker is then SIGKILLed. (Killed at once, its socket would close and the emulator would
drop the held request unprocessed: a worker death *before* the create, not between.)"""

from __future__ import annotations

import pytest

from .conftest import Production
from .processes import wait_until
from .steps import FINE_TUNE, worker_running

pytestmark = [pytest.mark.production, pytest.mark.slow]

HELD_SECONDS = 15  # shorter than the heartbeat timeout (30 s): the job exists before the retry


def test_a_worker_killed_mid_create_costs_one_job(production: Production) -> None:
    airflow, emulator = production.airflow, production.emulator
    scenario = production.scenario("3 worker death")
    emulator.inject(
        kind="delay", delay=HELD_SECONDS, method="POST", path=r"^/api/v1/fine-tunes$", count=1
    )
    (run_id,) = airflow.trigger_runs("workerdeath", 1)
    # The fault is consumed when the create arrives: from then on its answer is held.
    wait_until("the create to reach the emulator", lambda: not emulator.armed_faults(), 300, 0.5)
    ti = airflow.task_instances(run_id)[FINE_TUNE]
    victim = worker_running(production, ti)
    victim.freeze()

    def job_made_by_held_create() -> bool:
        return scenario.delta()["jobs"] == 1

    wait_until("the held create to take effect", job_made_by_held_create, 120, every=1)
    tries_when_job_existed = airflow.task_instances(run_id)[FINE_TUNE]["try_number"]
    victim.kill()
    states = airflow.wait_runs([run_id], timeout=600)
    final = airflow.task_instances(run_id)[FINE_TUNE]
    figures = scenario.report(
        1,
        killed=victim.name,
        fine_tune_tries=final["try_number"],
        tries_at_create=tries_when_job_existed,
    )
    airflow.start_worker(victim.name)

    assert states == {run_id: "success"}
    assert final["state"] == "success"
    assert final["try_number"] >= 2, "the fine-tune was not retried after its worker died"
    assert tries_when_job_existed == 1, "the retry started before the held create took effect"
    assert figures["jobs"] == 1
    assert figures["deployments"] == 1
    assert figures["cancelled"] == 0
