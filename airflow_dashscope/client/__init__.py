"""A DashScope fine-tuning client with no Airflow imports, usable on its own.

``DashScopeClient`` (blocking) and ``AsyncDashScopeClient`` (asyncio) expose the same
methods, generated from one description of each endpoint (``client.endpoints``).

Names load on first use, so importing ``client.errors`` or ``client.config`` alone stays
cheap (DAG files parse without the pydantic models or httpx clients).
"""

from typing import TYPE_CHECKING

from airflow_dashscope import lazy_exports

if TYPE_CHECKING:
    from airflow_dashscope.client.async_client import AsyncDashScopeClient
    from airflow_dashscope.client.config import (
        BEIJING_BASE_URL,
        INTERNATIONAL_BASE_URL,
        US_BASE_URL,
        ClientConfig,
        Secret,
        base_url_for_region,
        canonical_region,
    )
    from airflow_dashscope.client.endpoints.files import UploadFailedError
    from airflow_dashscope.client.errors import (
        AuthenticationError,
        BaseUrlError,
        BillingError,
        ConflictError,
        DashScopeAPIError,
        DashScopeConfigError,
        DashScopeError,
        DashScopeTransportError,
        InternalServerError,
        InvalidParameterError,
        NotFoundError,
        QuotaExceededError,
        RateLimitError,
        SuffixRequiredError,
        ThrottlingError,
        UnsupportedOperationError,
        WorkspaceNotFoundError,
    )
    from airflow_dashscope.client.retry import RetryPolicy
    from airflow_dashscope.client.sync_client import DashScopeClient

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "AsyncDashScopeClient": "airflow_dashscope.client.async_client",
        "AuthenticationError": "airflow_dashscope.client.errors",
        "BEIJING_BASE_URL": "airflow_dashscope.client.config",
        "BaseUrlError": "airflow_dashscope.client.errors",
        "BillingError": "airflow_dashscope.client.errors",
        "ClientConfig": "airflow_dashscope.client.config",
        "ConflictError": "airflow_dashscope.client.errors",
        "DashScopeAPIError": "airflow_dashscope.client.errors",
        "DashScopeClient": "airflow_dashscope.client.sync_client",
        "DashScopeConfigError": "airflow_dashscope.client.errors",
        "DashScopeError": "airflow_dashscope.client.errors",
        "DashScopeTransportError": "airflow_dashscope.client.errors",
        "INTERNATIONAL_BASE_URL": "airflow_dashscope.client.config",
        "InternalServerError": "airflow_dashscope.client.errors",
        "InvalidParameterError": "airflow_dashscope.client.errors",
        "NotFoundError": "airflow_dashscope.client.errors",
        "QuotaExceededError": "airflow_dashscope.client.errors",
        "RateLimitError": "airflow_dashscope.client.errors",
        "RetryPolicy": "airflow_dashscope.client.retry",
        "Secret": "airflow_dashscope.client.config",
        "SuffixRequiredError": "airflow_dashscope.client.errors",
        "ThrottlingError": "airflow_dashscope.client.errors",
        "US_BASE_URL": "airflow_dashscope.client.config",
        "UnsupportedOperationError": "airflow_dashscope.client.errors",
        "UploadFailedError": "airflow_dashscope.client.endpoints.files",
        "WorkspaceNotFoundError": "airflow_dashscope.client.errors",
        "base_url_for_region": "airflow_dashscope.client.config",
        "canonical_region": "airflow_dashscope.client.config",
    },
)

__all__ = [
    "BEIJING_BASE_URL",
    "INTERNATIONAL_BASE_URL",
    "US_BASE_URL",
    "AsyncDashScopeClient",
    "AuthenticationError",
    "BaseUrlError",
    "BillingError",
    "ClientConfig",
    "ConflictError",
    "DashScopeAPIError",
    "DashScopeClient",
    "DashScopeConfigError",
    "DashScopeError",
    "DashScopeTransportError",
    "InternalServerError",
    "InvalidParameterError",
    "NotFoundError",
    "QuotaExceededError",
    "RateLimitError",
    "RetryPolicy",
    "Secret",
    "SuffixRequiredError",
    "ThrottlingError",
    "UnsupportedOperationError",
    "UploadFailedError",
    "WorkspaceNotFoundError",
    "base_url_for_region",
    "canonical_region",
]
