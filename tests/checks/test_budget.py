"""The one budget check both the upload and the fine-tune operator ask."""

from __future__ import annotations

from typing import Any

import pytest
from airflow.sdk.exceptions import AirflowFailException

from airflow_dashscope.checks.budget import BilledTokens, check_budget
from airflow_dashscope.exceptions import InvalidRequestError, OverBudgetError


@pytest.mark.parametrize(
    ("tokens", "epochs", "expected"),
    [
        (1000, 3, 3000),
        ("1000", "3", 3000),  # template text
        ([100, 20, None], 1, 120),  # several files, summed
        (None, 3, None),
        (1000, None, None),
    ],
)
def test_the_estimate_is_tokens_times_epochs(tokens: Any, epochs: Any, expected: Any) -> None:
    estimate = check_budget(tokens, epochs, None)
    assert (None if estimate is None else estimate.total) == expected


def test_over_the_budget_says_what_to_change_first() -> None:
    with pytest.raises(OverBudgetError) as over:
        check_budget(1000, 3, "2999")
    assert isinstance(over.value, AirflowFailException)
    assert str(over.value).startswith("Use fewer epochs or less data")
    assert "3000 = 1000 tokens x 3 epochs" in str(over.value)
    assert check_budget(1000, 3, 3000) == BilledTokens(1000, 3)


@pytest.mark.parametrize(
    ("tokens", "epochs", "missing"),
    [(None, 3, "training_tokens"), (1000, None, "n_epochs"), (["x"], 2, "training_tokens")],
)
def test_a_budget_that_cannot_be_checked_names_what_is_missing(
    tokens: Any, epochs: Any, missing: str
) -> None:
    with pytest.raises(InvalidRequestError, match=missing):
        check_budget(tokens, epochs, 10)


def test_the_budget_must_be_a_number() -> None:
    with pytest.raises(InvalidRequestError, match="must be a number"):
        check_budget(1, 1, "lots")
