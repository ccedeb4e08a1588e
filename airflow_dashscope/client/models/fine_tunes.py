"""Fine-tune jobs, their statuses, hyperparameters and checkpoints."""

from __future__ import annotations

from enum import Enum
from typing import Any

from pydantic import AliasChoices, Field

from airflow_dashscope.client.models.base import DashScopeModel, LenientText, ServiceTime


class TrainingType(str, Enum):
    CPT = "cpt"
    SFT = "sft"
    EFFICIENT_SFT = "efficient_sft"
    DPO_FULL = "dpo_full"
    DPO_LORA = "dpo_lora"


class JobStatus(str, Enum):
    PENDING = "PENDING"
    QUEUING = "QUEUING"
    RUNNING = "RUNNING"
    CANCELING = "CANCELING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    CANCELED = "CANCELED"


TERMINAL_JOB_STATUSES: frozenset[str] = frozenset({"SUCCEEDED", "FAILED", "CANCELED"})


class CheckpointStatus(str, Enum):
    PENDING = "PENDING"
    PROCESSING = "PROCESSING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"


TERMINAL_CHECKPOINT_STATUSES: frozenset[str] = frozenset({"SUCCEEDED", "FAILED"})


class HyperParameters(DashScopeModel):
    """Known hyperparameters typed; any other is kept as given (they vary by model)."""

    n_epochs: int | None = None
    batch_size: int | None = None
    max_length: int | None = None
    learning_rate: float | str | None = None
    lr_scheduler_type: str | None = None
    split: float | None = None
    warmup_ratio: float | None = None
    weight_decay: float | None = None
    eval_steps: int | None = None
    logging_steps: int | None = None
    max_split_val_dataset_sample: int | None = None
    freeze_vit: bool | None = None
    lora_rank: int | None = None
    lora_alpha: int | None = None
    lora_dropout: float | None = None
    data_augmentation: bool | None = None
    augmentation_types: str | None = None
    augmentation_ratio: str | None = None
    save_strategy: str | None = None
    save_steps: int | None = None
    save_total_limit: int | None = None


class FineTuneJob(DashScopeModel):
    """The fine-tune job object, plus a failed job's reason.

    Per the training API page, ``finetuned_output`` (the last checkpoint's model id) appears
    only once the job SUCCEEDED, ``end_time`` once it is terminal, and ``usage`` once it
    SUCCEEDED or was CANCELED (a CANCELED job carries ``"code": "1"`` and ``usage`` 0).
    """

    job_id: str
    job_name: str | None = Field(
        default=None, validation_alias=AliasChoices("job_name", "jobs_name")
    )
    #: A :class:`JobStatus`, or the raw string of a status this client does not know yet.
    status: JobStatus | str
    finetuned_output: str | None = Field(
        default=None, validation_alias=AliasChoices("finetuned_output", "finetuned_model")
    )
    model: str | None = None
    base_model: str | None = None
    training_file_ids: list[str] = Field(default_factory=list)
    validation_file_ids: list[str] = Field(default_factory=list)
    hyper_parameters: HyperParameters | None = None
    training_type: TrainingType | str | None = None
    create_time: ServiceTime | None = None
    end_time: ServiceTime | None = None
    workspace_id: str | None = None
    user_identity: str | None = None
    modifier: str | None = None
    creator: str | None = None
    group: str | None = None
    #: Tokens billed: a bare integer, or an object on some service versions.
    usage: int | dict[str, Any] | None = None
    output_cnt: int | None = None
    max_output_cnt: int | None = None
    code: LenientText | None = None
    message: str | None = None

    @property
    def status_name(self) -> str:
        return self.status.value if isinstance(self.status, JobStatus) else str(self.status)

    @property
    def is_terminal(self) -> bool:
        return self.status_name in TERMINAL_JOB_STATUSES

    @property
    def usage_tokens(self) -> int | None:
        if isinstance(self.usage, int) or self.usage is None:
            return self.usage
        for key in ("total_tokens", "tokens", "training_tokens"):
            value = self.usage.get(key)
            if isinstance(value, int):
                return value
        return None


class FineTuneJobPage(DashScopeModel):
    total: int = 0
    page_no: int = 1
    page_size: int = 10
    jobs: list[FineTuneJob] = Field(default_factory=list)


class JobLogs(DashScopeModel):
    """A page of a job's log: ``logs`` from line ``offset + 1`` on, ``total`` lines so far."""

    total: int = 0
    logs: list[str] = Field(default_factory=list)


class Checkpoint(DashScopeModel):
    """A checkpoint of a job; once exported (SUCCEEDED), ``model_name`` is the id to deploy.

    The pages disagree on whether that id is the one asked for at export, so it is read back
    here rather than assumed.
    """

    checkpoint: str
    job_id: str | None = None
    full_name: str | None = None
    model_name: str | None = None
    status: CheckpointStatus | str | None = None
    create_time: ServiceTime | None = None
    checkpoint_id: str | None = None
    step: int | None = None
    expire_time: ServiceTime | None = None

    @property
    def status_name(self) -> str:
        status = self.status
        return status.value if isinstance(status, CheckpointStatus) else str(status or "")

    def matches(self, name: str) -> bool:
        """Export accepts ``checkpoint-N``, the ``checkpoint_id`` or the ``full_name``."""
        return name in (self.checkpoint, self.checkpoint_id, self.full_name)

    @property
    def step_number(self) -> int:
        """The training step, from ``step`` or the ``checkpoint-N`` name (-1 if unknown)."""
        if self.step is not None:
            return self.step
        _, _, tail = self.checkpoint.rpartition("-")
        return int(tail) if tail.isdigit() else -1


class OperationStatus(DashScopeModel):
    """The ``output`` of cancel and delete: ``{"status": "success"}``."""

    status: str | None = None
