"""Tunable knobs of one emulator instance (timings, limits, workspaces, readings of the pages)."""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

MB = 1024 * 1024
DEFAULT_WORKSPACE = "llm-8v53etv3hwb8orx1"
#: The account limits, settable at run time (control API) as well as at start.
LIMITS = ("max_file_bytes", "max_files", "max_total_bytes", "max_jobs")


@dataclass
class Settings:
    """Timings are emulated seconds on the emulator's clock.

    ``job_seconds`` is the RUNNING phase of a job; a job is PENDING for a quarter of that first,
    so with the default 4 s a small job is PENDING 1 s, RUNNING 4 s and SUCCEEDED at 5 s.

    ``workspaces``: workspace ids the account has besides ``default_workspace`` (which always
    works); any other ``X-DashScope-WorkSpace`` is 404 ``WorkSpaceNotFound``.

    ``export_model_id``: ``"asked"`` publishes an exported checkpoint under the ``model_name``
    the export call asked for; ``"derived"`` publishes it under an id the service derives from
    it (``{asked}-{checkpoint_id[-6:]}``), the reading where only the checkpoint list tells the
    deployable id. A client must read the id back from the checkpoint list to pass both.

    Account limits (the real ones by default): ``max_file_bytes`` one file (1 GB),
    ``max_files`` files kept (100), ``max_total_bytes`` their total size (5 GB), ``max_jobs``
    jobs in progress plus SUCCEEDED (20). Each is settable from the CLI (``--max-files`` ...),
    ``run_emulator(max_files=...)`` and the control API (``POST /__emulator__/limits``), so a
    test can use the real figures or small ones.

    ``text_default_models``: ``fnmatch`` patterns of the (base) models that answer in the
    ``text`` form when a native generation call gives no ``result_format`` (the deployment quick
    start's qwen3-8b answer); other models answer in the ``message`` form.
    """

    api_key: str | None = None
    job_seconds: float = 4.0
    deploy_seconds: float = 3.0
    export_seconds: float = 2.0
    state_dir: Path | None = None
    manual_clock: bool = False
    default_workspace: str = DEFAULT_WORKSPACE
    workspaces: tuple[str, ...] = ()
    #: model-customization-file-management-service.md: "单个文件大小最大为1GB".
    max_file_bytes: int = 1024 * MB
    max_files: int = 100
    max_total_bytes: int = 5 * 1024 * MB
    max_jobs: int = 20
    export_model_id: Literal["asked", "derived"] = "asked"
    text_default_models: tuple[str, ...] = ("qwen2.5-*", "qwen3-*", "qwen-plus-character-*")

    def set_limits(self, limits: dict[str, object]) -> dict[str, int]:
        """Change account limits (``LIMITS`` names, positive integers); returns them all."""
        for name, value in limits.items():
            if name not in LIMITS:
                raise ValueError(f"unknown limit {name!r}; limits are {', '.join(LIMITS)}")
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer")
        for name, value in limits.items():
            setattr(self, name, value)
        return self.limits()

    def limits(self) -> dict[str, int]:
        return {name: int(getattr(self, name)) for name in LIMITS}

    @property
    def pending_seconds(self) -> float:
        return self.job_seconds / 4

    @property
    def cancel_seconds(self) -> float:
        return min(1.0, self.job_seconds / 4)

    def knows_workspace(self, workspace: str) -> bool:
        return workspace == self.default_workspace or workspace in self.workspaces

    def default_result_format(self, base_model: str) -> str:
        text = any(fnmatch.fnmatchcase(base_model, p) for p in self.text_default_models)
        return "text" if text else "message"
