"""The judge's parsing and position-bias cancelling, and the two gate rules."""

from __future__ import annotations

import asyncio

import pytest

from airflow_dashscope.evaluation.gate import Gate
from airflow_dashscope.evaluation.judge import (
    PROMPT,
    judge_pair,
    judge_summary,
    outcome,
    parse_verdict,
)
from airflow_dashscope.evaluation.stats import Interval


@pytest.mark.parametrize(
    ("reply", "verdict"),
    [
        ("[[A]]", "A"),
        ("After thinking: [[B]]", "B"),
        ("[[tie]]", "TIE"),
        ("[[C]]", "TIE"),
        ("A", "A"),
        ("b.", "B"),
        ("Answer B", "B"),
        ("Verdict: A", "A"),
        ("The better answer is: B", "B"),
        ("Tie", "TIE"),
        ("[[A]] no wait, [[B]]", None),
        ("I cannot decide.", None),
        ("", None),
        (PROMPT.format(question="q", reference="r", first="x", second="y"), None),
    ],
)
def test_verdicts_are_parsed_robustly(reply: str, verdict: str | None) -> None:
    assert parse_verdict(reply) == verdict


def test_both_orders_must_agree() -> None:
    assert outcome("A", "B") == "win"  # first as A, then as B: preferred both times
    assert outcome("B", "A") == "loss"
    assert outcome("TIE", "TIE") == "tie"
    assert outcome("A", "A") == "inconsistent"  # whatever came first won: position bias
    assert outcome("TIE", "B") == "inconsistent"
    assert outcome(None, "A") == "unparsed"


def judged(prefers: str) -> dict[str, object]:
    async def ask(prompt: str) -> str:
        if prefers == "first position":
            return "[[A]]"
        first = prompt.split("Answer A:\n", 1)[1].split("\n\nAnswer B:", 1)[0]
        return "[[A]]" if "right" in first else "[[B]]"

    return asyncio.run(judge_pair(ask, "q?", "right", "right answer", "wrong answer"))


def test_a_position_biased_judge_counts_for_no_one() -> None:
    assert judged("first position") == {"orders": ["A", "A"], "outcome": "inconsistent"}
    assert judged("content") == {"orders": ["A", "B"], "outcome": "win"}
    summary = judge_summary("judge", ["win", "win", "loss", "inconsistent", "unparsed"])
    assert summary == {
        "model": "judge",
        "wins": 2,
        "losses": 1,
        "ties": 0,
        "inconsistent": 1,
        "unparsed": 1,
        "win_rate": 0.4,
    }


def test_min_score_and_must_beat() -> None:
    score = Interval(0.65, 0.6, 0.7)
    assert Gate().judge("c", "token_f1", score, None) is None
    passed = Gate(min_score=0.6).judge("c", "token_f1", score, None)
    assert passed == {
        "rule": "mean >= 0.6",
        "passed": True,
        "why": "c's mean token_f1 0.650 reaches min_score 0.6",
    }
    assert not Gate(min_score=0.7).judge("c", "token_f1", score, None)["passed"]  # type: ignore[index]
    gate = Gate(must_beat="baseline", margin=0.02)
    ahead = gate.judge("c", "token_f1", score, Interval(0.1, 0.03, 0.2))
    assert (
        ahead is not None and ahead["passed"] and ahead["rule"] == "beats baseline by 0.02 at 95%"
    )
    # A better mean is not enough: the lower bound must clear the margin.
    lucky = gate.judge("c", "token_f1", score, Interval(0.1, 0.01, 0.2))
    assert lucky is not None and not lucky["passed"] and "[+0.010, +0.200]" in lucky["why"]
    both = Gate(min_score=0.7, must_beat="baseline").judge(
        "c", "token_f1", score, Interval(0.1, 0.05, 0.2)
    )
    assert both is not None and not both["passed"] and both["rule"].count(" and ") == 1
