"""The account's limits and its use of them: what must hold before an upload or a create.

The pages give the defaults (``model-customization-file-management-service.md``: 100 files and
5 GB of storage per account; ``error-code.md``: at most 20 fine-tune jobs running or succeeded
per user). Newer vendor text mentions higher file quotas, and an account can be raised, so
each limit is a ``[dashscope]`` option (``max_fine_tune_jobs``, ``max_files``,
``max_file_storage_bytes``) with the pages' figure as its default; the use is read from the
service's own lists, never counted locally.

The checks run before the call that would spend money or meet the service's own 429: a
create only when a job is really created (a reattach or a reuse takes no slot), an upload
before its bytes are sent. Past a limit the task fails at once (:class:`AccountQuotaError`,
no retry: time frees no slot) with the numbers and the remedy.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from airflow_dashscope.exceptions import DashScopeFatalError

if TYPE_CHECKING:
    from airflow_dashscope.client import DashScopeClient

#: Job statuses the service counts against the job limit ("running or succeeded").
COUNTED_JOB_STATUSES = frozenset({"PENDING", "QUEUING", "RUNNING", "SUCCEEDED"})
GB = 1024**3
MB = 1024**2
#: What frees room, said in every quota message.
JOB_REMEDY = "Delete fine-tune jobs you no longer need (DashScopeRetentionOperator, or the console)"
FILE_REMEDY = (
    "Delete files you no longer need (DashScopeRetentionOperator with files_older_than, "
    "or the console)"
)


class AccountQuotaError(DashScopeFatalError):
    """The account is at one of its limits: no retry frees room, deleting something does."""


@dataclass(frozen=True)
class AccountLimits:
    """The account's limits (the pages' defaults unless the ``[dashscope]`` options say more)."""

    fine_tune_jobs: int = 20
    files: int = 100
    file_storage_bytes: int = 5 * GB

    @classmethod
    def from_settings(cls) -> AccountLimits:
        """The limits as configured; a bad value raises ``ValueError`` naming the option."""
        from airflow_dashscope.hooks.defaults import setting

        values = {}
        for field, option in OPTIONS.items():
            raw = setting(option)
            if raw is None:
                continue
            try:
                value = int(str(raw).strip())
            except ValueError:
                value = -1
            if value < 1:
                raise ValueError(f"[dashscope] {option} must be a whole number >= 1, got {raw!r}")
            values[field] = value
        return cls(**values)


#: Each limit's ``[dashscope]`` option.
OPTIONS = {
    "fine_tune_jobs": "max_fine_tune_jobs",
    "files": "max_files",
    "file_storage_bytes": "max_file_storage_bytes",
}


@dataclass(frozen=True)
class AccountUsage:
    """How much of each limit the account uses now."""

    fine_tune_jobs: int
    files: int
    file_storage_bytes: int


def usage_of(jobs: Iterable[Any], files: Iterable[Any]) -> AccountUsage:
    """The use counted from the service's job list (``status_name``) and file list (``size``)."""
    counted = sum(1 for job in jobs if getattr(job, "status_name", None) in COUNTED_JOB_STATUSES)
    sizes = [int(getattr(item, "size", 0) or 0) for item in files]
    return AccountUsage(fine_tune_jobs=counted, files=len(sizes), file_storage_bytes=sum(sizes))


def read_usage(client: DashScopeClient) -> AccountUsage:
    """The account's use now, from the service's job and file lists (every page)."""
    return usage_of(client.list_fine_tunes(), client.list_files())


def _raised(option: str, limit: int) -> str:
    return f"(limit [dashscope] {option} = {limit}; if the account's limit was raised, set it)"


def check_job_quota(jobs: Iterable[Any], limits: AccountLimits | None = None) -> None:
    """Before a job is created: one more job running or succeeded must fit (``jobs`` is the
    job list the caller has just read, so the check costs no request)."""
    limits = limits or AccountLimits.from_settings()
    used = usage_of(jobs, ()).fine_tune_jobs
    if used + 1 > limits.fine_tune_jobs:
        raise AccountQuotaError(
            f"{JOB_REMEDY}: the account has {used} of {limits.fine_tune_jobs} fine-tune jobs "
            f"running or succeeded {_raised(OPTIONS['fine_tune_jobs'], limits.fine_tune_jobs)}."
        )


def check_job_slots(
    jobs: Iterable[Any], needed: int, limits: AccountLimits | None = None, *, what: str
) -> int:
    """Before ``needed`` jobs are created together (a sweep's grid): all of them must fit,
    else none is started. Returns the free slots."""
    limits = limits or AccountLimits.from_settings()
    used = usage_of(jobs, ()).fine_tune_jobs
    free = max(0, limits.fine_tune_jobs - used)
    if needed > free:
        raise AccountQuotaError(
            f"{what} needs {needed} fine-tune job slots and the account has {free} free "
            f"({used} of {limits.fine_tune_jobs} jobs running or succeeded) "
            f"{_raised(OPTIONS['fine_tune_jobs'], limits.fine_tune_jobs)}. {JOB_REMEDY}, "
            "or run fewer members (a smaller grid, or two sweeps one after the other)."
        )
    return free


def check_file_quota(
    files: Iterable[Any], size: int | None, limits: AccountLimits | None = None
) -> None:
    """Before an upload: one more file, and ``size`` more bytes (None: unknown, not checked),
    must fit in the account's file count and storage."""
    limits = limits or AccountLimits.from_settings()
    usage = usage_of((), files)
    if usage.files + 1 > limits.files:
        raise AccountQuotaError(
            f"{FILE_REMEDY}: the account has {usage.files} of {limits.files} files "
            f"{_raised(OPTIONS['files'], limits.files)}."
        )
    if size is not None and usage.file_storage_bytes + size > limits.file_storage_bytes:
        raise AccountQuotaError(
            f"{FILE_REMEDY}: the account stores {_mb(usage.file_storage_bytes)} of "
            f"{_mb(limits.file_storage_bytes)} and this file adds {_mb(size)} "
            f"{_raised(OPTIONS['file_storage_bytes'], limits.file_storage_bytes)}."
        )


def size_of(source: Any) -> int | None:
    """The bytes of a local path or an ``ObjectStoragePath``; None when it cannot be told
    without reading it (the upload itself then finds out)."""
    try:
        stat = source.stat() if hasattr(source, "stat") else os.stat(source)
    except (OSError, TypeError, ValueError, NotImplementedError):
        return None
    size = stat.get("size") if isinstance(stat, dict) else getattr(stat, "st_size", None)
    return int(size) if isinstance(size, int) else None


def _mb(size: int) -> str:
    return f"{size / MB:,.1f} MB ({size} bytes)"
