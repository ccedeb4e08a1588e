"""The client's support table and the emulator's own one, written apart from the same vendor
pages, agree row for row in every region both know.

A wrong row on either side (such as ``cpt`` on ``qwen3-32b`` in Beijing, which the newest
pages mark as unsupported) then fails here instead of being shared silently by the emulator and the
pre-flight checks.
"""

from __future__ import annotations

import pytest

from airflow_dashscope.checks import catalog
from airflow_dashscope.client.config import REGION_ROOTS
from airflow_dashscope.emulator import catalog as emulator_catalog


def test_the_training_types_and_their_families_agree() -> None:
    assert catalog.TRAINING_TYPES == emulator_catalog.TRAINING_TYPES
    assert catalog.EFFICIENT_TRAINING_TYPES == emulator_catalog.EFFICIENT_TRAINING_TYPES
    assert catalog.CHECKPOINT_TRAINING_TYPES == emulator_catalog.CHECKPOINT_TRAINING_TYPES
    assert catalog.LORA_HYPER_PARAMETERS == emulator_catalog.LORA_HYPER_PARAMETERS


@pytest.mark.parametrize("region", emulator_catalog.REGIONS)
def test_each_emulated_region_has_the_same_table_on_both_sides(region: str) -> None:
    client_table = catalog.support_table(region)
    assert client_table is not None, f"the client has no table for {region}"
    emulator_table = emulator_catalog.TRAINING_SUPPORT[region]
    assert sorted(client_table) == sorted(emulator_table)
    for model, kinds in emulator_table.items():
        assert client_table[model] == kinds, f"{region} {model}"


def test_every_region_the_client_documents_is_emulated() -> None:
    documented = {r for r in catalog.REGION_TRAINING_SUPPORT if catalog.is_documented_region(r)}
    assert documented == set(emulator_catalog.REGIONS)


def test_the_client_knows_a_table_or_an_explicit_unknown_for_every_region_it_reaches() -> None:
    assert set(catalog.REGION_TRAINING_SUPPORT) == set(REGION_ROOTS)


def test_the_newest_pages_drop_cpt_on_qwen3_32b_in_beijing() -> None:
    """fine-tuning-api-guide.md and model-training-overview.md: Qwen3-32B has no cpt."""
    assert not catalog.supports("qwen3-32b", "cpt", "cn-beijing")
    assert catalog.supports("qwen3-32b", "dpo_lora", "cn-beijing")
    assert catalog.supports("qwen3-32b", "cpt", "ap-southeast-1")
    assert catalog.supports("qwen3-32b", "cpt") is False  # the default region is Beijing


def test_an_undocumented_region_refuses_nothing_and_lists_nothing() -> None:
    assert catalog.support_table("us-east-1") is None
    assert not catalog.is_documented_region("us-east-1")
    assert catalog.supported_training_types("qwen3-8b", "us-east-1") == []
