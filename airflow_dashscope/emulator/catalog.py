"""The emulator's own model tables, per region, written from the vendor pages.

Kept apart from the client's ``airflow_dashscope.checks.catalog`` on purpose: a wrong row on
one side is then caught by the test that compares the two, instead of being shared silently.

* ``cn-beijing``: the table "支持的基础模型ID（model）列表与训练类型（training_type）支持情况"
  of ``vendor-docs-zh/fine-tuning-api-guide.md`` (text models) and the Qwen-VL table of
  ``model-training-overview.md``. There ``qwen3-32b`` does not support ``cpt`` (×).
* ``ap-southeast-1`` (Singapore, ``dashscope-intl``): no Chinese page gives its fine-tuning
  list (each says "仅适用于中国大陆版（北京地域）"). The emulator uses the table of the English
  document ``fine-tune-with-api.txt`` (the international site's page), which lists
  ``qwen3.6-flash``/``qwen3.5-flash`` (sft only) and ``qwen3-32b`` with ``cpt``. Unconfirmed.
* Model-unit (``mu``) deployable base models: the "支持的模型" list of
  ``model-deployment-api.md`` (text generation, Qwen families).
"""

# ruff: noqa: RUF002, RUF003  (quotes the vendor's Chinese pages)

from __future__ import annotations

BEIJING = "cn-beijing"
SINGAPORE = "ap-southeast-1"
REGIONS: tuple[str, ...] = (BEIJING, SINGAPORE)

TRAINING_TYPES: tuple[str, ...] = ("cpt", "sft", "efficient_sft", "dpo_full", "dpo_lora")
EFFICIENT_TRAINING_TYPES: frozenset[str] = frozenset({"efficient_sft", "dpo_lora"})
#: "仅 SFT微调训练（efficient_sft、sft）支持保存和发布其中间状态的模型参数快照".
CHECKPOINT_TRAINING_TYPES: frozenset[str] = frozenset({"sft", "efficient_sft"})
LORA_HYPER_PARAMETERS: tuple[str, ...] = ("lora_rank", "lora_alpha", "lora_dropout")

_ALL = frozenset(TRAINING_TYPES)
_SFT = frozenset({"sft"})
_SFT_LORA = frozenset({"sft", "efficient_sft"})
_NO_CPT = frozenset({"sft", "efficient_sft", "dpo_full", "dpo_lora"})
_CPT_SFT_LORA = frozenset({"cpt", "sft", "efficient_sft"})

_BEIJING_TABLE: dict[str, frozenset[str]] = {
    "qwen3.5-27b": _SFT_LORA,
    "qwen3.5-9b": _SFT_LORA,
    "qwen3-32b": _NO_CPT,
    "qwen3-30b-a3b-instruct-2507": _CPT_SFT_LORA,
    "qwen3-14b": _NO_CPT,
    "qwen3-8b": _NO_CPT,
    "qwen3-1.7b": _ALL,
    "qwen3-0.6b": _ALL,
    "qwen2.5-72b-instruct": _ALL,
    "qwen2.5-32b-instruct": _ALL,
    "qwen2.5-14b-instruct": _ALL,
    "qwen2.5-7b-instruct": _ALL,
    "qwen-plus-character-2025-11-06": _NO_CPT,
    # model-training-overview.md, 视觉理解（千问VL）
    "qwen3-vl-8b-instruct": _SFT_LORA,
    "qwen3-vl-8b-thinking": _SFT_LORA,
    "qwen3-vl-4b-instruct": _SFT_LORA,
    "qwen2.5-vl-72b-instruct": _SFT_LORA,
    "qwen2.5-vl-32b-instruct": _SFT_LORA,
    "qwen2.5-vl-7b-instruct": _SFT_LORA,
}

_SINGAPORE_TABLE: dict[str, frozenset[str]] = {
    "qwen3.6-flash-2026-04-16": _SFT,
    "qwen3.5-27b": _SFT_LORA,
    "qwen3.5-9b": _SFT_LORA,
    "qwen3.5-flash-2026-02-23": _SFT,
    "qwen3-32b": _ALL,
    "qwen3-30b-a3b-instruct-2507": _CPT_SFT_LORA,
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

#: Region -> base model id -> the training types it supports.
TRAINING_SUPPORT: dict[str, dict[str, frozenset[str]]] = {
    BEIJING: _BEIJING_TABLE,
    SINGAPORE: _SINGAPORE_TABLE,
}

#: Base models that a ``plan: mu`` deployment accepts (model-deployment-api.md, 千问).
MU_MODELS: frozenset[str] = frozenset(
    {
        "qwen3.6-35b-a3b",
        "qwen3.6-27b",
        "qwen3.6-flash-2026-04-16",
        "qwen3.6-plus-2026-04-02",
        "qwen3.5-397b-a17b",
        "qwen3.5-122b-a10b",
        "qwen3.5-35b-a3b",
        "qwen3.5-27b",
        "qwen3.5-9b",
        "qwen3.5-flash-2026-02-23",
        "qwen3.5-plus-2026-02-15",
        "qwen3-235b-a22b-instruct-2507",
        "qwen3-next-80b-a3b-instruct",
        "qwen3-32b",
        "qwen3-30b-a3b",
        "qwen3-30b-a3b-instruct-2507",
        "qwen3-8b",
        "qwen3-4b",
        "qwen3-1.7b",
        "qwen3-max-2025-09-23",
        "qwen2.5-72b-instruct",
        "qwen2.5-32b-instruct",
        "qwen2.5-14b-instruct",
        "qwen2.5-7b-instruct",
        "qwen2.5-3b-instruct",
        "qwen-flash-2025-07-28",
        "qwen-plus-2025-07-28",
        "qwen-plus-2025-12-01",
    }
)


def training_table(region: str) -> dict[str, frozenset[str]]:
    return TRAINING_SUPPORT.get(region, {})


def is_base_model(region: str, model: str) -> bool:
    return model in training_table(region)


def supports(region: str, model: str, training_type: str) -> bool:
    return training_type in training_table(region).get(model, frozenset())


def supported_training_types(region: str, model: str) -> list[str]:
    allowed = training_table(region).get(model, frozenset())
    return [t for t in TRAINING_TYPES if t in allowed]


def serves(region: str, model: str) -> bool:
    """A base model that answers generation calls without a deployment."""
    return is_base_model(region, model) or model in MU_MODELS
