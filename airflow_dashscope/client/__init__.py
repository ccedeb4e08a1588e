"""A DashScope fine-tuning client with no Airflow imports, usable on its own.

``DashScopeClient`` (blocking) and ``AsyncDashScopeClient`` (asyncio) expose the same
methods, generated from one description of each endpoint (``client.endpoints``).
"""

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
