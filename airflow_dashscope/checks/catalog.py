"""What the service documents about models and training types, as plain data, per region.

The client-side (pre-flight) validation reads it. The support table follows the newest
vendor pages: the "支持的基础模型ID列表与训练类型支持情况" table of ``fine-tuning-api-guide.md``
and the "支持的模型" tables of ``model-training-overview.md`` (text and Qwen-VL), which agree.
They drop two flash models the older English document listed and ``cpt`` on ``qwen3-32b``.
The pages' column header says ``sft_efficient`` but the request value is ``efficient_sft``;
this module uses the request value.

Regions: every Chinese training page says it applies to China (Beijing) only. For Singapore
(``ap-southeast-1``, the international site) the only model list is the English document
``fine-tune-with-api.txt`` (the international edition of the same page): it keeps the two
flash models (sft only) and ``cpt`` on ``qwen3-32b``. That reading is unconfirmed. No page
gives a table for Virginia (``us-east-1``): its table is unknown (None), not empty, so a
caller must not reject a model there for lack of a row.

The emulator keeps its own table, written from the same pages
(``airflow_dashscope/emulator/catalog.py``); ``tests/test_catalog_consistency.py`` compares
the two, so a wrong row in either is caught. No I/O, no imports: cheap at DAG-parse time.
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

#: The region the training pages document.
DEFAULT_REGION = "cn-beijing"

#: China (Beijing): base model id -> the training types it supports.
BEIJING_TRAINING_SUPPORT: dict[str, frozenset[str]] = {
    # Text generation.
    "qwen3.5-27b": _SFT_AND_LORA,
    "qwen3.5-9b": _SFT_AND_LORA,
    "qwen3-32b": _NO_CPT,
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
    # Visual understanding (Qwen-VL).
    "qwen3-vl-8b-instruct": _SFT_AND_LORA,
    "qwen3-vl-8b-thinking": _SFT_AND_LORA,
    "qwen3-vl-4b-instruct": _SFT_AND_LORA,
    "qwen2.5-vl-72b-instruct": _SFT_AND_LORA,
    "qwen2.5-vl-32b-instruct": _SFT_AND_LORA,
    "qwen2.5-vl-7b-instruct": _SFT_AND_LORA,
}

#: Singapore (international site): the English document's table (unconfirmed, see above).
SINGAPORE_TRAINING_SUPPORT: dict[str, frozenset[str]] = {
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

#: Region id (as ``client.config.canonical_region`` names it) -> its support table, or None
#: where no page documents one.
REGION_TRAINING_SUPPORT: dict[str, dict[str, frozenset[str]] | None] = {
    "cn-beijing": BEIJING_TRAINING_SUPPORT,
    "ap-southeast-1": SINGAPORE_TRAINING_SUPPORT,
    "us-east-1": None,
}

#: The default region's table, under the name older callers use.
MODEL_TRAINING_SUPPORT = BEIJING_TRAINING_SUPPORT


def support_table(region: str | None = None) -> dict[str, frozenset[str]] | None:
    """The region's table (the default region's for None); None when no page gives one."""
    return REGION_TRAINING_SUPPORT.get(region or DEFAULT_REGION)


def is_documented_region(region: str | None = None) -> bool:
    """Whether the pages give a model table for ``region`` (only then can a model be refused)."""
    return support_table(region) is not None


def is_known_base_model(model: str, region: str | None = None) -> bool:
    return model in (support_table(region) or {})


def supports(model: str, training_type: str, region: str | None = None) -> bool:
    """True when the region's support table allows ``training_type`` on base model ``model``."""
    return training_type in (support_table(region) or {}).get(model, frozenset())


def supported_training_types(model: str, region: str | None = None) -> list[str]:
    allowed = (support_table(region) or {}).get(model, frozenset())
    return [t for t in TRAINING_TYPES if t in allowed]


def models_supporting(training_type: str, region: str | None = None) -> list[str]:
    """The base models of the region that support ``training_type``, for error messages."""
    table = support_table(region) or {}
    return sorted(model for model, kinds in table.items() if training_type in kinds)
