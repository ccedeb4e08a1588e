"""``python -m airflow_dashscope.training_data validate``: output and exit codes 0/1/2."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from .dataset_helpers import GOOD_CHAT, write_lines


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "airflow_dashscope.training_data", *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_valid_file_exits_0(tmp_path: Path) -> None:
    path = write_lines(tmp_path, [GOOD_CHAT, GOOD_CHAT])
    result = run_cli("validate", str(path), "--n-epochs", "3")
    assert result.returncode == 0, result.stderr
    assert "OK" in result.stdout and "examples=2" in result.stdout and "x3 epochs" in result.stdout


def test_invalid_file_exits_1_and_prints_lines(tmp_path: Path) -> None:
    good = write_lines(tmp_path, [GOOD_CHAT], name="good.jsonl")
    bad = write_lines(tmp_path, [GOOD_CHAT, "{"], name="bad.jsonl")
    result = run_cli("validate", str(good), str(bad))
    assert result.returncode == 1
    assert f"{bad}:2: <line>: invalid JSON" in result.stdout
    assert "good.jsonl (sft): OK" in result.stdout


def test_json_output(tmp_path: Path) -> None:
    path = write_lines(tmp_path, [{"text": "t"}, {"text": ""}])
    result = run_cli("validate", str(path), "--training-type", "cpt", "--json")
    assert result.returncode == 1
    (report,) = json.loads(result.stdout)
    assert report["ok"] is False
    assert report["problems"][0] | {} == {
        "file": str(path),
        "line": 2,
        "field": "text",
        "message": "must not be empty",
        "severity": "error",
    }


def test_max_problems(tmp_path: Path) -> None:
    path = write_lines(tmp_path, ["[]"] * 5)
    result = run_cli("validate", str(path), "--max-problems", "2")
    assert result.returncode == 1 and "3 more problem(s)" in result.stdout


def test_thinking_flag(tmp_path: Path) -> None:
    line = {
        "messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "<think>x"}]
    }
    path = write_lines(tmp_path, [line])
    assert run_cli("validate", str(path)).returncode == 0
    assert run_cli("validate", str(path), "--thinking").returncode == 1


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    path = write_lines(tmp_path, [GOOD_CHAT])
    assert run_cli().returncode == 2
    assert run_cli("validate").returncode == 2
    assert run_cli("validate", str(path), "--training-type", "rlhf").returncode == 2
    assert run_cli("validate", str(path), "--n-epochs", "0").returncode == 2
    assert run_cli("validate", str(path), "--training-type", "cpt", "--thinking").returncode == 2
    missing = run_cli("validate", str(tmp_path / "missing.jsonl"))
    assert missing.returncode == 2 and "No such file" in missing.stderr
