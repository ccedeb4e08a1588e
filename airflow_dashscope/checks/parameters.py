"""Checks on fine-tune and deployment parameters, run before a request costs anything.

Pure functions shared by the operators. Every problem found is collected and raised together
as one ``JobParameterError`` naming each parameter. The model x training-type table and the
hyperparameter groups come from ``catalog``.

Policy choices (the document leaves these open):

* A ``model`` that is not in the support table is allowed when no ``base_model`` is given:
  it may be an earlier job's output or a model newer than this table. When the caller knows
  the base model (continuing an earlier job), the base model is checked instead.
* A ``base_model`` that is not in the table is allowed too, for the same reason.
* ``training_type=None`` is checked as ``sft``, the type of the document's examples
  **[inferred: the service default]**.
* Unknown hyperparameters pass (the service adds new ones); known ones are type-checked.
  Float parameters may be numeric strings, as in the document's ``"learning_rate": "1.6e-5"``.
* A template renders to text unless the DAG renders native objects, so ``"{{ params.n }}"``
  arrives as ``"3"``. :func:`as_number` and :func:`normalize_hyper_parameters` are the one
  place where such text becomes a number (or a boolean); every operator calls them before
  checking or sending anything.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Mapping
from typing import Any

from airflow_dashscope.checks import catalog

DEPLOYMENT_PLANS = ("lora", "mu", "ptu")
SAVE_STRATEGIES = ("epoch", "steps")
SAVE_PARAMETERS = ("save_strategy", "save_steps", "save_total_limit")
AUGMENTATION_PARAMETERS = ("data_augmentation", "augmentation_types", "augmentation_ratio")
MAX_AUGMENTATION_RATIO = 2.0

_POSITIVE_INTS = (
    "n_epochs",
    "batch_size",
    "max_length",
    "eval_steps",
    "logging_steps",
    "save_steps",
    "save_total_limit",
    "max_split_val_dataset_sample",
    "lora_rank",
    "lora_alpha",
)
_BOOLS = ("data_augmentation", "freeze_vit")
_STRINGS = ("lr_scheduler_type",)


def as_number(value: Any) -> Any:
    """An integer or float for numeric text (``"3"``, ``" 2.5 "``, ``"1e-4"``); anything
    else (including ``None``, booleans and non-numeric text) is returned unchanged, for the
    checks to name it."""
    if not isinstance(value, str):
        return value
    text = value.strip()
    try:
        return int(text)
    except ValueError:
        pass
    try:
        number = float(text)
    except ValueError:
        return value
    return number if math.isfinite(number) else value


def as_bool(value: Any) -> Any:
    """``True``/``False`` for the text a template renders (``"True"``, ``"false"``)."""
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return value


def normalize_hyper_parameters(params: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """Rendered template text as the types the service expects: integer parameters become
    ints, boolean ones bools. Float parameters keep their form (the service reads numeric
    strings, and ``"1.6e-5"`` stays as written). Unknown parameters pass unchanged."""
    if params is None:
        return None
    normalized = dict(params)
    for name in _POSITIVE_INTS:
        if name in normalized:
            normalized[name] = as_number(normalized[name])
    for name in _BOOLS:
        if name in normalized:
            normalized[name] = as_bool(normalized[name])
    return normalized


class JobParameterError(ValueError):
    """Parameters the service would reject, or that would waste a paid run."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))


def validate_fine_tune_parameters(
    model: str,
    training_type: str | None,
    hyper_parameters: Mapping[str, Any] | None,
    *,
    base_model: str | None = None,
    earlier_job_hyper_parameters: Mapping[str, Any] | None = None,
    pending: Collection[str] = (),
) -> None:
    """Raise ``JobParameterError`` listing every problem in a fine-tune request.

    ``base_model`` and ``earlier_job_hyper_parameters``: when ``model`` is an earlier job's
    output, that job's base model and hyper_parameters (a second efficient fine-tune must
    keep lora_rank, lora_alpha and lora_dropout). ``pending``: hyperparameters a template
    fills at run time (checked at DAG parse): they count as given, their values unchecked.
    """
    problems: list[str] = []
    kind = "sft" if training_type is None else training_type
    if kind not in catalog.TRAINING_TYPES:
        problems.append(
            f"training_type must be one of {', '.join(catalog.TRAINING_TYPES)}, got {kind!r}"
        )
    if not isinstance(model, str) or not model.strip():
        problems.append(f"model must be a non-empty string, got {model!r}")
    else:
        problems += _model_support_problems(model, kind, base_model)
    params = {k: v for k, v in (hyper_parameters or {}).items() if k not in pending}
    problems += _hyper_parameter_problems(params, kind, pending)
    if earlier_job_hyper_parameters is not None and kind in catalog.EFFICIENT_TRAINING_TYPES:
        problems += _second_lora_problems(params, earlier_job_hyper_parameters)
    if problems:
        raise JobParameterError(problems)


