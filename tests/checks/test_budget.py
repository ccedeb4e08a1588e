"""The one budget check both the upload and the fine-tune operator ask."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from airflow_dashscope.checks.budget import BilledTokens, check_budget, cost_text, per_epoch
from airflow_dashscope.compat import AirflowFailException
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


def test_the_estimate_says_what_it_costs_at_the_models_price() -> None:
    estimate = check_budget(1608, 3, None, model="qwen3-8b")
    assert estimate is not None and estimate.cost == Decimal("0.03")
    assert str(estimate) == (
        "4824 = 1608 tokens x 3 epochs, about ¥0.03 at ¥0.006 per 1,000 for qwen3-8b"
    )


def test_a_model_without_a_price_says_so_never_a_guess() -> None:
    estimate = check_budget(1000, 2, None, model="qwen-next-99b")
    assert estimate is not None and estimate.cost is None
    assert str(estimate).endswith("¥ unknown: set [dashscope] training_prices for qwen-next-99b")
    assert cost_text(2000, "qwen-next-99b") is None
    assert cost_text(2000, "qwen3-8b-ft-1", "qwen3-8b") == "0.01"


def test_the_setting_prices_the_estimate(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW__DASHSCOPE__TRAINING_PRICES", '{"qwen-next-99b": 0.5}')
    estimate = check_budget(1000, 2, None, model="qwen-next-99b")
    assert estimate is not None and estimate.cost == Decimal("1.00")
    assert per_epoch(1000, "qwen-next-99b", "Qwen tokenizer") == (
        "1000 tokens per epoch (counted by: Qwen tokenizer), about ¥0.50 at ¥0.5 per 1,000 "
        "for qwen-next-99b"
    )
    monkeypatch.setenv("AIRFLOW__DASHSCOPE__TRAINING_PRICES", "not json")
    with pytest.raises(InvalidRequestError, match="training_prices"):
        check_budget(1000, 2, None, model="qwen3-8b")


def test_max_cost_is_a_budget_in_yuan_on_the_exact_amount() -> None:
    # 1,000,000 tokens x 2 epochs at 0.006 per 1,000 = 12 yuan.
    assert check_budget(1_000_000, 2, None, model="qwen3-8b", max_cost="12") is not None
    with pytest.raises(OverBudgetError) as over:
        check_budget(1_000_000, 2, None, model="qwen3-8b", max_cost="11.99")
    assert "about ¥12.00" in str(over.value) and "max_cost (¥11.99)" in str(over.value)


@pytest.mark.parametrize(
    ("tokens", "model", "max_cost", "message"),
    [
        (1000, "qwen3-8b", "lots", "max_cost must be a number"),
        (1000, "qwen3-8b", -1, "max_cost must be a number"),
        (None, "qwen3-8b", 1, "training_tokens"),
        (1000, "qwen-next-99b", 1, "Set [dashscope] training_prices for qwen-next-99b"),
        (1000, None, 1, "max_cost needs its price"),
    ],
)
def test_a_cost_budget_that_cannot_be_checked_says_why(
    tokens: Any, model: Any, max_cost: Any, message: str
) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        check_budget(tokens, 2, None, model=model, max_cost=max_cost)
    assert message in str(caught.value)
