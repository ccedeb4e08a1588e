"""CPT rules: ``{"text": non-empty string}``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from .dataset_helpers import assert_only_problem, validate_lines


def run(tmp_path: Path, line: Any) -> Any:
    return validate_lines(tmp_path, [{"text": "ok"}, line], training_type="cpt")


def test_text_missing(tmp_path: Path) -> None:
    report = run(tmp_path, {"content": "x"})
    assert report.error_count == 1
    assert (report.errors[0].line, report.errors[0].field) == (2, "text")


@pytest.mark.parametrize(
    ("text", "message"), [(1, "expected a string"), ("", "empty"), (" ", "empty")]
)
def test_text_invalid(tmp_path: Path, text: Any, message: str) -> None:
    assert_only_problem(run(tmp_path, {"text": text}), 2, "text", message)


def test_extra_key_warns(tmp_path: Path) -> None:
    report = run(tmp_path, {"text": "x", "meta": 1})
    assert_only_problem(report, 2, "meta", "unknown field", severity="warning")


def test_chat_lines_are_not_cpt(tmp_path: Path) -> None:
    report = run(tmp_path, {"messages": [{"role": "user", "content": "q"}]})
    assert not report.ok
