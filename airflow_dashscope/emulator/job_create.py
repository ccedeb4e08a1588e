"""``POST /fine-tunes`` as named steps: read the request, check it, plan the training, add the job.

Each step either returns what the next one needs or raises the service's error, in the order
the real service most plausibly checks (the request's shape, then what it refers to, then the
account's limits). A job bound to fail (unsupported model x training type, changed LoRA
settings) is still created and fails after validation, as the guide says: "如果调优的模型不支持
sft方法，调优任务将会失败".
"""

# ruff: noqa: RUF002  (quotes the vendor's Chinese pages)

from __future__ import annotations

import math
import re
import secrets
from dataclasses import dataclass
from typing import Any

from . import catalog
from .checkpoints import published_job
from .clock import id_stamp, log_line
from .datasets import digest
from .errors import ApiError, bad_request
from .jobs import IN_PROGRESS, schedule
from .learning import DEFAULT_HYPER, DEFAULT_LORA, mixed_tokens
from .settings import Settings
from .state import JobRecord, Store

#: The request fields model-training-api-reference.md documents; anything else is rejected.
KNOWN_FIELDS = frozenset(
    {
        "model",
        "training_file_ids",
        "validation_file_ids",
        "hyper_parameters",
        "training_type",
        "job_name",
        "model_name",
        "finetuned_output_suffix",
    }
)
DEFAULT_SAVE_TOTAL_LIMIT = 10
#: error-code.md, 429-Throttling.
THROTTLE_RUNNING = "Too many fine-tune job in running, please retry later."
THROTTLE_SUCCEEDED = "Only 20 fine-tune job in running or succeeded allowed per user."
_SUFFIX = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


@dataclass
class CreateRequest:
    model: str
    training_ids: list[str]
    validation_ids: list[str]
    training_type: str
    hyper: dict[str, Any]
    job_name: str | None
    model_name: str | None
    suffix: str | None


@dataclass
class TrainingPlan:
    n_epochs: int
    steps_per_epoch: int
    total_steps: int
    logging_steps: int
    checkpoint_steps: list[int]
    save_total_limit: int | None
    train_tokens: int
    train_examples: int
    mixed_tokens: int


# ------------------------------------------------------------------------------------ steps
def _positive_int(hp: dict[str, Any], key: str, default: int) -> int:
    value = hp.get(key, default)
    if isinstance(value, bool):
        raise bad_request(f"hyper_parameters.{key} must be a positive integer")
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise bad_request(f"hyper_parameters.{key} must be a positive integer") from None
    if number < 1:
        raise bad_request(f"hyper_parameters.{key} must be a positive integer")
    return number


def _str_list(body: dict[str, Any], key: str) -> list[str]:
    value = body.get(key)
    if value is None:
        return []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise bad_request(f"{key} must be a list of file ids")
    return list(value)


def _optional_str(body: dict[str, Any], key: str) -> str | None:
    value = body.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise bad_request(f"{key} must be a string")
    return value


def read_request(body: dict[str, Any]) -> CreateRequest:
    """The request's shape: known fields only, required ones present, types right."""
    unknown = sorted(set(body) - KNOWN_FIELDS)
    if unknown:
        raise bad_request(f"Unrecognized parameter: {', '.join(unknown)}")
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise bad_request("Missing model")
    training_ids = _str_list(body, "training_file_ids")
    if not training_ids:
        raise bad_request("Missing training files")
    training_type = body.get("training_type") or "sft"
    if training_type not in catalog.TRAINING_TYPES:
        raise bad_request(
            f"Invalid training_type: {training_type}, must be one of "
            + ", ".join(catalog.TRAINING_TYPES)
        )
    hyper = body.get("hyper_parameters") or {}
    if not isinstance(hyper, dict):
        raise bad_request("hyper_parameters must be an object")
    suffix = _optional_str(body, "finetuned_output_suffix")
    if suffix is not None and not _SUFFIX.match(suffix):
        raise bad_request("Invalid finetuned_output_suffix: use letters, digits, '_' or '-'")
    return CreateRequest(
        model=model,
        training_ids=training_ids,
        validation_ids=_str_list(body, "validation_file_ids"),
        training_type=training_type,
        hyper=hyper,
        job_name=_optional_str(body, "job_name"),
        model_name=_optional_str(body, "model_name"),
        suffix=suffix,
    )


