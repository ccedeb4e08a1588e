"""What a fine-tuned model answers (deterministic simulation; no HTTP here).

A prompt close to a training example's user turn (character n-gram Jaccard similarity at
least ``THRESHOLD``: trigrams, or bigrams for mostly CJK text) gets that example's assistant
answer, the closest one winning (the model's own data before its parent's). A share of prompts
(``JobRecord.answer_miss``, see :mod:`.learning`) is answered badly: those whose hash falls
below the share, so a worse run misses every prompt a better one misses, and more. They get
the base model's reply or, when the learning rate made training unstable, the answer
deterministically corrupted (its first third repeated to its length, the degenerate
repetition of a diverged model). Prompts near no
example get the base model's reply. Same prompt, same answer, always.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

from .state import JobRecord, Store

THRESHOLD = 0.6
_WORDS = re.compile(r"\w+")


def _mostly_cjk(text: str) -> bool:
    wide = sum(1 for ch in text if unicodedata.east_asian_width(ch) in ("W", "F"))
    return wide * 2 > len(text)


def ngrams(text: str) -> frozenset[str]:
    norm = " ".join(_WORDS.findall(text.casefold()))
    size = 2 if _mostly_cjk(norm) else 3
    padded = f" {norm} "
    return frozenset(padded[i : i + size] for i in range(max(1, len(padded) - size + 1)))


def similarity(a: frozenset[str], b: frozenset[str]) -> float:
    union = len(a | b)
    return len(a & b) / union if union else 0.0


def _index(store: Store, job: JobRecord) -> list[tuple[frozenset[str], str]]:
    """The job's pairs as n-gram sets, built once per process (the job's pairs never change
    after it succeeds)."""
    key = f"{job.job_id}/{len(job.learned)}"
    found = store.recall.get(key)
    if found is None:
        found = store.recall[key] = [(ngrams(q), a) for q, a in job.learned]
    return found


def _share(prompt: str) -> float:
    """Where ``prompt`` falls in [0, 1): the same for every model, run and process."""
    digest = hashlib.sha256(prompt.encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def corrupt(answer: str) -> str:
    """The answer's first third repeated to its length: "The lantern is The lantern is ..."."""
    words = answer.split() or [answer]
    head = words[: max(1, len(words) // 3)]
    return " ".join(head[i % len(head)] for i in range(len(words)))


def recalled(store: Store, job: JobRecord, prompt: str) -> str | None:
    """The learned answer to ``prompt``, or None when the model answers as its base would.
    Every id serving the job (its output, exports, deployments) answers the same."""
    if not job.learned or not prompt.strip():
        return None
    grams = ngrams(prompt)
    best, answer = 0.0, None
    for pair_grams, pair_answer in _index(store, job):
        score = similarity(grams, pair_grams)
        if score > best:
            best, answer = score, pair_answer
    if answer is None or best < THRESHOLD:
        return None
    if _share(prompt) < job.answer_miss:
        return corrupt(answer) if job.answers_corrupted else None
    return answer
