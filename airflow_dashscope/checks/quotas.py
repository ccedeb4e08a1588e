"""The account's limits and its use of them: what must hold before an upload or a create.

The pages give the defaults (``model-customization-file-management-service.md``: 100 files and
5 GB of storage per account; ``error-code.md``: at most 20 fine-tune jobs running or succeeded
per user). Newer vendor text mentions higher file quotas, and an account can be raised, so
each limit is a ``[dashscope]`` option (``max_fine_tune_jobs``, ``max_files``,
``max_file_storage_bytes``) with the pages' figure as its default; the use is read from the
service's own lists, never counted locally. Pure: the caller lists, this module counts.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

#: Job statuses the service counts against the job limit ("running or succeeded").
COUNTED_JOB_STATUSES = frozenset({"PENDING", "QUEUING", "RUNNING", "SUCCEEDED"})
GB = 1024**3


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
