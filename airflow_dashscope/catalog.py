"""What the service documents about models and training types, as plain data.

Shared by the client-side validation and the emulator so that both enforce one table: the
"Supported base model IDs and training types" table of ``fine-tune-with-api.txt``. The
document's column header says ``sft_efficient`` but the request value is ``efficient_sft``;
this module uses the request value. No I/O, no imports: cheap at DAG-parse time.
"""

from __future__ import annotations

TRAINING_TYPES: tuple[str, ...] = ("cpt", "sft", "efficient_sft", "dpo_full", "dpo_lora")

#: LoRA-based types: only these take ``lora_rank``/``lora_alpha``/``lora_dropout``.
EFFICIENT_TRAINING_TYPES: frozenset[str] = frozenset({"efficient_sft", "dpo_lora"})

#: Types that save intermediate checkpoints (``save_strategy``) that can be exported.
CHECKPOINT_TRAINING_TYPES: frozenset[str] = frozenset({"sft", "efficient_sft"})

#: Types whose training data may be mixed with general-purpose data (``data_augmentation``).
AUGMENTATION_TRAINING_TYPES: frozenset[str] = frozenset({"sft", "efficient_sft"})

#: The hyperparameters that drive the cost; the document marks them required.
REQUIRED_HYPER_PARAMETERS: tuple[str, ...] = ("n_epochs", "batch_size", "max_length")

LORA_HYPER_PARAMETERS: tuple[str, ...] = ("lora_rank", "lora_alpha", "lora_dropout")

#: Preset data sets for ``augmentation_types`` (compared case-insensitively: the document's
#: example writes ``dialogue_CN``, its table ``dialogue_cn``).
AUGMENTATION_DATASETS: frozenset[str] = frozenset(
    {
        "dialogue_cn",
        "math_cn",
        "general_coding_cn",
        "general_purpose_cn",
        "nlp",
        "dialogue_en",
        "math_en",
        "general_coding_en",
        "general_purpose_en",
        "mix_v2",
        "vl_mix",
    }
)

_ALL = frozenset(TRAINING_TYPES)
_SFT_ONLY = frozenset({"sft"})
_SFT_AND_LORA = frozenset({"sft", "efficient_sft"})
_NO_CPT = frozenset({"sft", "efficient_sft", "dpo_full", "dpo_lora"})

#: Base model id -> the training types it supports.
MODEL_TRAINING_SUPPORT: dict[str, frozenset[str]] = {
    "qwen3.6-flash-2026-04-16": _SFT_ONLY,
    "qwen3.5-27b": _SFT_AND_LORA,
    "qwen3.5-9b": _SFT_AND_LORA,
    "qwen3.5-flash-2026-02-23": _SFT_ONLY,
    "qwen3-32b": _ALL,
    "qwen3-30b-a3b-instruct-2507": frozenset({"cpt", "sft", "efficient_sft"}),
    "qwen3-14b": _NO_CPT,
    "qwen3-8b": _NO_CPT,
    "qwen3-1.7b": _ALL,
    "qwen3-0.6b": _ALL,
    "qwen2.5-72b-instruct": _ALL,
    "qwen2.5-32b-instruct": _ALL,
    "qwen2.5-14b-instruct": _ALL,
    "qwen2.5-7b-instruct": _ALL,
    "qwen-plus-character-2025-11-06": _NO_CPT,
}


def is_known_base_model(model: str) -> bool:
    return model in MODEL_TRAINING_SUPPORT


def supports(model: str, training_type: str) -> bool:
    """True when the support table allows ``training_type`` on base model ``model``."""
    return training_type in MODEL_TRAINING_SUPPORT.get(model, frozenset())


def supported_training_types(model: str) -> list[str]:
    allowed = MODEL_TRAINING_SUPPORT.get(model, frozenset())
    return [t for t in TRAINING_TYPES if t in allowed]
