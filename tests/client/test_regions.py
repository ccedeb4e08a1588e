"""The connection's region reaches the endpoints the error-code page lists per region.

error-code.md ("地域不匹配"): Beijing ``dashscope.aliyuncs.com``, Singapore
``dashscope-intl.aliyuncs.com``, Virginia ``dashscope-us.aliyuncs.com``, each with
``/api/v1`` (DashScope) and ``/compatible-mode/v1`` (OpenAI-compatible).
"""

from __future__ import annotations

import pytest

from airflow_dashscope.client import DashScopeConfigError, base_url_for_region, canonical_region
from airflow_dashscope.client.config import ClientConfig, Secret
from airflow_dashscope.client.endpoints.fine_tunes import get_fine_tune
from airflow_dashscope.client.endpoints.generation import list_models
from airflow_dashscope.client.transport import request_url


@pytest.mark.parametrize(
    ("region", "host"),
    [
        ("cn-beijing", "dashscope.aliyuncs.com"),
        ("ap-southeast-1", "dashscope-intl.aliyuncs.com"),
        ("Singapore", "dashscope-intl.aliyuncs.com"),
        ("intl", "dashscope-intl.aliyuncs.com"),
        ("us-east-1", "dashscope-us.aliyuncs.com"),
    ],
)
def test_a_region_reaches_its_fine_tune_and_compatible_endpoints(region: str, host: str) -> None:
    config = ClientConfig(api_key=Secret("k"), base_url=base_url_for_region(region))
    assert config.region == canonical_region(region)
    native = request_url(config, next(get_fine_tune("ft-1")))
    compatible = request_url(config, next(list_models()))
    assert native == f"https://{host}/api/v1/fine-tunes/ft-1"
    assert compatible == f"https://{host}/compatible-mode/v1/models"


def test_an_unknown_region_names_the_known_ones() -> None:
    with pytest.raises(DashScopeConfigError, match="ap-southeast-1"):
        base_url_for_region("mars-1")


def test_a_private_host_has_no_region() -> None:
    assert ClientConfig(api_key=Secret("k"), base_url="http://127.0.0.1:1/api/v1").region is None
