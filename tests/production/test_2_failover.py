"""Scenario 2: the triggerer holding the waiting fine-tunes dies (SIGKILL); the other one
takes them over, and no job is cancelled or created twice."""

from __future__ import annotations

import pytest

from .conftest import Production
from .processes import wait_until
from .steps import (
    FINE_TUNE,
    fine_tune_triggers,
    hold_training_slot,
    release_training_slot,
)

pytestmark = [pytest.mark.production, pytest.mark.slow]

RUNS = 10


def test_a_killed_triggerers_waits_move_to_the_other_one(production: Production) -> None:
    airflow = production.airflow
    scenario = production.scenario("2 triggerer failover")
    run_ids = airflow.trigger_runs("failover", RUNS)
    hold_training_slot(scenario)

    def waiting() -> dict[int, int | None] | None:
        states = airflow.task_states(run_ids)
        if any(s.get(FINE_TUNE) != "deferred" for s in states.values()):
            return None
        triggers = fine_tune_triggers(production)
        return triggers if len(triggers) == RUNS and None not in triggers.values() else None

    triggers = wait_until("every fine-tune to wait in a triggerer", waiting, 600, every=2)
    by_triggerer = {name: job for name, job in airflow.triggerer_job.items()}
    victim = max(by_triggerer, key=lambda n: sum(t == by_triggerer[n] for t in triggers.values()))
    survivor = next(n for n in by_triggerer if n != victim)
    held = [t for t, job in triggers.items() if job == by_triggerer[victim]]
    airflow.processes[victim].kill()

    def taken_over() -> bool:
        now = fine_tune_triggers(production)
        return all(now.get(t) == by_triggerer[survivor] for t in held)

    wait_until(f"{survivor} to take over {len(held)} triggers", taken_over, 300, every=2)
    release_training_slot(production)
    states = airflow.wait_runs(run_ids, timeout=600)
    figures = scenario.report(RUNS, killed=victim, triggers_moved=len(held))
    airflow.start_triggerer(victim)  # back to two triggerers for the next scenarios

    assert held, "the killed triggerer held no fine-tune"
    assert states == dict.fromkeys(run_ids, "success")
    assert figures["jobs"] == RUNS
    assert figures["deployments"] == RUNS
    assert figures["cancelled"] == 0 and figures["cancel_requests"] == 0
    assert {j["status"] for j in scenario.new_jobs().values()} == {"SUCCEEDED"}
