"""The emulator's judge (a simulation): what a capable and a small model answer to a pairwise
comparison, and that an ordinary prompt is not taken for one."""

from __future__ import annotations

from airflow_dashscope.emulator.judging import verdict
from airflow_dashscope.evaluation.judge import PROMPT, parse_verdict


def ask(model: str, first: str, second: str, reference: str = "Paris is the capital") -> str:
    prompt = PROMPT.format(question="Capital?", reference=reference, first=first, second=second)
    reply = verdict(model, prompt)
    assert reply is not None
    return str(parse_verdict(reply))


def test_a_capable_judge_prefers_the_answer_closer_to_the_reference_in_either_order() -> None:
    good, bad = "Paris is the capital of France", "Lyon, I think"
    assert ask("qwen3-32b", good, bad) == "A" and ask("qwen3-32b", bad, good) == "B"
    assert ask("qwen3-32b", good, good) == "TIE"


def test_a_small_judge_prefers_the_first_of_a_close_pair_but_not_of_a_clear_one() -> None:
    near, other = "Paris is the capital", "Paris is the capital city"
    assert ask("qwen3-8b", near, other) == "A" and ask("qwen3-8b", other, near) == "A"
    good, bad = "Paris is the capital", "Lyon"
    assert ask("qwen3-8b", bad, good) == "B"


def test_an_ordinary_prompt_is_not_a_comparison() -> None:
    assert verdict("qwen3-32b", "What is the answer? A: yes") is None
    assert verdict("qwen3-32b", "Answer A:\nyes") is None
