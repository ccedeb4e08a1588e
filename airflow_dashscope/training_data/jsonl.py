"""Streams a JSONL file as (line number, object) pairs, reporting lines that are not objects.

Reads with ``readline(limit)`` so memory stays bounded by the longest line, and caps that
too. A UTF-8 byte order mark at the very start of the file is tolerated with a warning
(editors on Windows and Excel exports add one; Python's ``json`` rejects it, and the service
is not documented to accept it). Anywhere else it is invalid JSON.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import IO, Any

from airflow_dashscope.training_data.report import ProblemCollector
from airflow_dashscope.training_data.tokens import TokenEstimate
from airflow_dashscope.training_data.values import json_type

MAX_LINE_BYTES = 16 * 1024 * 1024
_DRAIN_CHUNK = 1024 * 1024
UTF8_BOM = b"\xef\xbb\xbf"
JSON_HINT = "write each example as one whole JSON object {...} on its own line"


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not valid JSON")


#: One decoder for every line: ``json.loads`` with an option builds a new one per call
#: (about a tenth of the validator's time).
_decoder = json.JSONDecoder(parse_constant=_reject_constant)


def iter_json_objects(
    stream: IO[bytes], sink: ProblemCollector, estimate: TokenEstimate
) -> Iterator[dict[str, Any]]:
    """Yield each line's object; ``sink`` is positioned at its line when it is yielded."""
    line_no = 0
    while True:
        raw = stream.readline(MAX_LINE_BYTES + 1)
        if not raw:
            return
        line_no += 1
        sink.at_line(line_no)
        estimate.bytes_read += len(raw)
        if len(raw) > MAX_LINE_BYTES and not raw.endswith(b"\n"):
            estimate.bytes_read += _drain_line(stream)
            sink.error("", f"line longer than {MAX_LINE_BYTES // 2**20} MiB; not checked")
            continue
        if line_no == 1 and raw.startswith(UTF8_BOM):
            raw = raw[len(UTF8_BOM) :]
            sink.warning(
                "",
                "UTF-8 byte order mark at the start of the file (tolerated; better removed)",
                hint="save the file as UTF-8 without a byte order mark",
            )
        if not raw.strip():
            sink.error(
                "", "blank line (every line must hold one JSON object)", hint="delete the line"
            )
            continue
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            sink.error(
                "",
                f"invalid UTF-8 at byte {exc.start + 1} of the line",
                hint="save the file as UTF-8",
            )
            continue
        line = text.rstrip("\r\n")
        try:
            value = _decoder.decode(line)
        except json.JSONDecodeError as exc:
            sink.error("", f"invalid JSON: {exc.msg} {_column(line, exc.pos)}", hint=JSON_HINT)
            continue
        except (ValueError, RecursionError) as exc:
            sink.error("", f"invalid JSON: {exc or 'nested too deeply'}")
            continue
        if not isinstance(value, dict):
            sink.error("", f"expected a JSON object, got {json_type(value)}", hint=JSON_HINT)
            continue
        yield value


def _column(line: str, pos: int) -> str:
    """Where a JSON error is, in the line's own characters.

    The line is decoded without its line break, so an error at its end (an unclosed ``{``,
    a missing ``]``) points past the last character instead of at column 1 of a next line.
    """
    if pos >= len(line):
        return f"at column {len(line) + 1} (the end of the line)"
    return f"at column {pos + 1}"


def _drain_line(stream: IO[bytes]) -> int:
    """Skip the rest of an over-long line without holding it; return the bytes skipped."""
    skipped = 0
    while True:
        chunk = stream.readline(_DRAIN_CHUNK)
        skipped += len(chunk)
        if not chunk or chunk.endswith(b"\n"):
            return skipped
