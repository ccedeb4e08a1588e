"""How a slot is recorded and read: its members by suffix, its holder the oldest RUNNING one,
and the smoke test's and the evaluation's pure parts."""

from __future__ import annotations

import re
from typing import Any

import pytest

from airflow_dashscope.client import DashScopeClient
from airflow_dashscope.client.models import Deployment, FineTuneJob
from airflow_dashscope.emulator.runner import RunningEmulator
from airflow_dashscope.exceptions import InvalidRequestError
from airflow_dashscope.operators import serving_in_slot
from airflow_dashscope.operators.identity import derived_suffix
from airflow_dashscope.operators.promotion_slot import (
    check_slot,
    in_slot,
    slot_holder,
    slot_key,
    slot_members,
    slot_suffix,
)
from airflow_dashscope.operators.promotion_smoke import (
    evaluation_extra,
    gate_failure,
    passes,
    smoke_prompts,
)


def deployment(model: str, suffix: str, status: str = "RUNNING", **fields: Any) -> Deployment:
    return Deployment(deployed_model=f"{model}-{suffix}", model_name=model, status=status, **fields)


def at(minute: int) -> str:
    return f"2026-12-07T10:{minute:02d}:00"


def test_a_slot_suffix_fits_the_service_and_names_its_slot() -> None:
    suffix = slot_suffix("production", "0123456789", "qwen3-8b-ft-1")
    assert re.fullmatch(r"p[0-9a-z]{7}", suffix)
    assert suffix == slot_suffix("production", "0123456789", "qwen3-8b-ft-1")  # a retry's
    assert suffix != slot_suffix("production", "0123456789", "qwen3-8b-ft-2")  # unique
    assert suffix[:5] == slot_suffix("production", "ffffffffff", "other")[:5]  # same slot
    assert suffix[:5] != slot_suffix("staging", "0123456789", "qwen3-8b-ft-1")[:5]


def test_members_are_recognised_by_their_suffix_alone() -> None:
    ours = deployment("m1", slot_suffix("production", "a", "m1"), name="production")
    unnamed = deployment("m2", slot_suffix("production", "b", "m2"))  # the pages' listing
    renamed = deployment("m6", slot_suffix("production", "c", "m6"), name="m6")  # a default
    others = [
        deployment("m3", slot_suffix("staging", "a", "m3"), name="staging"),
        deployment("m4", derived_suffix("0123456789", "m4"), name="production"),
        deployment("m5", "b6d61c71", name="production"),  # the service's random suffix
        deployment("m7", slot_suffix("production", "d", "m7"), status="DELETING"),
    ]
    assert all(in_slot(d, "production") for d in (ours, unnamed, renamed))
    assert not any(in_slot(d, "production") for d in others)


def test_the_holder_is_the_oldest_running_member() -> None:
    old = deployment("m1", slot_suffix("production", "a", "m1"), gmt_create=at(1))
    new = deployment("m2", slot_suffix("production", "b", "m2"), gmt_create=at(5))
    pending = deployment("m0", slot_suffix("production", "c", "m0"), "PENDING", gmt_create=at(0))
    stopped = deployment("m9", slot_suffix("production", "d", "m9"), "STOPPED", gmt_create=at(0))
    listing = [new, pending, old, stopped]
    assert slot_holder(listing, "production") == old
    assert [d.model_name for d in slot_members(listing, "production")] == [
        "m0",
        "m9",
        "m1",
        "m2",
    ]
    assert slot_holder([new, pending], "production") == new  # the switch: old one deleted
    assert slot_holder([pending, stopped], "production") is None
    assert slot_holder([], "production") is None


def test_the_lookup_picks_the_old_holder_while_two_share_the_name(
    succeeded_job: FineTuneJob, client: DashScopeClient, emu: RunningEmulator
) -> None:
    serving = client.create_deployment(
        str(succeeded_job.finetuned_output),
        name="production",
        suffix=slot_suffix(
            slot_key("dag", "production"), "earlier", str(succeeded_job.finetuned_output)
        ),
    )
    emu.advance(60)
    # A second deployment of the slot, RUNNING beside it (a promotion before its switch), and
    # a foreign one with the same display name.
    candidate = client.create_deployment(
        str(succeeded_job.finetuned_output),
        name="production",
        suffix=slot_suffix(
            slot_key("dag", "production"), "later", str(succeeded_job.finetuned_output)
        ),
    )
    client.create_deployment(
        str(succeeded_job.finetuned_output), name="production", suffix="b6d61c71"
    )
    emu.advance(60)
    statuses = {d.deployed_model: d.status_name for d in client.list_deployments()}
    assert list(statuses.values()) == ["RUNNING"] * 3
    found = serving_in_slot(client, "production", dag_id="dag")
    assert found is not None and found.deployed_model == serving.deployed_model
    client.delete_deployment(serving.deployed_model)  # the switch
    found = serving_in_slot(client, "production", dag_id="dag")
    assert found is not None and found.deployed_model == candidate.deployed_model
    assert serving_in_slot(client, "staging", dag_id="dag") is None


def test_smoke_prompts_accept_one_or_many_and_name_what_is_wrong() -> None:
    one = [{"role": "user", "content": "Hi"}]
    assert smoke_prompts("Hi") == [one]
    assert smoke_prompts(one) == [one]
    assert smoke_prompts(["Hi", one]) == [one, one]
    for bad, where in [
        ([], "at least one prompt"),
        (["Hi", ""], "prompt 2"),
        ([one, [{"role": "robot", "content": "x"}]], "prompt 2, message 0"),
        (42, "at least one prompt"),
    ]:
        with pytest.raises(InvalidRequestError, match=where):
            smoke_prompts(bad)
    with pytest.raises(InvalidRequestError, match="slot must be"):
        check_slot("")


def test_checks() -> None:
    assert passes("red", "bright red") and not passes("red", "green")
    assert passes(re.compile(r"^\d+$"), "42") and not passes(re.compile(r"^\d+$"), "4 2")
    assert passes(lambda answer: len(answer) < 5, "ok") and not passes(lambda _: False, "ok")
    assert passes(None, "anything") and not passes(None, "  ")


def test_the_gate_and_the_event_figures() -> None:
    assert gate_failure(None) is None
    assert gate_failure({"gate": None}) is None  # no gate: nothing forbids it
    assert gate_failure({"gate": {"passed": True}}) is None
    assert gate_failure({"gate": {"passed": False, "why": "lost"}}) == "lost"
    with pytest.raises(InvalidRequestError, match="evaluation must be"):
        gate_failure("passed")
    extra = evaluation_extra(
        {"scores": {"b": {"f1": 0.2}, "a": {"f1": 0.9}}, "models": {"a": "x", "b": "y"}}
    )
    assert extra["evaluated_as"] == "a" and extra["scores"] == {"f1": 0.9}
    assert evaluation_extra(None) == {}


def test_a_slot_belongs_to_its_dag(client: DashScopeClient) -> None:
    """``production`` of one DAG is not ``production`` of another: neither sees, nor would
    retire, the other's deployment; outside a task the DAG must be named."""
    mine = deployment("m1", slot_suffix(slot_key("support", "production"), "a", "m1"))
    theirs = deployment("m2", slot_suffix(slot_key("sweep", "production"), "a", "m2"))
    assert slot_members([mine, theirs], slot_key("support", "production")) == [mine]
    assert slot_holder([mine, theirs], slot_key("sweep", "production")) == theirs
    with pytest.raises(InvalidRequestError, match="pass dag_id="):
        serving_in_slot(client, "production")
