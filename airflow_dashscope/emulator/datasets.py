"""What a training file holds for billing and learning: its tokens and its question/answer pairs.

A file is read once, the first time a job uses it (a job's creation), and its digest is kept
in memory for the process (``Store.digests``; file contents never change), so no request
re-reads it. A file larger than ``READ_LIMIT_BYTES``, or whose bytes are gone, is counted by
the heuristic ``ceil(bytes / 4)`` and teaches nothing (a documented bound: the emulator is for
tests, and tokenizing gigabytes inside a request would stall it).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field

from .replies import text_of
from .state import FileRecord, Store
from .tokens import count_example, count_text

READ_LIMIT_BYTES = 64 * 1024 * 1024
#: At most this many question/answer pairs are remembered per file (and per model lineage).
MAX_PAIRS = 5000


@dataclass
class FileDigest:
    tokens: int
    #: [user turn, assistant answer] pairs, in file order.
    pairs: list[list[str]] = field(default_factory=list)


def size_estimate(size: int) -> int:
    """The fallback count of a file that cannot be read: about four bytes a token."""
    return math.ceil(size / 4) if size > 0 else 0


def pairs_of(example: object) -> list[list[str]]:
    """Each assistant turn with the user turn before it; a DPO example's ``chosen`` answer."""
    if not isinstance(example, dict) or not isinstance(example.get("messages"), list):
        return []
    turns = [m for m in example["messages"] if isinstance(m, dict)]
    if isinstance(example.get("chosen"), dict):
        turns.append(example["chosen"])
    pairs, question = [], None
    for turn in turns:
        text = text_of(turn.get("content")).strip()
        if turn.get("role") == "user":
            question = text
        elif turn.get("role") == "assistant" and question:
            pairs.append([question, text])
            question = None
    return pairs


def read_digest(store: Store, record: FileRecord, base_model: str) -> FileDigest:
    path = store.file_path(record.file_id)
    if record.size > READ_LIMIT_BYTES or not path.is_file():
        return FileDigest(size_estimate(record.size))
    digest = FileDigest(0)
    with path.open("rb") as src:
        for raw in src:
            line = raw.decode("utf-8", "replace").strip()
            if not line:
                continue
            try:
                example = json.loads(line)
            except ValueError:
                digest.tokens += count_text(line)  # the service would reject it; count it
                continue
            digest.tokens += count_example(example, base_model)
            if len(digest.pairs) < MAX_PAIRS:
                digest.pairs.extend(pairs_of(example)[: MAX_PAIRS - len(digest.pairs)])
    return digest


def digest(store: Store, file_id: str, base_model: str) -> FileDigest:
    """The (cached) digest of a file; the cache key includes the base model, whose template
    may add a default system message."""
    key = f"{file_id}/{base_model}"
    found = store.digests.get(key)
    if found is None:
        record = store.files.get(file_id)
        found = read_digest(store, record, base_model) if record else FileDigest(0)
        store.digests[key] = found
    return found
