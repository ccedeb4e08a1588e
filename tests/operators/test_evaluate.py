"""DashScopeEvaluateModelOperator over the wire: models the emulator trained on clean or noisy
data, scored on held-out paraphrases, gated, reused on a rerun, and run by ``dag.test()``."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest

from airflow_dashscope.client import DashScopeClient
from airflow_dashscope.emulator.runner import RunningEmulator
from airflow_dashscope.exceptions import (
    DashScopeFatalError,
    InvalidTrainingDataError,
    OverBudgetError,
)
from airflow_dashscope.operators import DashScopeEvaluateModelOperator
from airflow_dashscope.operators.evaluate import GateFailedError
from tests.emulator.test_emulator_learning import FACTS, GOOD, sft
from tests.operators.helpers import execute

GENERATION = "POST /api/v1/services/aigc/text-generation/generation"

try:  # Airflow >= 3.2
    from airflow.sdk.exceptions import AirflowSkipException
except ImportError:  # Airflow 3.1
    from airflow.exceptions import AirflowSkipException  # type: ignore[no-redef]


def heldout(tmp_path: Path, facts: list[tuple[str, str, str]] = FACTS) -> Path:
    """The held-out paraphrases with their reference answers."""
    path = tmp_path / "heldout.jsonl"
    lines = [
        json.dumps(
            {
                "messages": [
                    {"role": "user", "content": held},
                    {"role": "assistant", "content": answer},
                ]
            }
        )
        for _, held, answer in facts
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


def trained(client: DashScopeClient, emu: RunningEmulator, tmp_path: Path, *, noisy: bool) -> str:
    """A deployed model trained on the facts (``noisy``: each answer another fact's)."""
    data = tmp_path / ("noisy.jsonl" if noisy else "clean.jsonl")
    data.write_bytes(sft(FACTS, noisy=noisy))
    job = client.create_fine_tune(
        "qwen3-8b", [client.upload_file(str(data))], training_type="sft", hyper_parameters=GOOD
    )
    emu.advance(3600)
    output = client.get_fine_tune(job.job_id).finetuned_output
    assert output
    deployed = client.create_deployment(output).deployed_model
    emu.advance(600)
    return deployed


@pytest.fixture
def clean(client: DashScopeClient, emu: RunningEmulator, tmp_path: Path) -> str:
    return trained(client, emu, tmp_path, noisy=False)


@pytest.fixture
def noisy(client: DashScopeClient, emu: RunningEmulator, tmp_path: Path) -> str:
    return trained(client, emu, tmp_path, noisy=True)


def evaluate(path: Path, models: Any, **options: Any) -> DashScopeEvaluateModelOperator:
    options.setdefault("scorers", ["token_f1", "exact_match", "rouge_l"])
    return DashScopeEvaluateModelOperator(
        task_id=options.pop("task_id", "evaluate"), heldout_path=str(path), models=models, **options
    )


def generations(emu: RunningEmulator) -> int:
    return int(emu.counters()["requests"].get(GENERATION, 0))


def test_a_clean_candidate_passes_must_beat_against_the_base_model(
    emu: RunningEmulator, clean: str, tmp_path: Path, make_context: Any, task_log: Any
) -> None:
    path = heldout(tmp_path)
    emu.emulator.counters.reset()
    result = execute(
        evaluate(path, {"candidate": clean, "baseline": "qwen3-8b"}, must_beat="baseline"),
        make_context(),
    )
    assert list(result["models"]) == ["candidate", "baseline"]
    assert result["examples"] == len(FACTS) and result["metric"] == "token_f1"
    candidate = result["scores"]["candidate"]["token_f1"]
    assert candidate["low"] <= candidate["mean"] <= candidate["high"] and candidate["mean"] > 0.8
    comparison = result["comparison"]
    assert comparison["against"] == "baseline" and comparison["difference"]["low"] > 0
    assert comparison["wins"] + comparison["losses"] + comparison["ties"] == len(FACTS)
    assert result["gate"] == {
        "rule": "beats baseline by 0 at 95%",
        "passed": True,
        "why": result["gate"]["why"],
    }
    assert result["usage"]["calls"] == 2 * len(FACTS) == generations(emu)
    assert result["reused"] is False and result["judge"] is None
    assert result["cost"] is None and result["estimated_cost"] is None  # no inference price
    # The per-example file beside the data: a header, then one line per example.
    results = Path(result["results_path"])
    assert results.parent == tmp_path and results.name.startswith("heldout.jsonl.eval-")
    lines = [json.loads(line) for line in results.read_text().splitlines()]
    assert lines[0]["evaluation"] == result["digest"] and len(lines) == 1 + len(FACTS)
    assert set(lines[1]) >= {"line", "prompt", "reference", "answers", "scores", "tokens", "judge"}
    assert "Gate PASSED" in task_log.text and "mean" not in result["gate"]["rule"]
    assert "candidate - baseline on token_f1: 0.75" in task_log.text
    assert "Used: 20 calls (0 retried)" in task_log.text
    assert emu.api_key not in results.read_text() and emu.api_key not in task_log.text


def test_a_noisy_candidate_is_rejected_by_the_gate(
    emu: RunningEmulator, clean: str, noisy: str, tmp_path: Path, make_context: Any, task_log: Any
) -> None:
    path = heldout(tmp_path)
    models = {"candidate": noisy, "production": clean}
    with pytest.raises(GateFailedError, match="does not exceed the margin") as failed:
        execute(evaluate(path, models, must_beat="production"), make_context())
    assert isinstance(failed.value, DashScopeFatalError)  # no retry
    assert "Gate FAILED (beats production by 0 at 95%)" in task_log.text
    # on_fail="skip" skips the task (and so a promotion downstream) instead; the figures stay
    # readable (the XCom "evaluation" is pushed before the gate decides).
    context = make_context()
    with pytest.raises(AirflowSkipException):
        execute(evaluate(path, models, must_beat="production", on_fail="skip"), context)
    kept = context["ti"].xcom("evaluation")
    assert kept["gate"]["passed"] is False and kept["comparison"]["difference"]["high"] < 0
    assert (
        kept["worst"]
        and kept["worst"][0]["scores"]["candidate"] < kept["worst"][0]["scores"]["production"]
    )
    assert kept["reused"] is True  # the same inputs as the failed run: no call made again


def test_min_score_alone_gates_a_single_model(
    emu: RunningEmulator, noisy: str, tmp_path: Path, make_context: Any
) -> None:
    with pytest.raises(GateFailedError, match=r"is below min_score 0\.6"):
        execute(evaluate(heldout(tmp_path), noisy, min_score=0.6), make_context())


def test_a_rerun_with_the_same_inputs_calls_no_model(
    emu: RunningEmulator, clean: str, tmp_path: Path, make_context: Any, task_log: Any
) -> None:
    path = heldout(tmp_path)
    models = {"candidate": clean, "baseline": "qwen3-8b"}
    first = execute(evaluate(path, models), make_context())
    before = generations(emu)
    again = execute(evaluate(path, models), make_context())
    assert generations(emu) == before and again["reused"] is True and again["usage"]["calls"] == 0
    assert again["scores"] == first["scores"] and again["digest"] == first["digest"]
    assert "Reusing 10 stored example(s)" in task_log.text
    assert "No model was called: every answer was reused" in task_log.text
    # Another decoding parameter is another evaluation: new calls, another file.
    other = execute(evaluate(path, models, max_tokens=64), make_context())
    assert other["digest"] != first["digest"] and generations(emu) == before + 2 * len(FACTS)


def test_an_invalid_line_fails_before_any_call(
    emu: RunningEmulator, tmp_path: Path, make_context: Any
) -> None:
    path = heldout(tmp_path)
    lines = path.read_text().splitlines()
    lines[3] = json.dumps(
        {"messages": [{"role": "user", "content": "Hi"}, {"role": "user", "content": "?"}]}
    )
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(InvalidTrainingDataError) as invalid:
        execute(evaluate(path, "qwen3-8b"), make_context())
    message = str(invalid.value)
    assert f"{path}:4" in message and "fix:" in message, message
    assert generations(emu) == 0


def test_over_the_token_budget_fails_before_any_call(
    emu: RunningEmulator, tmp_path: Path, make_context: Any
) -> None:
    with pytest.raises(OverBudgetError, match="max_tokens_total"):
        execute(
            evaluate(heldout(tmp_path), {"a": "qwen3-8b", "b": "qwen3-8b"}, max_tokens_total=100),
            make_context(),
        )
    assert generations(emu) == 0


def test_prices_give_the_estimate_and_the_cost(
    emu: RunningEmulator, tmp_path: Path, make_context: Any
) -> None:
    result = execute(
        evaluate(heldout(tmp_path), "qwen3-8b", max_tokens=100, prices={"qwen3-8b": 1}),
        make_context(),
    )
    usage = result["usage"]
    assert float(result["cost"]) == round(
        (usage["input_tokens"] + usage["output_tokens"]) / 1000, 2
    )
    assert float(result["estimated_cost"]) >= float(result["cost"])
    with pytest.raises(OverBudgetError, match="max_cost"):
        execute(
            evaluate(heldout(tmp_path), "qwen3-8b", prices={"qwen3-8b": 1}, max_cost="0.10"),
            make_context(),
        )


def test_the_judge_is_asked_both_orders(
    emu: RunningEmulator, clean: str, tmp_path: Path, make_context: Any
) -> None:
    path = heldout(tmp_path, FACTS[:3])
    result = execute(
        evaluate(path, {"candidate": clean, "baseline": "qwen3-8b"}, judge_model="qwen3-32b"),
        make_context(),
    )
    judge = result["judge"]
    assert judge["model"] == "qwen3-32b" and result["usage"]["calls"] == 3 * 2 + 3 * 2
    # The clean candidate answers the facts, the base model echoes: a capable judge agrees in
    # both orders, every time.
    assert judge["wins"] == 3 and judge["unparsed"] == 0 and judge["win_rate"] == 1.0


def test_both_orders_cancel_a_small_judges_position_bias(
    emu: RunningEmulator, clean: str, tmp_path: Path, make_context: Any
) -> None:
    """Two equally good answers: a small judge prefers whichever it reads first, so one order
    alone would count a win; both orders disagree and count it inconsistent, not a win. A
    capable judge calls it a tie."""
    path = heldout(tmp_path, FACTS[:3])
    models = {"candidate": clean, "twin": clean}
    small = execute(evaluate(path, models, judge_model="qwen3-8b"), make_context())["judge"]
    assert small["inconsistent"] == 3 and small["wins"] == 0 and small["losses"] == 0
    capable = execute(
        evaluate(path, models, judge_model="qwen3-32b", output_path=tmp_path / "capable.jsonl"),
        make_context(),
    )["judge"]
    assert capable["ties"] == 3 and capable["inconsistent"] == 0


def test_a_request_no_retry_can_fix_fails_at_once(
    emu: RunningEmulator, tmp_path: Path, make_context: Any
) -> None:
    emu.inject_fault(status=400, code="InvalidParameter", message="bad max_tokens", count=50)
    with pytest.raises(DashScopeFatalError, match="bad max_tokens"):
        execute(evaluate(heldout(tmp_path), "qwen3-8b", max_concurrency=1), make_context())
    assert generations(emu) == 1


def test_throttled_calls_back_off_and_finish(
    emu: RunningEmulator, tmp_path: Path, make_context: Any, task_log: Any
) -> None:
    # More 429s in a row than the client retries on its own (4): the evaluation waits more.
    emu.inject_fault(
        status=429, code="Throttling.RateQuota", retry_after=0.01, count=7, path="generation"
    )
    result = execute(evaluate(heldout(tmp_path), "qwen3-8b", max_concurrency=1), make_context())
    assert result["usage"]["calls"] == len(FACTS) and result["usage"]["retries"] >= 1
    assert generations(emu) == len(FACTS) + 7
    assert any(
        "trying again" in r.getMessage() for r in task_log.records if r.levelno == logging.WARNING
    )


DAG_FILE = """
import pendulum
from airflow.sdk import DAG
from airflow.providers.standard.operators.empty import EmptyOperator

from airflow_dashscope.operators import DashScopeEvaluateModelOperator

with DAG("dashscope_evaluate", schedule=None, start_date=pendulum.datetime(2025, 1, 1)) as dag:
    evaluate = DashScopeEvaluateModelOperator(
        task_id="evaluate",
        heldout_path=HELDOUT,
        models={"candidate": "{{ params.candidate }}", "baseline": "qwen3-8b"},
        scorers=["token_f1", "rouge_l"],
        must_beat="baseline",
        on_fail="skip",
        params={"candidate": CANDIDATE},
    )
    evaluate >> EmptyOperator(task_id="promote")
"""


def load_dag(dags_folder: Path, heldout_path: Path, candidate: str) -> Any:
    import importlib.util

    source = f"HELDOUT = {str(heldout_path)!r}\nCANDIDATE = {candidate!r}\n{DAG_FILE}"
    dags_folder.mkdir(parents=True, exist_ok=True)
    path = dags_folder / "dashscope_evaluate.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("dashscope_evaluate", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.dag


def test_dag_test_skips_the_promotion_of_a_worse_candidate(
    airflow_db: Path,
    emu: RunningEmulator,
    clean: str,
    noisy: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import os

    folder = Path(os.environ["AIRFLOW__CORE__DAGS_FOLDER"])
    passed = load_dag(folder, heldout(tmp_path), clean).test()
    states = {ti.task_id: ti.state for ti in passed.get_task_instances()}
    assert states == {"evaluate": "success", "promote": "success"}
    evaluation = next(ti for ti in passed.get_task_instances() if ti.task_id == "evaluate")
    summary = evaluation.xcom_pull(task_ids="evaluate")
    assert summary["models"] == {"candidate": clean, "baseline": "qwen3-8b"}
    assert summary["gate"]["passed"] is True

    rejected = load_dag(folder, heldout(tmp_path), noisy).test()
    states = {ti.task_id: ti.state for ti in rejected.get_task_instances()}
    assert states == {"evaluate": "skipped", "promote": "skipped"}
    assert emu.api_key not in capsys.readouterr().out


def test_a_try_that_fails_half_way_keeps_what_it_paid_for(
    emu: RunningEmulator, tmp_path: Path, make_context: Any
) -> None:
    from airflow_dashscope.evaluation.plan import Plan

    path = heldout(tmp_path)
    op = evaluate(path, "qwen3-8b")

    def three_then_crash(evaluation: Any, plan: Plan) -> None:
        for record in list(plan.stored.values()) or []:
            evaluation.records[record["line"]] = record
        for line in (1, 2, 3):
            evaluation.records[line] = {
                "line": line,
                "prompt": [{"role": "user", "content": FACTS[line - 1][1]}],
                "question": FACTS[line - 1][1],
                "reference": FACTS[line - 1][2],
                "answers": {"candidate": FACTS[line - 1][2]},
                "tokens": {"candidate": {"input": 1, "output": 1}},
                "judge": None,
            }
        raise ConnectionError("the worker died")

    with pytest.raises(ConnectionError):
        Plan.make(op).execute(three_then_crash, print)
    assert sorted(Plan.make(op).stored) == [1, 2, 3]
    # The next try asks only about the seven examples left.
    result = execute(op, make_context())
    assert result["usage"]["calls"] == 7 == generations(emu) and result["reused"] is False
    assert result["scores"]["candidate"]["exact_match"]["mean"] == pytest.approx(0.3)