def _model_support_problems(model: str, kind: str, base_model: str | None) -> list[str]:
    checked = base_model or model
    if kind not in catalog.TRAINING_TYPES or not catalog.is_known_base_model(checked):
        return []
    if catalog.supports(checked, kind):
        return []
    which = f"base model {checked!r} (of model {model!r})" if base_model else f"model {model!r}"
    allowed = ", ".join(catalog.supported_training_types(checked))
    return [f"training_type {kind!r} is not supported for {which}; it supports: {allowed}"]


def _hyper_parameter_problems(
    params: dict[str, Any], kind: str, pending: Collection[str] = ()
) -> list[str]:
    problems = [
        f"hyper_parameters.{name} is required (it drives the cost)"
        for name in catalog.REQUIRED_HYPER_PARAMETERS
        if name not in params and name not in pending
    ]
    for name in _POSITIVE_INTS:
        if name in params and not _is_positive_int(params[name]):
            problems.append(
                f"hyper_parameters.{name} must be a positive integer, got {params[name]!r}"
            )
    for name in _BOOLS:
        if name in params and not isinstance(params[name], bool):
            problems.append(f"hyper_parameters.{name} must be a boolean, got {params[name]!r}")
    for name in _STRINGS:
        if name in params and not isinstance(params[name], str):
            problems.append(f"hyper_parameters.{name} must be a string, got {params[name]!r}")
    for name, accepts, rule in _FLOAT_RULES:
        if name in params:
            value = _as_float(params[name])
            if value is None or not accepts(value):
                problems.append(f"hyper_parameters.{name} must be {rule}, got {params[name]!r}")
    problems += _only_for(
        params, catalog.LORA_HYPER_PARAMETERS, catalog.EFFICIENT_TRAINING_TYPES, kind
    )
    problems += _only_for(
        params, AUGMENTATION_PARAMETERS, catalog.AUGMENTATION_TRAINING_TYPES, kind
    )
    problems += _only_for(params, SAVE_PARAMETERS, catalog.CHECKPOINT_TRAINING_TYPES, kind)
    problems += _augmentation_problems(params)
    problems += _save_problems(params)
    return problems


_FLOAT_RULES: tuple[tuple[str, Callable[[float], bool], str], ...] = (
    ("learning_rate", lambda v: v > 0, "a positive number (or numeric string)"),
    ("split", lambda v: 0 < v < 1, "a number between 0 and 1 (exclusive)"),
    ("warmup_ratio", lambda v: 0 <= v < 1, "a number in [0, 1)"),
    ("lora_dropout", lambda v: 0 <= v < 1, "a number in [0, 1)"),
    ("weight_decay", lambda v: v >= 0, "a number >= 0"),
)


def _only_for(
    params: Mapping[str, Any], names: tuple[str, ...], kinds: frozenset[str], kind: str
) -> list[str]:
    if kind in kinds or kind not in catalog.TRAINING_TYPES:
        return []
    allowed = "/".join(t for t in catalog.TRAINING_TYPES if t in kinds)
    return [
        f"hyper_parameters.{name} only applies to {allowed}, not {kind}"
        for name in names
        if name in params
    ]


def _augmentation_problems(params: Mapping[str, Any]) -> list[str]:
    has_types, has_ratio = "augmentation_types" in params, "augmentation_ratio" in params
    if has_types != has_ratio:
        return ["hyper_parameters.augmentation_types and augmentation_ratio must be given together"]
    if not has_types:
        return []
    problems: list[str] = []
    types = _split_list(params["augmentation_types"])
    ratios = _split_list(params["augmentation_ratio"])
    if types is None or not types:
        problems.append(
            "hyper_parameters.augmentation_types must be a comma-separated string such as "
            f"'dialogue_CN,NLP', got {params['augmentation_types']!r}"
        )
    else:
        unknown = [t for t in types if t.strip().lower() not in catalog.AUGMENTATION_DATASETS]
        if unknown:
            known = ", ".join(sorted(catalog.AUGMENTATION_DATASETS))
            problems.append(f"hyper_parameters.augmentation_types: unknown {unknown}; use {known}")
    if ratios is None or not ratios:
        problems.append(
            "hyper_parameters.augmentation_ratio must be a comma-separated string such as "
            f"'0.1,0.05', got {params['augmentation_ratio']!r}"
        )
    else:
        bad = [r for r in ratios if (v := _as_float(r)) is None or not 0 <= v <= 2]
        if bad:
            problems.append(
                f"hyper_parameters.augmentation_ratio values must be numbers from 0.0 to "
                f"{MAX_AUGMENTATION_RATIO}, got {bad}"
            )
    if types and ratios and len(types) != len(ratios):
        problems.append(
            f"hyper_parameters.augmentation_ratio has {len(ratios)} value(s) but "
            f"augmentation_types has {len(types)}; give one ratio per type"
        )
    return problems


