"""Held-out ChatML examples, streamed line by line from a local path or an object store URL.

The format is the SFT training format (``{"messages": [...]}`` per line), so the training-data
validator checks it first and its ``file:line: field`` problems (with how to fix each) are
what a bad line fails with. Beyond that, a held-out example must end in the reference: an
assistant message with text. Nothing here calls a model, so bad data fails before money is
spent; nothing reads the whole file into memory.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any

from airflow_dashscope.client.request import Openable
from airflow_dashscope.exceptions import InvalidTrainingDataError
from airflow_dashscope.training_data.jsonl import MAX_LINE_BYTES, UTF8_BOM
from airflow_dashscope.training_data.report import ProblemCollector
from airflow_dashscope.training_data.tokens import (
    content_text,
    count_example,
    estimate_text_tokens,
)
from airflow_dashscope.training_data.validate import validate_training_file

Source = str | os.PathLike[str] | Openable
REFERENCE_HINT = 'end each line with the expected answer: {"role": "assistant", "content": "..."}'


@dataclass(frozen=True)
class Example:
    """One held-out example: the prompt messages, the reference answer, where it came from."""

    line: int
    prompt: list[dict[str, Any]]
    reference: str

    @property
    def question(self) -> str:
        """The last user turn (what a results line and the worst examples show)."""
        users = [m for m in self.prompt if m.get("role") == "user"]
        return content_text((users or self.prompt)[-1].get("content")) if self.prompt else ""


@dataclass
class HeldOut:
    """A checked held-out file: how many examples, their prompt tokens, the bytes' digest."""

    source: Source
    name: str
    examples: int = 0
    prompt_tokens: int = 0
    max_prompt_tokens: int = 0
    reference_tokens: int = 0
    sha256: str = ""


def as_source(path: Any) -> Source:
    """A URL string (``s3://...``, ``file://...``) becomes an ``ObjectStoragePath``; a local
    path or an ``ObjectStoragePath`` is kept."""
    if isinstance(path, str) and "://" in path:
        from airflow.sdk import ObjectStoragePath

        return ObjectStoragePath(path)
    return path


def display_name(source: Source) -> str:
    return source if isinstance(source, str) else str(source)


def open_source(source: Source) -> IO[bytes]:
    if isinstance(source, Openable):
        return source.open("rb")
    return open(os.fspath(source), "rb")


def check_heldout(source: Source, model: str | None = None) -> HeldOut:
    """Validate the whole file (two streamed passes) and measure it, or raise
    :class:`InvalidTrainingDataError` naming each bad line, field and fix."""
    name = display_name(source)
    report = validate_training_file(source, "sft", model=model, max_problems=20)
    sink = ProblemCollector(name, 20)
    held = HeldOut(source, name)
    digest = hashlib.sha256()
    if report.ok:
        for example in _examples(source, sink, digest):
            tokens = count_example({"messages": example.prompt}, model or "")
            held.examples += 1
            held.prompt_tokens += tokens
            held.max_prompt_tokens = max(held.max_prompt_tokens, tokens)
            held.reference_tokens += estimate_text_tokens(example.reference)
    problems = report.summary() if not report.ok else _problems(sink)
    if problems:
        raise InvalidTrainingDataError(
            f"Not evaluating invalid held-out data (fix these lines; a retry would find the "
            f"same):\n{problems}"
        )
    if held.examples == 0:
        raise InvalidTrainingDataError(f"{name}: no examples (one JSON object per line).")
    held.sha256 = digest.hexdigest()
    return held


def iter_examples(source: Source) -> Iterator[Example]:
    """The examples of a file :func:`check_heldout` accepted, one at a time."""
    yield from _examples(source, ProblemCollector(display_name(source), 0), None)


def _examples(source: Source, sink: ProblemCollector, digest: Any) -> Iterator[Example]:
    with open_source(source) as stream:
        line_no = 0
        while raw := stream.readline(MAX_LINE_BYTES + 1):
            line_no += 1
            if digest is not None:
                digest.update(raw)
            if line_no == 1 and raw.startswith(UTF8_BOM):
                raw = raw[len(UTF8_BOM) :]
            if not raw.strip():
                continue  # the validator reports blank lines
            sink.at_line(line_no)
            example = _example(line_no, json.loads(raw), sink)
            if example is not None:
                yield example


def _example(line: int, data: dict[str, Any], sink: ProblemCollector) -> Example | None:
    messages = [dict(m) for m in data["messages"]]
    last = len(messages) - 1
    if messages[last].get("role") != "assistant":
        sink.error(
            f"messages[{last}].role", "the last message is not the reference", hint=REFERENCE_HINT
        )
        return None
    reference = content_text(messages[last].get("content"))
    if not reference.strip():
        sink.error(
            f"messages[{last}].content", "the reference answer is empty", hint=REFERENCE_HINT
        )
        return None
    if not any(m.get("role") == "user" for m in messages[:last]):
        sink.error("messages", "no user turn before the reference", hint="ask something first")
        return None
    return Example(line, messages[:last], reference)


def _problems(sink: ProblemCollector) -> str:
    if not sink.error_count:
        return ""
    lines = [f"{sink.name}: {sink.error_count} error(s) in held-out data"]
    for problem in sink.kept:
        lines.extend(f"  {text}" for text in str(problem).splitlines())
    return "\n".join(lines)
