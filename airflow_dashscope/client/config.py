"""Client configuration: where to send requests, as whom, and how patiently.

The API key is kept in a :class:`Secret` whose ``repr`` and ``str`` never show it, so a
config printed in a log or an exception stays safe.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from airflow_dashscope.client.errors import DashScopeConfigError
from airflow_dashscope.client.retry import RetryPolicy

# The native roots per region, as the error-code page lists them ("API Key and Base URL of
# different regions"). The training pages document the fine-tune API for Beijing only.
BEIJING_BASE_URL = "https://dashscope.aliyuncs.com/api/v1"
INTERNATIONAL_BASE_URL = "https://dashscope-intl.aliyuncs.com/api/v1"
US_BASE_URL = "https://dashscope-us.aliyuncs.com/api/v1"

WORKSPACE_HEADER = "X-DashScope-WorkSpace"
#: Where the API key is read from when neither the connection nor the caller gives one.
API_KEY_ENV = "DASHSCOPE_API_KEY"

#: Canonical region id -> native base URL.
REGION_ROOTS: dict[str, str] = {
    "cn-beijing": BEIJING_BASE_URL,
    "ap-southeast-1": INTERNATIONAL_BASE_URL,
    "us-east-1": US_BASE_URL,
}

#: Region names accepted in the connection's ``region`` extra -> canonical region id.
REGION_ALIASES: dict[str, str] = {
    "cn-beijing": "cn-beijing",
    "beijing": "cn-beijing",
    "ap-southeast-1": "ap-southeast-1",
    "singapore": "ap-southeast-1",
    "intl": "ap-southeast-1",
    "international": "ap-southeast-1",
    "us-east-1": "us-east-1",
    "virginia": "us-east-1",
    "us": "us-east-1",
}

#: Region names accepted in the connection's ``region`` extra -> native base URL.
REGION_BASE_URLS: dict[str, str] = {
    alias: REGION_ROOTS[region] for alias, region in REGION_ALIASES.items()
}


class Secret:
    """A string that does not print itself."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def get_secret_value(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('**********')"

    __str__ = __repr__

    def __bool__(self) -> bool:
        return bool(self._value)


def canonical_region(region: str) -> str:
    """``"singapore"`` -> ``"ap-southeast-1"``; raises on a name this client does not know."""
    try:
        return REGION_ALIASES[region.strip().lower()]
    except KeyError:
        known = ", ".join(sorted(REGION_ALIASES))
        message = f"Unknown DashScope region {region!r}; use one of: {known}."
        raise DashScopeConfigError(message) from None


def base_url_for_region(region: str) -> str:
    return REGION_ROOTS[canonical_region(region)]


def region_of_base_url(base_url: str) -> str | None:
    """The region whose public host ``base_url`` is on (None for any other host)."""
    host = urlsplit(base_url).hostname
    for region, root in REGION_ROOTS.items():
        if urlsplit(root).hostname == host:
            return region
    return None


def is_loopback_host(host: str | None) -> bool:
    if not host:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def compatible_mode_url(base_url: str) -> str:
    """The OpenAI-compatible root on the same host: ``.../api/v1`` -> ``.../compatible-mode/v1``."""
    root = base_url.rstrip("/")
    if root.endswith("/api/v1"):
        root = root[: -len("/api/v1")]
    return f"{root}/compatible-mode/v1"


@dataclass(frozen=True)
class ClientConfig:
    api_key: Secret
    base_url: str = BEIJING_BASE_URL
    workspace: str | None = None
    #: Seconds for connect/read/write; uploads of large files need a generous write timeout.
    timeout: float = 60.0
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    #: Send the key over plain http to a non-loopback host. Off: that would leak the key.
    allow_insecure_http: bool = False
    #: Sockets (and requests in flight) of one client. The async client queues requests
    #: beyond it itself: httpx's own queue costs CPU per queued request and per pooled
    #: connection (a thousand triggers spent about 12 ms CPU per poll in it), so the pool
    #: is sized for a busy triggerer yet small enough to stay cheap to manage.
    max_connections: int = 16
    #: Seconds an idle pooled connection is kept: longer than the usual poll interval, so a
    #: poll reuses a warm connection instead of paying a new TCP and TLS handshake.
    keepalive_expiry: float = 120.0
    #: The Airflow connection this configuration was read from (None outside Airflow): the
    #: client's errors carry it, so a task's message names the connection to check.
    conn_id: str | None = None

    def __post_init__(self) -> None:
        if not self.api_key:
            raise DashScopeConfigError(
                f"No DashScope API key: set the connection's password or {API_KEY_ENV}."
            )
        parts = urlsplit(self.base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise DashScopeConfigError(
                f"DashScope base URL {self.base_url!r} is not an http(s) URL with a host."
            )
        insecure = parts.scheme == "http" and not is_loopback_host(parts.hostname)
        if insecure and not self.allow_insecure_http:
            raise DashScopeConfigError(
                f"Refusing to send the API key over plain http to {parts.hostname}: use https, "
                "or set allow_insecure_http (connection extra) if you really mean it."
            )

    @property
    def region(self) -> str | None:
        """The region of the base URL's host (None for a private host such as the emulator)."""
        return region_of_base_url(self.base_url)

    @property
    def compatible_base_url(self) -> str:
        return compatible_mode_url(self.base_url)

    def headers(self) -> dict[str, str]:
        headers = {
            "Authorization": f"Bearer {self.api_key.get_secret_value()}",
            "User-Agent": "airflow-provider-dashscope",
        }
        if self.workspace:
            headers[WORKSPACE_HEADER] = self.workspace
        return headers
