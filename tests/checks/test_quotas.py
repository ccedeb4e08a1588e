"""The account's limits and the use counted from the service's lists."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from airflow_dashscope.checks.quotas import (
    GB,
    OPTIONS,
    AccountLimits,
    AccountQuotaError,
    check_file_quota,
    check_job_quota,
    size_of,
    usage_of,
)
from airflow_dashscope.exceptions import DashScopeFatalError
from airflow_dashscope.get_provider_info import get_provider_info


def test_the_pages_limits_are_the_defaults() -> None:
    assert AccountLimits() == AccountLimits(fine_tune_jobs=20, files=100, file_storage_bytes=5 * GB)
    assert AccountLimits.from_settings() == AccountLimits()


def test_the_options_raise_the_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW__DASHSCOPE__MAX_FILES", "10000")
    monkeypatch.setenv("AIRFLOW__DASHSCOPE__MAX_FILE_STORAGE_BYTES", str(100 * GB))
    assert AccountLimits.from_settings() == AccountLimits(files=10000, file_storage_bytes=100 * GB)


def test_a_bad_option_names_itself(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW__DASHSCOPE__MAX_FINE_TUNE_JOBS", "twenty")
    with pytest.raises(ValueError, match=r"\[dashscope\] max_fine_tune_jobs .* 'twenty'"):
        AccountLimits.from_settings()


def test_use_counts_running_and_succeeded_jobs_and_every_files_bytes() -> None:
    jobs = [SimpleNamespace(status_name=s) for s in ("RUNNING", "SUCCEEDED", "FAILED", "QUEUING")]
    files = [SimpleNamespace(size=10), SimpleNamespace(size=None), SimpleNamespace(size=5)]
    usage = usage_of(jobs, files)
    assert (usage.fine_tune_jobs, usage.files, usage.file_storage_bytes) == (3, 3, 15)


def test_one_more_job_must_fit_and_the_message_says_how_to_make_room() -> None:
    jobs = [SimpleNamespace(status_name="SUCCEEDED")] * 19 + [SimpleNamespace(status_name="FAILED")]
    check_job_quota(jobs, AccountLimits())  # 19 counted: the 20th fits
    with pytest.raises(AccountQuotaError) as raised:
        check_job_quota([*jobs, SimpleNamespace(status_name="RUNNING")], AccountLimits())
    assert str(raised.value) == (
        "Delete fine-tune jobs you no longer need (DashScopeRetentionOperator, or the "
        "console): the account has 20 of 20 fine-tune jobs running or succeeded (limit "
        "[dashscope] max_fine_tune_jobs = 20; if the account's limit was raised, set it)."
    )
    assert isinstance(raised.value, DashScopeFatalError)


def test_one_more_file_and_its_bytes_must_fit() -> None:
    limits = AccountLimits(files=3, file_storage_bytes=100)
    files = [SimpleNamespace(size=30), SimpleNamespace(size=30)]
    check_file_quota(files, 40, limits)
    check_file_quota(files, None, limits)  # size unknown: only the count is checked
    with pytest.raises(AccountQuotaError, match=r"stores .* and this file adds .*\(41 bytes\)"):
        check_file_quota(files, 41, limits)
    with pytest.raises(AccountQuotaError, match=r"has 3 of 3 files .*max_files = 3"):
        check_file_quota([*files, SimpleNamespace(size=0)], 1, limits)


def test_size_of_a_path_and_of_what_cannot_be_measured(tmp_path: Path) -> None:
    path = tmp_path / "data.jsonl"
    path.write_bytes(b"x" * 7)
    assert size_of(path) == size_of(str(path)) == 7
    assert size_of(tmp_path / "missing") is None
    assert size_of(object()) is None


def test_the_declared_options_carry_the_same_defaults() -> None:
    declared = get_provider_info()["config"]["dashscope"]["options"]
    for field, option in OPTIONS.items():
        assert int(declared[option]["default"]) == getattr(AccountLimits(), field), option
        assert declared[option]["type"] == "integer"
