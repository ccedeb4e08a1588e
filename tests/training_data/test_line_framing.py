"""Line-level problems: blank lines, bad UTF-8, bad JSON, non-objects, BOM, long lines."""

from __future__ import annotations

from pathlib import Path

import pytest

from airflow_dashscope.training_data import jsonl, validate_training_file

from .dataset_helpers import GOOD_CHAT, assert_only_problem, validate_lines, write_lines


def test_blank_line_is_reported_with_its_number(tmp_path: Path) -> None:
    report = validate_lines(tmp_path, [GOOD_CHAT, "", GOOD_CHAT])
    assert_only_problem(report, 2, "", "blank line")


def test_whitespace_only_line_is_blank(tmp_path: Path) -> None:
    report = validate_lines(tmp_path, [GOOD_CHAT, "   \t"])
    assert_only_problem(report, 2, "", "blank line")


def test_invalid_utf8(tmp_path: Path) -> None:
    report = validate_lines(tmp_path, [{"text": "ok"}, b'{"text": "\xff"}'], training_type="cpt")
    assert_only_problem(report, 2, "", "invalid UTF-8 at byte 11")


def test_invalid_json(tmp_path: Path) -> None:
    report = validate_lines(tmp_path, [GOOD_CHAT, GOOD_CHAT, '{"messages": ['])
    assert_only_problem(report, 3, "", "invalid JSON")


@pytest.mark.parametrize("ending", ["\n", "\r\n", ""])
def test_a_line_broken_at_its_end_reports_the_end_column(tmp_path: Path, ending: str) -> None:
    """An unclosed object is found past the last character: not at column 1 (issue: twice)."""
    line = '{"messages": [{"role": "user", "content": "hi"}]'
    path = tmp_path / "data.jsonl"
    path.write_bytes(f"{line}{ending}".encode())
    report = validate_training_file(path)
    expected = f"at column {len(line) + 1} (the end of the line)"
    assert_only_problem(report, 1, "", expected)


def test_a_json_error_inside_a_line_reports_its_column(tmp_path: Path) -> None:
    line = '{"messages": [{"role": "user" "content": "hi"}]}'
    report = validate_lines(tmp_path, [GOOD_CHAT, line])
    column = line.index('"content') + 1
    assert_only_problem(report, 2, "", f"Expecting ',' delimiter at column {column}")
    assert "end of the line" not in report.problems[0].message


def test_nan_is_not_json(tmp_path: Path) -> None:
    report = validate_lines(tmp_path, ['{"text": NaN}'], training_type="cpt")
    assert_only_problem(report, 1, "", "NaN is not valid JSON")


@pytest.mark.parametrize(("line", "kind"), [("[1]", "array"), ('"x"', "string"), ("3", "number")])
def test_non_object_line(tmp_path: Path, line: str, kind: str) -> None:
    report = validate_lines(tmp_path, [line])
    assert_only_problem(report, 1, "", f"expected a JSON object, got {kind}")


def test_bom_at_file_start_is_tolerated_with_a_warning(tmp_path: Path) -> None:
    path = write_lines(tmp_path, [GOOD_CHAT])
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    report = validate_training_file(path)
    assert_only_problem(report, 1, "", "byte order mark", severity="warning")
    assert report.stats.examples == 1


def test_bom_later_in_the_file_is_an_error(tmp_path: Path) -> None:
    report = validate_lines(tmp_path, [GOOD_CHAT, b"\xef\xbb\xbf" + b'{"messages": []}'])
    assert_only_problem(report, 2, "", "invalid JSON")


def test_crlf_line_endings_are_fine(tmp_path: Path) -> None:
    path = tmp_path / "crlf.jsonl"
    path.write_bytes(b'{"text": "a"}\r\n{"text": "b"}\r\n')
    report = validate_training_file(path, "cpt")
    assert report.problem_count == 0 and report.stats.examples == 2


def test_last_line_without_newline_is_read(tmp_path: Path) -> None:
    path = tmp_path / "d.jsonl"
    path.write_bytes(b'{"text": "a"}\n{"text": 1}')
    assert_only_problem(validate_training_file(path, "cpt"), 2, "text", "expected a string")


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.jsonl"
    path.write_bytes(b"")
    assert_only_problem(validate_training_file(path), None, "", "no examples")


def test_overlong_line_is_skipped_not_held(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(jsonl, "MAX_LINE_BYTES", 64)
    long_line = {"text": "x" * 500}
    report = validate_lines(
        tmp_path, [{"text": "a"}, long_line, {"text": "b"}], training_type="cpt"
    )
    assert_only_problem(report, 2, "", "line longer than")
    assert report.stats.examples == 2
    assert report.stats.bytes_read == (tmp_path / "data.jsonl").stat().st_size


def test_deep_nesting_is_reported_not_raised(tmp_path: Path) -> None:
    report = validate_lines(tmp_path, ["[" * 100_000 + "]" * 100_000])
    assert not report.ok
    assert report.problems[0].line == 1


def test_file_over_the_upload_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from airflow_dashscope.training_data import validate

    monkeypatch.setattr(validate, "MAX_UPLOAD_BYTES", 100)
    report = validate_lines(tmp_path, [GOOD_CHAT] * 5)
    assert_only_problem(report, None, "", "at most 300 MB")