def check_files(store: Store, scope: tuple[str, str], request: CreateRequest) -> None:
    for kind, ids in (("Training", request.training_ids), ("Validation", request.validation_ids)):
        for file_id in ids:
            record = store.files.get(file_id)
            if record is None or (record.region, record.workspace_id) != scope:
                raise bad_request(f"{kind} file not found: {file_id}")


def resolve_model(
    store: Store, settings: Settings, scope: tuple[str, str], model: str, now: float
) -> tuple[str, JobRecord | None]:
    """(base model, parent job): a base model of the region, or a published fine-tuned one."""
    if catalog.is_base_model(scope[0], model):
        return model, None
    parent = published_job(store, settings, scope, model, now)
    if parent is None:
        raise bad_request(f"Model not found: {model}")
    return parent.base_model, parent


def check_account_limits(store: Store, settings: Settings) -> None:
    """429 Throttling: jobs in progress plus SUCCEEDED ones reach ``max_jobs``."""
    succeeded = store.jobs.count("SUCCEEDED")
    if store.jobs.count(*IN_PROGRESS) + succeeded >= settings.max_jobs:
        message = THROTTLE_SUCCEEDED if succeeded >= settings.max_jobs else THROTTLE_RUNNING
        raise ApiError(429, "Throttling", message)


