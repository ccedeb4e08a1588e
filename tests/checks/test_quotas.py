"""The account's limits and the use counted from the service's lists."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from airflow_dashscope.checks.quotas import GB, AccountLimits, usage_of


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
