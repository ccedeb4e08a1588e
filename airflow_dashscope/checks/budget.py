"""The cost check before anything is paid for: estimated billed tokens against a budget.

Training is billed per token x epoch (model-training-and-deployment-billing.md). The upload
operator knows the tokens from validating the data, the fine-tune operator from the upload's
XCom; both ask this one check, so the estimate and the refusal read the same everywhere.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from airflow_dashscope.checks.parameters import as_number
from airflow_dashscope.exceptions import InvalidRequestError, OverBudgetError

#: Where the fine-tune operator's ``training_tokens`` usually comes from.
TOKENS_SOURCE = 'training_tokens (e.g. the upload\'s upload.output["training_tokens"])'


@dataclass(frozen=True)
class BilledTokens:
    """Estimated billed tokens: one pass over the data times the epochs."""

    tokens: int
    epochs: int

    @property
    def total(self) -> int:
        return self.tokens * self.epochs

    def __str__(self) -> str:
        return f"{self.total} = {self.tokens} tokens x {self.epochs} epochs"


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
    training_tokens: Any, n_epochs: Any, max_billed_tokens: Any
) -> BilledTokens | None:
    """The estimate (None when the tokens or epochs are not known); raises
    :class:`OverBudgetError` when it exceeds ``max_billed_tokens``, and
    :class:`InvalidRequestError` when a budget is set that cannot be checked."""
    tokens, epochs = total_tokens(training_tokens), as_number(n_epochs)
    known = isinstance(tokens, int) and isinstance(epochs, int)
    estimate = BilledTokens(tokens, epochs) if known else None
    limit = as_number(max_billed_tokens)
    if limit is None:
        return estimate
    if isinstance(limit, bool) or not isinstance(limit, (int, float)):
        raise InvalidRequestError(f"max_billed_tokens must be a number, got {limit!r}")
    if estimate is None:
        missing = [
            name
            for name, value in ((TOKENS_SOURCE, tokens), ("n_epochs", epochs))
            if not isinstance(value, int)
        ]
        raise InvalidRequestError(
            f"Pass {' and '.join(missing)}: max_billed_tokens needs them to estimate the cost."
        )
    if estimate.total > limit:
        raise OverBudgetError(
            f"Use fewer epochs or less data: the estimated billed tokens ({estimate}) exceed "
            f"max_billed_tokens ({limit})."
        )
    return estimate
