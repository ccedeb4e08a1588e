"""Scoring one answer against its reference: each scorer maps to a number in [0, 1].

Built in: ``exact_match`` (after normalising case, punctuation and spaces), ``token_f1``
(SQuAD-style bag-of-words F1) and ``rouge_l`` (the F-measure of the longest common
subsequence of words). A user's callable ``(answer, reference, example) -> float`` is a scorer
too, named by its ``__name__``. Words are ``\\w+`` runs, and each CJK character is a word of
its own (Chinese has no spaces, so whole sentences would otherwise be one "word").
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

from airflow_dashscope.exceptions import InvalidRequestError

Scorer = Callable[[str, str, Any], float]

_WORD = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\u3040-\u30ff\uac00-\ud7af]|[^\W_]+")


def words(text: str) -> list[str]:
    """Lower-case words; each CJK character is a word."""
    return _WORD.findall(text.lower())


def exact_match(answer: str, reference: str, example: Any = None) -> float:
    return 1.0 if words(answer) == words(reference) else 0.0


def token_f1(answer: str, reference: str, example: Any = None) -> float:
    predicted, expected = words(answer), words(reference)
    if not predicted or not expected:
        return float(predicted == expected)
    common = sum((Counter(predicted) & Counter(expected)).values())
    if not common:
        return 0.0
    precision, recall = common / len(predicted), common / len(expected)
    return 2 * precision * recall / (precision + recall)


def lcs_length(a: Sequence[str], b: Sequence[str]) -> int:
    """Length of the longest common subsequence (one row of the table at a time)."""
    if len(a) < len(b):
        a, b = b, a
    previous = [0] * (len(b) + 1)
    for item in a:
        current = [0]
        for j, other in enumerate(b, start=1):
            current.append(previous[j - 1] + 1 if item == other else max(previous[j], current[-1]))
        previous = current
    return previous[-1]


def rouge_l(answer: str, reference: str, example: Any = None) -> float:
    predicted, expected = words(answer), words(reference)
    if not predicted or not expected:
        return float(predicted == expected)
    lcs = lcs_length(predicted, expected)
    if not lcs:
        return 0.0
    precision, recall = lcs / len(predicted), lcs / len(expected)
    return 2 * precision * recall / (precision + recall)


BUILT_IN: dict[str, Scorer] = {
    "exact_match": exact_match,
    "token_f1": token_f1,
    "rouge_l": rouge_l,
}


def resolve_scorers(scorers: Sequence[str | Scorer] | str | Scorer) -> dict[str, Scorer]:
    """Name -> scorer, in the order given; an unknown name fails the task with the choices."""
    given = [scorers] if isinstance(scorers, str) or callable(scorers) else list(scorers)
    resolved: dict[str, Scorer] = {}
    for item in given:
        if isinstance(item, str):
            if item not in BUILT_IN:
                raise InvalidRequestError(
                    f"scorers: unknown scorer {item!r}; use one of {', '.join(BUILT_IN)} or a "
                    "callable (answer, reference, example) -> float in [0, 1]."
                )
            resolved[item] = BUILT_IN[item]
        elif callable(item):
            resolved[getattr(item, "__name__", type(item).__name__)] = item
        else:
            raise InvalidRequestError(f"scorers: {item!r} is neither a name nor a callable.")
    if not resolved:
        raise InvalidRequestError("scorers: give at least one (e.g. ['token_f1']).")
    return resolved


def score(name: str, scorer: Scorer, answer: str, reference: str, example: Any) -> float:
    """The scorer's value, checked: a user scorer that returns something outside [0, 1] (or
    not a number) fails the task, naming the scorer and the value."""
    value = scorer(answer, reference, example)
    if isinstance(value, bool):
        value = float(value)
    if not isinstance(value, (int, float)) or not 0.0 <= float(value) <= 1.0:
        raise InvalidRequestError(
            f"scorer {name!r} returned {value!r}; a scorer must return a number in [0, 1]."
        )
    return float(value)