def _checkpoint_steps(hp: dict[str, Any], training_type: str, spe: int, total: int) -> list[int]:
    if training_type not in catalog.CHECKPOINT_TRAINING_TYPES:
        return []
    strategy = hp.get("save_strategy", "epoch")
    if strategy == "epoch":
        return [spe * k for k in range(1, total // spe + 1)]
    if strategy == "steps":
        default = hp.get("eval_steps", 50)
        every = _positive_int(hp, "save_steps", default if isinstance(default, int) else 50)
        steps = list(range(every, total + 1, every))
        if not steps or steps[-1] != total:
            steps.append(total)
        return steps
    raise bad_request(f"Invalid save_strategy: {strategy}, must be epoch or steps")


def plan_training(store: Store, request: CreateRequest, base_model: str) -> TrainingPlan:
    """Steps from the data size and hyperparameters; checkpoints from the save strategy;
    training tokens counted once per file (``datasets``), mixed-in ones from the ratio."""
    hp = request.hyper
    n_epochs = _positive_int(hp, "n_epochs", DEFAULT_HYPER["n_epochs"])
    batch_size = _positive_int(hp, "batch_size", DEFAULT_HYPER["batch_size"])
    _positive_int(hp, "max_length", DEFAULT_HYPER["max_length"])
    files = [store.files.rows[f] for f in request.training_ids]
    examples = sum(f.lines for f in files)
    spe = max(1, math.ceil(examples / batch_size))
    total = spe * n_epochs
    limit = None
    if request.training_type in catalog.CHECKPOINT_TRAINING_TYPES:
        limit = _positive_int(hp, "save_total_limit", DEFAULT_SAVE_TOTAL_LIMIT)
    return TrainingPlan(
        n_epochs=n_epochs,
        steps_per_epoch=spe,
        total_steps=total,
        logging_steps=_positive_int(hp, "logging_steps", max(1, math.ceil(total / 20))),
        checkpoint_steps=_checkpoint_steps(hp, request.training_type, spe, total),
        save_total_limit=limit,
        train_tokens=sum(digest(store, f.file_id, base_model).tokens for f in files),
        train_examples=examples,
        mixed_tokens=mixed_tokens(hp, examples),
    )


def lora_settings(
    request: CreateRequest, parent: JobRecord | None
) -> tuple[dict[str, Any], list[str] | None]:
    """(LoRA settings, failure): a second efficient fine-tune must keep the first one's values
    ("lora_rank、lora_alpha、lora_dropout三个参数必须保持一致")."""
    if request.training_type not in catalog.EFFICIENT_TRAINING_TYPES:
        return {}, None
    efficient_parent = parent and parent.training_type in catalog.EFFICIENT_TRAINING_TYPES
    inherited = parent.lora if parent and efficient_parent else {}
    lora = {**DEFAULT_LORA, **inherited}
    for key in catalog.LORA_HYPER_PARAMETERS:
        if key not in request.hyper:
            continue
        if not inherited:
            lora[key] = request.hyper[key]
        elif request.hyper[key] != inherited[key]:
            return lora, [
                "InvalidParameter",
                f"{key} must remain consistent with the previous efficient fine-tune of "
                f"{request.model}: expected {inherited[key]}, got {request.hyper[key]}",
            ]
    return lora, None


def support_failure(region: str, base_model: str, training_type: str) -> list[str] | None:
    if catalog.supports(region, base_model, training_type):
        return None
    allowed = ", ".join(catalog.supported_training_types(region, base_model)) or "none"
    return [
        "UnsupportedOperation",
        f"Model {base_model} does not support training type {training_type}. Supported: {allowed}",
    ]


def _new_job_id(store: Store, now: float) -> str:
    while True:
        job_id = f"ft-{id_stamp(now)}-{secrets.token_hex(2)}"
        if job_id not in store.jobs:
            return job_id


# ------------------------------------------------------------------------------------ create
def create_job(
    store: Store, settings: Settings, now: float, scope: tuple[str, str], body: dict[str, Any]
) -> JobRecord:
    """Validate a ``POST /fine-tunes`` body and add the PENDING job (caller holds the lock)."""
    request = read_request(body)
    check_files(store, scope, request)
    base_model, parent = resolve_model(store, settings, scope, request.model, now)
    check_account_limits(store, settings)
    plan = plan_training(store, request, base_model)
    lora, lora_failure = lora_settings(request, parent)
    failure = support_failure(scope[0], base_model, request.training_type) or lora_failure
    job_id = _new_job_id(store, now)
    infix = f"{request.suffix}-" if request.suffix else ""
    job = JobRecord(
        job_id=job_id,
        region=scope[0],
        workspace_id=scope[1],
        seq=store.next_seq(),
        model=request.model,
        base_model=base_model,
        training_type=request.training_type,
        training_file_ids=request.training_ids,
        validation_file_ids=request.validation_ids,
        hyper_parameters=request.hyper,
        job_name=request.job_name or job_id,
        model_name=request.model_name,
        finetuned_output=f"{base_model}-{infix}{job_id}",
        created_at=now,
        pending_until=now + settings.pending_seconds,
        run_seconds=settings.job_seconds,
        total_steps=plan.total_steps,
        steps_per_epoch=plan.steps_per_epoch,
        n_epochs=plan.n_epochs,
        logging_steps=plan.logging_steps,
        checkpoint_steps=plan.checkpoint_steps,
        save_total_limit=plan.save_total_limit,
        train_tokens=plan.train_tokens,
        train_examples=plan.train_examples,
        mixed_tokens=plan.mixed_tokens,
        parent_job_id=parent.job_id if parent else None,
        fail_on_start=failure,
        lora=lora,
        learned=list(parent.learned) if parent else [],
    )
    job.logs.append(
        log_line(
            now,
            f"Job {job_id} created: model={request.model}, base_model={base_model}, "
            f"training_type={request.training_type}",
        )
    )
    store.jobs.add(job)
    schedule(store, settings, job)
    return job
