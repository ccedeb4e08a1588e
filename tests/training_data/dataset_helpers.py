"""Shared helpers for the dataset validator tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from airflow_dashscope.training_data import Problem, ValidationReport, validate_training_file


def write_lines(tmp_path: Path, lines: list[Any], name: str = "data.jsonl") -> Path:
    """Write objects as JSON lines (strings and bytes are written verbatim)."""
    path = tmp_path / name
    with path.open("wb") as handle:
        for line in lines:
            if isinstance(line, bytes):
                handle.write(line + b"\n")
            elif isinstance(line, str):
                handle.write(line.encode() + b"\n")
            else:
                handle.write(json.dumps(line, ensure_ascii=False).encode() + b"\n")
    return path


def validate_lines(tmp_path: Path, lines: list[Any], **options: Any) -> ValidationReport:
    return validate_training_file(write_lines(tmp_path, lines), **options)


def find_problem(
    report: ValidationReport, line: int | None, field: str, text: str, severity: str = "error"
) -> Problem:
    """The problem at ``line``/``field`` whose message contains ``text``; fail otherwise."""
    for problem in report.problems:
        if (
            problem.line == line
            and problem.field == field
            and text in problem.message
            and problem.severity == severity
        ):
            return problem
    raise AssertionError(
        f"no {severity} at line {line} field {field!r} containing {text!r}; got:\n"
        + "\n".join(str(p) for p in report.problems)
    )


def assert_only_problem(
    report: ValidationReport, line: int | None, field: str, text: str, severity: str = "error"
) -> None:
    find_problem(report, line, field, text, severity)
    assert report.problem_count == 1, report.summary()
    assert report.ok == (severity != "error")


def chat(*turns: tuple[str, Any], **extra: Any) -> dict[str, Any]:
    """``chat(("user", "hi"), ("assistant", "hello"))`` -> an SFT line."""
    return {"messages": [{"role": role, "content": content} for role, content in turns], **extra}


GOOD_CHAT = chat(("user", "hi"), ("assistant", "hello"))