def _save_problems(params: Mapping[str, Any]) -> list[str]:
    problems: list[str] = []
    strategy = params.get("save_strategy")
    if "save_strategy" in params and strategy not in SAVE_STRATEGIES:
        problems.append(f"hyper_parameters.save_strategy must be epoch or steps, got {strategy!r}")
    if "save_steps" in params and strategy != "steps":
        problems.append("hyper_parameters.save_steps requires save_strategy 'steps'")
    save_steps, eval_steps = params.get("save_steps"), params.get("eval_steps")
    if (
        isinstance(save_steps, int)
        and isinstance(eval_steps, int)
        and _is_positive_int(save_steps)
        and _is_positive_int(eval_steps)
        and save_steps % eval_steps
    ):
        problems.append(
            f"hyper_parameters.save_steps ({save_steps}) must be a multiple of eval_steps "
            f"({eval_steps})"
        )
    return problems


def _second_lora_problems(params: Mapping[str, Any], earlier: Mapping[str, Any]) -> list[str]:
    problems: list[str] = []
    for name in catalog.LORA_HYPER_PARAMETERS:
        if name not in earlier:
            continue  # the earlier job used the model's default, which we cannot know
        if name not in params or _as_float(params[name]) != _as_float(earlier[name]):
            problems.append(
                f"hyper_parameters.{name} must equal the earlier job's value {earlier[name]!r} "
                f"for a second efficient fine-tune, got {params.get(name)!r}"
            )
    return problems


def validate_deployment_parameters(
    model_name: str,
    plan: str,
    capacity: int,
    deploy_spec: str | None = None,
    *,
    rpm_limit: int | None = None,
    tpm_limit: int | None = None,
    max_context_length: int | None = None,
    enable_thinking: bool | None = None,
) -> None:
    """Raise ``JobParameterError`` listing every problem in a deployment request."""
    problems: list[str] = []
    if not isinstance(model_name, str) or not model_name.strip():
        problems.append(f"model_name must be a non-empty string, got {model_name!r}")
    if plan not in DEPLOYMENT_PLANS:
        problems.append(f"plan must be one of {', '.join(DEPLOYMENT_PLANS)}, got {plan!r}")
    if not _is_positive_int(capacity):
        problems.append(f"capacity must be a positive integer, got {capacity!r}")
    if plan == "mu" and (not isinstance(deploy_spec, str) or not deploy_spec.strip()):
        problems.append("deploy_spec is required for plan 'mu' (e.g. 'MU1')")
    mu_only = {
        "deploy_spec": deploy_spec,
        "rpm_limit": rpm_limit,
        "tpm_limit": tpm_limit,
        "max_context_length": max_context_length,
        "enable_thinking": enable_thinking,
    }
    for name, value in mu_only.items():
        if value is not None and plan in DEPLOYMENT_PLANS and plan != "mu":
            problems.append(f"{name} only applies to plan 'mu', not {plan!r}")
    limits = {
        "rpm_limit": rpm_limit,
        "tpm_limit": tpm_limit,
        "max_context_length": max_context_length,
    }
    for name, value in limits.items():
        if value is not None and not _is_positive_int(value):
            problems.append(f"{name} must be a positive integer, got {value!r}")
    if enable_thinking is not None and not isinstance(enable_thinking, bool):
        problems.append(f"enable_thinking must be a boolean, got {enable_thinking!r}")
    if problems:
        raise JobParameterError(problems)


def _is_positive_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def _as_float(value: object) -> float | None:
    """A finite number from a number or numeric string; None otherwise."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) else None


def _split_list(value: object) -> list[str] | None:
    """A comma-separated string (the document's form) or a list, as a list of strings."""
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    if isinstance(value, (list, tuple)):
        return [str(part) for part in value]
    return None
