"""The worst examples: what a reader of the evaluation looks at first."""

from __future__ import annotations

from airflow_dashscope.evaluation.summary import worst_examples


def record(line: int, candidate: float, baseline: float) -> dict[str, object]:
    return {
        "line": line,
        "question": f"q{line}",
        "reference": "r",
        "answers": {"candidate": "a", "baseline": "b"},
        "scores": {"candidate": {"f1": candidate}, "baseline": {"f1": baseline}},
    }


def test_losses_come_first_then_the_weakest_wins() -> None:
    records = [record(1, 0.9, 0.1), record(2, 0.2, 0.8), record(3, 0.5, 0.0), record(4, 0.6, 0.6)]
    worst = worst_examples(records, "candidate", "baseline", "f1")
    assert [w["line"] for w in worst] == [2, 4, 3, 1]


def test_a_candidate_that_never_loses_still_shows_its_weakest_answers() -> None:
    records = [record(line, 1.0 - line / 100, 0.0) for line in range(1, 15)]
    worst = worst_examples(records, "candidate", "baseline", "f1")
    assert len(worst) == 10 and worst[0]["line"] == 14


def test_a_single_model_shows_its_lowest_scores() -> None:
    records = [record(1, 0.3, 0.0), record(2, 0.1, 0.0)]
    assert [w["line"] for w in worst_examples(records, "candidate", None, "f1")] == [2, 1]
