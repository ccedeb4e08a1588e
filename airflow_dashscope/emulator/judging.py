"""How a base model compares two answers (deterministic simulation; no HTTP here).

Evaluations often ask a model to judge: "which of these two answers is better?". The pages
say nothing about it (it is an ordinary chat request), so the emulator simulates what a
capable model does and what a small one gets wrong, so that a judged evaluation can be
tested offline:

* a request is a pairwise comparison when its last user turn has an ``Answer A:`` and an
  ``Answer B:`` section (and, optionally, a ``Reference`` answer section), in any order of
  other text; anything else is an ordinary prompt;
* the judge scores each answer by token F1 against the reference (without one: against the
  request) and answers ``[[A]]``, ``[[B]]`` or ``[[TIE]]`` (a difference under ``TIE_BELOW``);
* a small model (``SMALL``: an 8-billion-parameter or smaller Qwen, or a ``-flash`` one) shows
  **position bias**: when the two answers are within ``BIASED_BELOW`` of each other it prefers
  whichever it read first. Asking in both orders exposes it (the two verdicts disagree).
"""

from __future__ import annotations

import re

TIE_BELOW = 0.05
BIASED_BELOW = 0.3
#: Models small enough to prefer the first answer of a close pair.
SMALL = re.compile(r"(?:^|[-_.])(?:0\.6b|1\.7b|4b|7b|8b|flash)(?:$|[-_.])", re.IGNORECASE)
_SECTION = re.compile(
    r"^\s*(answer a|answer b|reference(?: answer)?|request|question)\s*[:\uff1a]\s*$",
    re.IGNORECASE | re.MULTILINE,
)
_WORDS = re.compile(r"\w+")


def section(prompt: str, label: str) -> str | None:
    """The text under the heading ``label`` (up to the next heading; the last one ends at
    the first blank line, where the instructions start); None without that heading."""
    heads = list(_SECTION.finditer(prompt))
    for index, head in enumerate(heads):
        if head.group(1).lower().startswith(label):
            last = index + 1 == len(heads)
            text = prompt[head.end() : len(prompt) if last else heads[index + 1].start()]
            return text.strip().split("\n\n")[0] if last else text.strip()
    return None


def f1(answer: str, reference: str) -> float:
    got = _WORDS.findall(answer.casefold())
    want = _WORDS.findall(reference.casefold())
    common = sum(min(got.count(w), want.count(w)) for w in set(got))
    if not common:
        return 0.0
    precision, recall = common / len(got), common / len(want)
    return 2 * precision * recall / (precision + recall)


def verdict(model: str, prompt: str) -> str | None:
    """The judge's reply to a pairwise comparison; None when ``prompt`` is not one."""
    a, b = section(prompt, "answer a"), section(prompt, "answer b")
    if a is None or b is None:
        return None
    reference = section(prompt, "reference") or section(prompt, "request") or ""
    score_a, score_b = f1(a, reference), f1(b, reference)
    if SMALL.search(model) and abs(score_a - score_b) < BIASED_BELOW:
        return "[[A]]"
    if abs(score_a - score_b) < TIE_BELOW:
        return "[[TIE]]"
    return "[[A]]" if score_a > score_b else "[[B]]"
