"""Runs a per-line check over a JSONL stream, framing each example for the token estimate."""

from __future__ import annotations

from collections.abc import Callable
from typing import IO, Any

from airflow_dashscope.training_data.jsonl import iter_json_objects
from airflow_dashscope.training_data.report import ProblemCollector
from airflow_dashscope.training_data.tokens import TokenEstimate

ExampleCheck = Callable[[dict[str, Any], ProblemCollector, TokenEstimate], None]


def scan_jsonl(
    stream: IO[bytes], sink: ProblemCollector, estimate: TokenEstimate, check: ExampleCheck
) -> None:
    for example in iter_json_objects(stream, sink, estimate):
        estimate.begin_example()
        check(example, sink, estimate)
        estimate.end_example(example)
    if estimate.examples == 0 and sink.error_count == 0:
        sink.at_line(None)
        sink.error("", "no examples: the file is empty")
