"""The cost check before anything is paid for: estimated billed tokens (and yuan) against a
budget in tokens (``max_billed_tokens``) or in yuan (``max_cost``).

Training is billed per token x epoch (model-training-and-deployment-billing.md) at the model's
unit price (``prices.py``). The upload operator knows the tokens from validating the data, the
fine-tune operator from the upload's XCom; both ask this one check, so the estimate and the
refusal read the same everywhere.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from airflow_dashscope.checks.parameters import as_number
from airflow_dashscope.checks.prices import (
    PRICES_OPTION,
    as_yuan,
    cost_at,
    cost_note,
    price_setting,
    training_price,
    yuan,
)
from airflow_dashscope.exceptions import InvalidRequestError, OverBudgetError

#: Where the fine-tune operator's ``training_tokens`` usually comes from.
TOKENS_SOURCE = 'training_tokens (e.g. the upload\'s upload.output["training_tokens"])'


@dataclass(frozen=True)
class BilledTokens:
    """Estimated billed tokens: one pass over the data times the epochs; with a ``model``,
    what they cost at its ``price`` (yuan per 1,000 tokens; None: the model has none)."""

    tokens: int
    epochs: int
    model: str | None = None
    price: Decimal | None = None

    @property
    def total(self) -> int:
        return self.tokens * self.epochs

    @property
    def cost(self) -> Decimal | None:
        """Yuan, rounded to the fen; None without a price."""
        return cost_at(self.total, self.price)

    def __str__(self) -> str:
        tokens = f"{self.total} = {self.tokens} tokens x {self.epochs} epochs"
        return (
            tokens
            if self.model is None
            else f"{tokens}, {cost_note(self.total, self.model, self.price)}"
        )


def price_of(model: str | None, base_model: str | None = None) -> Decimal | None:
    """The model's training price, ``[dashscope] training_prices`` first; a bad setting fails
    the task for good (no retry fixes a configuration)."""
    try:
        return training_price(model, base_model=base_model, overrides=price_setting())
    except ValueError as error:
        raise InvalidRequestError(str(error)) from None


def cost_text(billed_tokens: Any, model: str | None, base_model: str | None = None) -> str | None:
    """``billed_tokens`` (an int) in yuan as a result carries it (``"0.03"``), None if unknown."""
    if isinstance(billed_tokens, bool) or not isinstance(billed_tokens, int):
        return None
    amount = cost_at(billed_tokens, price_of(model, base_model))
    return None if amount is None else str(amount)


def per_epoch(tokens: int, model: str | None, counted_by: str) -> str:
    """One pass over the data, for the upload's log: the tokens, then (with a model) yuan."""
    line = f"{tokens} tokens per epoch (counted by: {counted_by})"
    return line if not model else f"{line}, {cost_note(tokens, model, price_of(model))}"


def total_tokens(training_tokens: Any) -> Any:
    """The tokens of one pass: a count (numeric text accepted), or a list of them (several
    files) summed; None or anything else unusable is returned as given."""
    if isinstance(training_tokens, Sequence) and not isinstance(training_tokens, str):
        counts = [as_number(item) for item in training_tokens if item is not None]
        if not all(isinstance(count, int) for count in counts):
            return None
        return sum(counts) or None
    return as_number(training_tokens)


def check_budget(
    training_tokens: Any,
    n_epochs: Any,
    max_billed_tokens: Any,
    *,
    model: str | None = None,
    max_cost: Any = None,
) -> BilledTokens | None:
    """The estimate (None when the tokens or epochs are not known), priced for ``model``;
    raises :class:`OverBudgetError` when it exceeds ``max_billed_tokens`` or ``max_cost``
    (yuan), and :class:`InvalidRequestError` when a budget is set that cannot be checked."""
    tokens, epochs = total_tokens(training_tokens), as_number(n_epochs)
    known = isinstance(tokens, int) and isinstance(epochs, int)
    price = price_of(model) if model else None
    estimate = BilledTokens(tokens, epochs, model or None, price) if known else None
    _check_cost(estimate, tokens, epochs, max_cost)
    limit = as_number(max_billed_tokens)
    if limit is None:
        return estimate
    if isinstance(limit, bool) or not isinstance(limit, (int, float)):
        raise InvalidRequestError(f"max_billed_tokens must be a number, got {limit!r}")
    if estimate is None:
        raise _unknown_estimate("max_billed_tokens", tokens, epochs)
    if estimate.total > limit:
        raise OverBudgetError(
            f"Use fewer epochs or less data: the estimated billed tokens ({estimate}) exceed "
            f"max_billed_tokens ({limit})."
        )
    return estimate


def _check_cost(estimate: BilledTokens | None, tokens: Any, epochs: Any, max_cost: Any) -> None:
    """``max_cost`` (yuan) against the estimate's exact amount (not the rounded one)."""
    if max_cost is None or (isinstance(max_cost, str) and not max_cost.strip()):
        return
    limit = as_yuan(max_cost)
    if limit is None:
        raise InvalidRequestError(f"max_cost must be a number of yuan >= 0, got {max_cost!r}")
    if estimate is None:
        raise _unknown_estimate("max_cost", tokens, epochs)
    if estimate.price is None:
        raise InvalidRequestError(
            f"Set [dashscope] {PRICES_OPTION} for {estimate.model or 'the model'} (or pass "
            f"model): max_cost needs its price per 1,000 tokens."
        )
    if estimate.total * estimate.price / 1000 > limit:
        raise OverBudgetError(
            f"Use fewer epochs or less data: the estimated cost ({estimate}) exceeds "
            f"max_cost ({yuan(limit)})."
        )


def _unknown_estimate(budget: str, tokens: Any, epochs: Any) -> InvalidRequestError:
    missing = [
        name
        for name, value in ((TOKENS_SOURCE, tokens), ("n_epochs", epochs))
        if not isinstance(value, int)
    ]
    return InvalidRequestError(
        f"Pass {' and '.join(missing)}: {budget} needs them to estimate the cost."
    )
