"""Qwen-VL ZIP packages: layout, names, images and data.jsonl streamed from the archive."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import pytest

from airflow_dashscope.training_data import validate_training_file, zip_package

from . import tiny_images as img
from .dataset_helpers import assert_only_problem, find_problem

LINE = {
    "messages": [
        {"role": "system", "content": [{"text": "System input"}]},
        {"role": "user", "content": [{"text": "What is it?"}, {"image": "cat.png"}]},
        {"role": "assistant", "content": [{"text": "A cat."}]},
    ]
}


def build_zip(tmp_path: Path, files: dict[str, bytes | Any], name: str = "pkg.zip") -> Path:
    path = tmp_path / name
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for member, content in files.items():
            if member.endswith("/"):
                archive.writestr(zipfile.ZipInfo(member), b"")
            elif isinstance(content, bytes):
                archive.writestr(member, content)
            else:
                archive.writestr(member, "\n".join(json.dumps(x) for x in content) + "\n")
    return path


def good_files() -> dict[str, Any]:
    return {"data.jsonl": [LINE], "cat.png": img.png(640, 480)}


def test_good_package_passes(tmp_path: Path) -> None:
    report = validate_training_file(build_zip(tmp_path, good_files()), n_epochs=2)
    assert report.problem_count == 0, report.summary()
    assert report.stats.examples == 1 and report.stats.estimated_billed_tokens


def test_multi_level_layout_passes(tmp_path: Path) -> None:
    files = {"data.jsonl": [LINE], "jpg_folder/": b"", "jpg_folder/cat.png": img.png(10, 10)}
    assert validate_training_file(build_zip(tmp_path, files)).problem_count == 0


def test_data_jsonl_must_be_at_the_root(tmp_path: Path) -> None:
    files = {"sub/data.jsonl": [LINE], "cat.png": img.png(10, 10)}
    report = validate_training_file(build_zip(tmp_path, files))
    assert_only_problem(report, None, "", "found 'sub/data.jsonl'")


def test_data_line_problems_name_the_member(tmp_path: Path) -> None:
    files = good_files() | {"data.jsonl": [LINE, {"messages": []}]}
    report = validate_training_file(build_zip(tmp_path, files))
    problem = find_problem(report, 2, "messages", "must not be empty")
    assert problem.file.endswith("pkg.zip!data.jsonl")


def test_referenced_file_must_exist(tmp_path: Path) -> None:
    files = {"data.jsonl": [LINE]}
    report = validate_training_file(build_zip(tmp_path, files))
    assert_only_problem(report, 1, "messages[1].content[1].image", "not in the ZIP package")


def test_reference_with_path_is_rejected(tmp_path: Path) -> None:
    line = json.loads(json.dumps(LINE).replace("cat.png", "jpg_folder/cat.png"))
    files = {"data.jsonl": [line], "jpg_folder/cat.png": img.png(10, 10)}
    report = validate_training_file(build_zip(tmp_path, files))
    assert_only_problem(report, 1, "messages[1].content[1].image", "not a path")


@pytest.mark.parametrize(
    ("member", "bad"),
    [
        ("my cat.png", "my cat.png"),
        ("photos.2024/cat2.png", "photos.2024"),
        ("café.png", "café.png"),
    ],
)
def test_names_must_be_ascii_safe(tmp_path: Path, member: str, bad: str) -> None:
    files = good_files() | {member: img.png(5, 5)}
    report = validate_training_file(build_zip(tmp_path, files))
    assert_only_problem(report, None, member, f"name {bad!r} must use only ASCII")


def test_macos_metadata_gets_a_hint(tmp_path: Path) -> None:
    files = good_files() | {"__MACOSX/._cat.png": b"junk"}
    report = validate_training_file(build_zip(tmp_path, files))
    find_problem(report, None, "__MACOSX/._cat.png", "macOS metadata")


def test_file_names_unique_across_folders(tmp_path: Path) -> None:
    files = good_files() | {"b/cat.png": img.png(5, 5)}
    report = validate_training_file(build_zip(tmp_path, files))
    assert_only_problem(report, None, "b/cat.png", "also used by 'cat.png'")


def test_image_too_large_in_pixels(tmp_path: Path) -> None:
    files = good_files() | {"cat.png": img.jpeg(1025, 20)}
    report = validate_training_file(build_zip(tmp_path, files))
    assert_only_problem(report, None, "cat.png", "1025x20 px")


def test_image_too_large_in_bytes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(zip_package, "MAX_IMAGE_BYTES", 50)
    report = validate_training_file(build_zip(tmp_path, good_files()))
    assert_only_problem(report, None, "cat.png", "the limit is 10 MB")


def test_unreadable_image(tmp_path: Path) -> None:
    files = good_files() | {"cat.png": b"not really a png"}
    report = validate_training_file(build_zip(tmp_path, files))
    assert_only_problem(report, None, "cat.png", "unreadable image")


def test_package_size_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(zip_package, "MAX_PACKAGE_BYTES", 100)
    report = validate_training_file(build_zip(tmp_path, good_files()))
    assert_only_problem(report, None, "", "the limit is 2 GB")


def test_not_a_zip(tmp_path: Path) -> None:
    path = tmp_path / "fake.zip"
    path.write_bytes(b"PK but not really")
    assert_only_problem(validate_training_file(path), None, "", "not a readable ZIP")


def test_thinking_rules_apply_inside_the_package(tmp_path: Path) -> None:
    line = json.loads(json.dumps(LINE))
    line["messages"][2]["content"] = [{"text": "<think>no newline</think>A cat."}]
    files = good_files() | {"data.jsonl": [line]}
    report = validate_training_file(build_zip(tmp_path, files), thinking=True)
    assert_only_problem(report, 1, "messages[2].content", "must start with")
