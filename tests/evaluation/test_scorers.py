"""The scorers on known strings."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_dashscope.evaluation.scorers import (
    exact_match,
    lcs_length,
    resolve_scorers,
    rouge_l,
    score,
    token_f1,
    words,
)
from airflow_dashscope.exceptions import InvalidRequestError


def test_words_lower_case_drop_punctuation_and_split_cjk() -> None:
    assert words("The Cat, sat!") == ["the", "cat", "sat"]
    assert words("你好\uff0c世界 ok") == ["你", "好", "世", "界", "ok"]


@pytest.mark.parametrize(
    ("answer", "reference", "expected"),
    [("Paris.", "paris", 1.0), ("  PARIS ", "Paris!", 1.0), ("Paris is", "Paris", 0.0)],
)
def test_exact_match_ignores_case_punctuation_and_spaces(
    answer: str, reference: str, expected: float
) -> None:
    assert exact_match(answer, reference) == expected


def test_token_f1_on_known_strings() -> None:
    # 3 predicted, 6 expected, 3 in common: precision 1, recall 1/2.
    assert token_f1("the cat sat", "the cat sat on the mat") == pytest.approx(2 / 3)
    assert token_f1("a a b", "a b b") == pytest.approx(2 / 3)  # counts, not sets
    assert token_f1("dog", "cat") == 0.0
    assert token_f1("你好世界", "你好") == pytest.approx(2 / 3)
    assert token_f1("", "") == 1.0 and token_f1("", "x") == 0.0 and token_f1("x", "") == 0.0


def test_rouge_l_uses_the_longest_common_subsequence() -> None:
    assert lcs_length(["a", "b", "c", "d"], ["a", "c", "d", "e"]) == 3
    assert lcs_length(["a", "b"], ["b", "a"]) == 1
    assert rouge_l("a b c d", "a c d e") == pytest.approx(0.75)
    # Word order matters to ROUGE-L, not to token F1.
    assert rouge_l("d c b a", "a b c d") == pytest.approx(0.25)
    assert token_f1("d c b a", "a b c d") == 1.0


def test_scorers_resolve_by_name_or_callable_in_order() -> None:
    def shouting(answer: str, reference: str, example: Any) -> float:
        return float(answer.isupper())

    resolved = resolve_scorers(["rouge_l", shouting, "exact_match"])
    assert list(resolved) == ["rouge_l", "shouting", "exact_match"]
    assert list(resolve_scorers("token_f1")) == ["token_f1"]
    with pytest.raises(InvalidRequestError, match=r"unknown scorer 'bleu'.*token_f1"):
        resolve_scorers(["bleu"])
    with pytest.raises(InvalidRequestError, match="at least one"):
        resolve_scorers([])


@pytest.mark.parametrize("value", [1.5, -0.1, "0.5", None])
def test_a_user_scorer_outside_zero_one_fails_naming_it(value: Any) -> None:
    with pytest.raises(InvalidRequestError, match="scorer 'odd' returned"):
        score("odd", lambda answer, reference, example: value, "a", "b", {})


def test_a_user_scorer_sees_the_example() -> None:
    seen: list[Any] = []

    def scorer(answer: str, reference: str, example: Any) -> float:
        seen.append(example)
        return 1.0

    assert score("s", scorer, "a", "b", {"messages": []}) == 1.0 and seen == [{"messages": []}]
