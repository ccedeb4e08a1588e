"""An optional pairwise judge model: which of two answers to the same prompt is better.

A judge model tends to prefer whichever answer it reads first, so each example is judged
twice, with the answers in both orders (A/B, then B/A). Only a verdict both orders agree on
counts; two that disagree are counted ``inconsistent`` (position bias, or a coin toss), and a
reply with no single clear verdict is ``unparsed``. Neither is a win for anyone.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

PROMPT = """You are judging two answers to the same request against a reference answer.

Request:
{question}

Reference answer:
{reference}

Answer A:
{first}

Answer B:
{second}

Which answer is more correct and more useful? Reply with exactly one verdict and nothing else:
[[A]] if A is better, [[B]] if B is better, [[TIE]] if they are equally good."""

#: A verdict is a few tokens; a judge that explains first still fits.
JUDGE_PARAMETERS = {"max_tokens": 256}
OUTCOMES = ("win", "loss", "tie", "inconsistent", "unparsed")
_BRACKETED = re.compile(r"\[\[\s*(A|B|TIE|C)\s*\]\]", re.IGNORECASE)
_BARE = re.compile(r"^\W*(?:answer\s+|verdict\s*[:\uff1a]?\s*)?(A|B|TIE)\W*$", re.IGNORECASE)
_LABELLED = re.compile(
    r"\b(?:verdict|winner|better answer)\s*(?:is)?\s*[:\uff1a]?\s*\W?(A|B|TIE)\b", re.IGNORECASE
)


def parse_verdict(reply: str) -> str | None:
    """``"A"``, ``"B"`` or ``"TIE"``; None when the reply names none or more than one."""
    for pattern in (_BRACKETED, _LABELLED):
        found = {_normal(match) for match in pattern.findall(reply)}
        if len(found) == 1:
            return found.pop()
        if found:
            return None
    bare = _BARE.match(reply.strip())
    return _normal(bare.group(1)) if bare else None


def _normal(verdict: str) -> str:
    verdict = verdict.upper()
    return "TIE" if verdict == "C" else verdict


def outcome(first_order: str | None, second_order: str | None) -> str:
    """The first model's result: ``first_order`` shows it as A, ``second_order`` as B."""
    if first_order is None or second_order is None:
        return "unparsed"
    as_first = {"A": "win", "B": "loss", "TIE": "tie"}[first_order]
    as_second = {"A": "loss", "B": "win", "TIE": "tie"}[second_order]
    return as_first if as_first == as_second else "inconsistent"


async def judge_pair(
    ask: Callable[[str], Awaitable[str]], question: str, reference: str, mine: str, theirs: str
) -> dict[str, Any]:
    """Both orders asked; returns the two verdicts and the outcome for ``mine``."""
    first = parse_verdict(
        await ask(PROMPT.format(question=question, reference=reference, first=mine, second=theirs))
    )
    second = parse_verdict(
        await ask(PROMPT.format(question=question, reference=reference, first=theirs, second=mine))
    )
    return {"orders": [first, second], "outcome": outcome(first, second)}


def judge_summary(model: str, outcomes: Iterable[str]) -> dict[str, Any]:
    counts = Counter(outcomes)
    total = sum(counts.values())
    return {
        "model": model,
        "wins": counts["win"],
        "losses": counts["loss"],
        "ties": counts["tie"],
        "inconsistent": counts["inconsistent"],
        "unparsed": counts["unparsed"],
        "win_rate": round(counts["win"] / total, 6) if total else 0.0,
    }
