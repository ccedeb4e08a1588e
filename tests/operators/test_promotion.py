"""Promotion into a serving slot, over the wire: deploy beside the holder, smoke-test, switch
or roll back, and converge after a crash at any step."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from airflow_dashscope.client import DashScopeClient
from airflow_dashscope.emulator.runner import RunningEmulator
from airflow_dashscope.exceptions import AirflowFailException, DashScopeWaitError
from airflow_dashscope.lineage.assets import DEPLOYMENTS_ALIAS
from airflow_dashscope.operators import DashScopePromoteModelOperator, serving_in_slot
from airflow_dashscope.operators.promotion import AirflowSkipException
from airflow_dashscope.operators.promotion_smoke import SmokeTestFailedError
from tests.operators.conftest import HYPER
from tests.operators.helpers import defer, execute, run

#: A prompt the emulator's trained models answer from their data (see emulator/recall.py).
QUESTION = "Which colour is the lantern in the catalogue?"
LEARNS = {**HYPER, "n_epochs": 3, "batch_size": 2}
MODES = pytest.mark.parametrize("deferrable", [True, False], ids=["deferred", "worker"])


def train_model(client: DashScopeClient, emu: RunningEmulator, folder: Path, answer: str) -> str:
    """A fine-tuned model that answers QUESTION with ``answer``."""
    line = json.dumps(
        {
            "messages": [
                {"role": "user", "content": QUESTION},
                {"role": "assistant", "content": answer},
            ]
        }
    )
    path = folder / f"train-{len(list(folder.glob('train-*')))}.jsonl"
    path.write_text("\n".join([line] * 16) + "\n")
    job = client.create_fine_tune(
        "qwen3-8b",
        [client.upload_file(str(path))],
        training_type="sft",
        hyper_parameters=LEARNS,
    )
    emu.advance(3600)
    done = client.get_fine_tune(job.job_id)
    assert done.status_name == "SUCCEEDED", done
    return str(done.finetuned_output)


@pytest.fixture
def train(client: DashScopeClient, emu: RunningEmulator, tmp_path: Path) -> Callable[[str], str]:
    """``train(answer)``: a fine-tuned model that answers QUESTION with ``answer``."""
    return lambda answer: train_model(client, emu, tmp_path, answer)


def promote(model_name: str, **options: Any) -> DashScopePromoteModelOperator:
    options.setdefault("deferrable", True)
    options.setdefault("poll_interval", 0.01)
    options.setdefault("task_id", "promote")
    options.setdefault("slot", "production")
    options.setdefault("smoke_test", QUESTION)
    options.setdefault("expect", "red")
    return DashScopePromoteModelOperator(model_name=model_name, **options)


def live(client: DashScopeClient) -> dict[str, str]:
    """What the emulator lists: deployed_model -> status (a deleted one leaves after a while)."""
    return {d.deployed_model: d.status_name for d in client.list_deployments()}


def holder(client: DashScopeClient) -> str | None:
    found = serving_in_slot(client, "production", dag_id="dag")
    return found.deployed_model if found else None


@MODES
def test_a_first_promotion_fills_an_empty_slot(
    deferrable: bool,
    train: Callable[[str], str],
    make_context: Any,
    client: DashScopeClient,
    emu: RunningEmulator,
    clock_running: None,
) -> None:
    model = train("The lantern is red.")
    assert holder(client) is None
    context = make_context()
    result = run(promote(model, deferrable=deferrable), context)
    assert result["promoted"] is True and result["slot"] == "production"
    assert result["model_name"] == model and result["previous"] is None
    assert result["retired"] == [] and result["smoke_test"]["passed"] is True
    assert "red" in result["smoke_test"]["answers"][0]
    assert holder(client) == result["deployed_model"] == context["ti"].xcom("deployed_model")
    assert live(client) == {result["deployed_model"]: "RUNNING"}
    (event,) = context["outlet_events"][DEPLOYMENTS_ALIAS].asset_alias_events
    assert event.dest_asset_key.uri.endswith(f"/deployments/{result['deployed_model']}")
    assert event.extra["slot"] == "production" and event.extra["previous"] is None


def test_a_second_promotion_retires_the_old_one(
    train: Callable[[str], str],
    make_context: Any,
    client: DashScopeClient,
    emu: RunningEmulator,
    clock_running: None,
) -> None:
    first = run(promote(train("The lantern is red.")), make_context(run_id="week1"))
    model = train("The lantern is bright red with brass trim.")
    second = run(promote(model), make_context(run_id="week2"))
    old, new = first["deployed_model"], second["deployed_model"]
    assert second["previous"] == old and second["retired"] == [old]
    assert second["promoted"] is True and holder(client) == new
    assert live(client).get(old) in (None, "DELETING") and live(client)[new] == "RUNNING"
    assert emu.counters()["deployments_created"] == 2


def test_a_failing_smoke_test_keeps_the_old_one_serving(
    train: Callable[[str], str],
    make_context: Any,
    client: DashScopeClient,
    emu: RunningEmulator,
    clock_running: None,
) -> None:
    old = run(promote(train("The lantern is red.")), make_context(run_id="week1"))["deployed_model"]
    wrong = train("The lantern is green.")
    context = make_context(run_id="week2")
    with pytest.raises(SmokeTestFailedError) as failed:
        run(promote(wrong), context)
    assert isinstance(failed.value, AirflowFailException)  # no retry redeploys it
    message = str(failed.value)
    assert "green" in message and "'red'" in message and f"{old} keeps serving" in message
    new = context["ti"].xcom("deployed_model")
    assert new.startswith(wrong) and live(client).get(new) in (None, "DELETING")
    assert live(client)[old] == "RUNNING" and holder(client) == old
    assert context["outlet_events"][DEPLOYMENTS_ALIAS].asset_alias_events == []


def test_a_regex_or_a_callable_checks_every_prompt(
    train: Callable[[str], str], make_context: Any, client: DashScopeClient, clock_running: None
) -> None:
    model = train("The lantern is red.")
    prompts = [QUESTION, [{"role": "user", "content": QUESTION}]]
    regex = re.compile(r"^The lantern")
    result = run(promote(model, smoke_test=prompts, expect=regex), make_context())
    assert len(result["smoke_test"]["answers"]) == 2
    context = make_context(run_id="again")
    with pytest.raises(SmokeTestFailedError, match="rejects_all"):

        def rejects_all(answer: str) -> bool:
            return False

        run(promote(train("The lantern is red!"), expect=rejects_all), context)
    assert holder(client) == result["deployed_model"]


def test_a_smoke_test_call_that_errors_rolls_back(
    train: Callable[[str], str],
    make_context: Any,
    client: DashScopeClient,
    emu: RunningEmulator,
    clock_running: None,
) -> None:
    model = train("The lantern is red.")
    emu.inject_fault(kind="error", status=400, code="InvalidParameter", path="generation")
    context = make_context()
    with pytest.raises(AirflowFailException, match="Smoke-testing slot 'production'"):
        run(promote(model), context)
    assert holder(client) is None
    assert live(client).get(context["ti"].xcom("deployed_model")) in (None, "DELETING")


def test_a_gate_failed_evaluation_skips_and_changes_nothing(
    train: Callable[[str], str], make_context: Any, client: DashScopeClient, emu: RunningEmulator
) -> None:
    model = train("The lantern is red.")
    evaluation = {"gate": {"rule": "beats baseline", "passed": False, "why": "lost by 0.2"}}
    with pytest.raises(AirflowSkipException, match=r"lost by 0\.2"):
        execute(promote(model, evaluation=evaluation), make_context())
    assert emu.counters()["deployments_created"] == 0 and live(client) == {}


def test_the_event_carries_the_slot_and_the_evaluation(
    train: Callable[[str], str], make_context: Any, clock_running: None
) -> None:
    model = train("The lantern is red.")
    evaluation = {
        "examples": 40,
        "models": {"candidate": "qwen3-8b-ft-x", "baseline": "qwen3-8b"},
        "metric": "token_f1",
        "scores": {
            "candidate": {"token_f1": {"mean": 0.61, "low": 0.55, "high": 0.67}},
            "baseline": {"token_f1": {"mean": 0.4, "low": 0.3, "high": 0.5}},
        },
        "comparison": {"against": "baseline", "metric": "token_f1", "win_rate": 0.7},
        "gate": {"rule": "beats baseline by 0.0 at 95%", "passed": True, "why": "won"},
        "worst": [{"line": 1, "prompt": "x" * 5000}],
        "results_path": "/data/heldout.eval-1234abcd.jsonl",
    }
    context = make_context()
    result = run(promote(model, evaluation=evaluation), context)
    (event,) = context["outlet_events"][DEPLOYMENTS_ALIAS].asset_alias_events
    extra = event.extra
    assert extra["kind"] == "deployed" and extra["slot"] == "production"
    assert extra["deployed_model"] == result["deployed_model"] and extra["model_name"] == model
    assert extra["scores"] == evaluation["scores"]["candidate"]  # the first model's
    assert extra["comparison"] == evaluation["comparison"]
    assert extra["gate"] == evaluation["gate"] and extra["examples"] == 40
    assert extra["results_path"] == evaluation["results_path"]
    assert "worst" not in extra and len(json.dumps(extra)) < 1000  # JSON-small


def test_a_model_already_in_the_slot_is_not_deployed_again(
    train: Callable[[str], str],
    make_context: Any,
    client: DashScopeClient,
    emu: RunningEmulator,
    clock_running: None,
) -> None:
    model = train("The lantern is red.")
    first = run(promote(model), make_context(run_id="week1"))
    context = make_context(run_id="week2")
    again = execute(promote(model), context)
    assert again["promoted"] is False and again["deployed_model"] == first["deployed_model"]
    assert again["retired"] == [] and again["smoke_test"]["passed"] is True
    assert emu.counters()["deployments_created"] == 1
    assert context["outlet_events"][DEPLOYMENTS_ALIAS].asset_alias_events == []


class Crash(BaseException):
    """The worker dies (not an exception the operator may catch)."""


def crash(op: DashScopePromoteModelOperator, method: str) -> DashScopePromoteModelOperator:
    def die(*args: Any, **kwargs: Any) -> Any:
        raise Crash(method)

    setattr(op, method, die)
    return op


def test_a_retry_after_a_crash_between_deploy_and_switch_converges(
    train: Callable[[str], str],
    make_context: Any,
    client: DashScopeClient,
    emu: RunningEmulator,
    clock_running: None,
) -> None:
    old = run(promote(train("The lantern is red.")), make_context(run_id="week1"))["deployed_model"]
    model = train("The lantern is bright red with brass trim.")
    # Try 1 dies in the deferral's wait (the deployment was requested); try 2 dies once it is
    # RUNNING, before the smoke test; try 3 finishes.
    first_try = make_context(run_id="week2")
    defer(promote(model), first_try)
    with pytest.raises(Crash):
        run(crash(promote(model), "smoke"), make_context(run_id="week2"))
    new = first_try["ti"].xcom("deployed_model")
    assert live(client) == {old: "RUNNING", new: "RUNNING"} and holder(client) == old
    third = make_context(run_id="week2")
    result = execute(promote(model), third)  # RUNNING already: no deferral
    assert result["deployed_model"] == new and result["retired"] == [old]
    assert holder(client) == new and emu.counters()["deployments_created"] == 2
    assert len(third["outlet_events"][DEPLOYMENTS_ALIAS].asset_alias_events) == 1


def test_a_retry_after_a_crash_after_the_switch_returns_quietly(
    train: Callable[[str], str],
    make_context: Any,
    client: DashScopeClient,
    emu: RunningEmulator,
    clock_running: None,
) -> None:
    old = run(promote(train("The lantern is red.")), make_context(run_id="week1"))["deployed_model"]
    model = train("The lantern is bright red with brass trim.")
    with pytest.raises(Crash):
        run(crash(promote(model), "emit_model"), make_context(run_id="week2"))
    emu.advance(60)  # the retired one is gone
    again = make_context(run_id="week2")
    result = execute(promote(model), again)  # RUNNING and holding the slot: no deferral
    assert result["promoted"] is True and result["retired"] == []
    assert old not in live(client) and holder(client) == result["deployed_model"]
    assert emu.counters()["deployments_created"] == 2
    assert again["outlet_events"][DEPLOYMENTS_ALIAS].asset_alias_events == []


def test_a_deployment_that_fails_is_removed_and_the_slot_is_unchanged(
    train: Callable[[str], str], make_context: Any, client: DashScopeClient, emu: RunningEmulator
) -> None:
    model = train("The lantern is red.")
    context = make_context()
    op = promote(model)
    defer(op, context)
    new = context["ti"].xcom("deployed_model")
    emu.set_deployment_status(new, "FAILED")
    with pytest.raises(DashScopeWaitError, match="Slot 'production' is unchanged"):
        run(promote(model), make_context())
    assert live(client).get(new) in (None, "DELETING") and holder(client) is None


def test_bad_input_is_refused_before_any_request(
    train: Callable[[str], str], make_context: Any, emu: RunningEmulator
) -> None:
    model = train("The lantern is red.")
    before = emu.counters()["requests_total"]
    with pytest.raises(AirflowFailException, match="smoke_test prompt 1, message 0"):
        execute(promote(model, smoke_test=[[{"content": "no role"}]]), make_context())
    with pytest.raises(AirflowFailException, match="slot must be a name"):
        execute(promote(model, slot=" "), make_context())
    with pytest.raises(AirflowFailException, match="expect must be"):
        promote(model, expect=42)
    with pytest.raises(TypeError, match="decides suffix from the slot"):
        promote(model, suffix="x")
    assert emu.counters()["requests_total"] == before  # not even a listing


def test_a_holder_that_fails_its_smoke_test_is_not_removed(
    train: Callable[[str], str], make_context: Any, client: DashScopeClient, clock_running: None
) -> None:
    model = train("The lantern is red.")
    first = run(promote(model), make_context(run_id="week1"))
    with pytest.raises(SmokeTestFailedError, match="keeps serving \\(it did before\\)"):
        execute(promote(model, expect="green"), make_context(run_id="week2"))
    assert holder(client) == first["deployed_model"]
