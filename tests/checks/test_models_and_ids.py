"""The known-model check and the id lists, each defined once."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from airflow_dashscope.checks.ids import as_id_list
from airflow_dashscope.checks.models import deployable_lookup, known_model
from airflow_dashscope.exceptions import UnknownModelError
from airflow_dashscope.lineage.openlineage import file_datasets


@pytest.mark.parametrize(
    ("value", "ids"),
    [(None, []), ("", []), ("f-1", ["f-1"]), (["f-1", "", "f-2"], ["f-1", "f-2"]), (("a",), ["a"])],
)
def test_as_id_list(value: Any, ids: list[str]) -> None:
    assert as_id_list(value) == ids
    # Lineage names the same files the request sends.
    assert [d.name for d in file_datasets(None, value)] == [f"files/{i}" for i in ids]


def test_a_model_found_nowhere_names_the_base_models_and_asks_the_service_last() -> None:
    asked: list[bool] = []

    def deployable() -> list[str]:
        asked.append(True)
        return ["my-deployable"]

    assert known_model("qwen3-8b", "sft", [], region="cn-beijing", deployable=deployable) is None
    assert not asked  # a base model costs no request
    assert (
        known_model("my-deployable", "sft", [], region="cn-beijing", deployable=deployable) is None
    )
    with pytest.raises(UnknownModelError, match="qwen3-8b") as unknown:
        known_model("qwen-max", "sft", [], region="cn-beijing", deployable=deployable)
    assert str(unknown.value).startswith("Use a base model")


def test_the_deployable_lookup_goes_through_the_operators_calling() -> None:
    calls: list[str] = []
    models = [SimpleNamespace(model_name="a"), SimpleNamespace(model_name="b")]

    class Operator:
        client = SimpleNamespace(list_deployable_models=lambda: models)

        def calling(self, doing: str, call: Any, *args: Any, **kwargs: Any) -> Any:
            calls.append(doing)
            return call(*args, **kwargs)

    names = deployable_lookup(Operator())
    assert calls == []  # asked only when called
    assert names() == ["a", "b"] and calls == ["listing the deployable models"]
