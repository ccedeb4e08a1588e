"""The per-example results file, written beside the held-out data, and its reuse on a rerun.

``<heldout>.eval-<digest8>.jsonl`` in the same directory (or object store prefix): a header
line, then one line per example with its prompt, reference, each model's answer and tokens,
the scores and the judge's verdicts. The digest covers everything that decides the answers
(the data's bytes, the model ids, the decoding parameters, the judge), so a rerun with the
same inputs finds the file and calls no model again; one that stopped half way (a failed
try) resumes from the examples it has. The scorers are not in the digest: scores are
recomputed from the stored answers for free, so adding a scorer costs nothing.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import Any

from airflow_dashscope.evaluation.examples import Source, as_source, display_name

FORMAT = 1


def inputs_digest(
    data_sha256: str,
    models: Mapping[str, str],
    parameters: Mapping[str, Any],
    judge_model: str | None,
) -> str:
    """A hex digest of what decides every answer (see the module doc)."""
    inputs = {
        "format": FORMAT,
        "data": data_sha256,
        "models": list(models.items()),
        "parameters": parameters,
        "judge": judge_model,
    }
    return hashlib.sha256(json.dumps(inputs, sort_keys=True, default=str).encode()).hexdigest()


def results_location(heldout: Source, digest: str, output_path: Any = None) -> Source:
    """``output_path`` if given, else ``<heldout>.eval-<digest8>.jsonl`` beside the data."""
    if output_path:
        return as_source(str(output_path)) if not hasattr(output_path, "open") else output_path
    suffix = f".eval-{digest[:8]}.jsonl"
    target: Any = heldout
    if isinstance(heldout, str) or not hasattr(target, "with_name"):
        return f"{display_name(heldout)}{suffix}"
    return target.with_name(target.name + suffix)


def _path(location: Source) -> Any:
    if isinstance(location, str):
        from pathlib import Path

        return Path(location)
    return location


def read_results(location: Source, digest: str) -> dict[int, dict[str, Any]]:
    """The stored examples by line number, if the file is this evaluation's; else empty."""
    path = _path(location)
    try:
        if not path.exists():
            return {}
        with path.open("r", encoding="utf-8") as stream:
            header = json.loads(stream.readline() or "{}")
            if header.get("evaluation") != digest or header.get("format") != FORMAT:
                return {}
            records = (json.loads(line) for line in stream if line.strip())
            return {int(record["line"]): record for record in records}
    except (OSError, ValueError, KeyError, TypeError):
        return {}  # unreadable or foreign: evaluated afresh and overwritten


def write_results(
    location: Source, digest: str, models: Mapping[str, str], records: Iterable[dict[str, Any]]
) -> None:
    """The whole file, header first, examples in line order (written once, at the end)."""
    path = _path(location)
    if not hasattr(path, "protocol"):  # a local file; an object store needs no directories
        path.parent.mkdir(parents=True, exist_ok=True)
    ordered = sorted(records, key=lambda record: int(record["line"]))
    header = {
        "evaluation": digest,
        "format": FORMAT,
        "models": dict(models),
        "examples": len(ordered),
    }
    with path.open("w", encoding="utf-8") as stream:
        stream.write(json.dumps(header, ensure_ascii=False) + "\n")
        for record in ordered:
            stream.write(json.dumps(record, ensure_ascii=False) + "\n")
