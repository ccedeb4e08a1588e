"""The Airflow hook: a DashScope client built from an Airflow connection."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseHook

from airflow_dashscope.hooks.pool import config_digest, recent_configs, shared_clients

if TYPE_CHECKING:  # the client loads when a task runs, not when a DAG file is parsed
    from airflow_dashscope.client import AsyncDashScopeClient, DashScopeClient
    from airflow_dashscope.client.config import ClientConfig
    from airflow_dashscope.hooks.connection import ConnectionLike


def _mask(config: ClientConfig) -> ClientConfig:
    """Register the key with Airflow's secret masker before anything can log it."""
    from airflow.sdk.log import mask_secret

    mask_secret(config.api_key.get_secret_value())
    return config


#: Configurations whose key this process has already registered through the async path.
_masked_in_loop: set[str] = set()


async def _amask(config: ClientConfig) -> ClientConfig:
    """``_mask`` for the event loop: once per key per process, without a blocking send.

    In a triggerer, ``mask_secret`` also tells the supervisor with a blocking send, which
    a thousand triggers starting together would each pay on the shared loop.
    """
    digest = config_digest(config)
    if digest not in _masked_in_loop:
        try:
            from airflow.sdk.log import amask_secret
        except ImportError:  # Airflow 3.1: only the blocking one exists
            _mask(config)
        else:
            await amask_secret(config.api_key.get_secret_value())
        _masked_in_loop.add(digest)
    return config


class DashScopeHook(BaseHook):
    """Talks to Alibaba Cloud Model Studio (DashScope) through a ``dashscope`` connection.

    ``get_conn()`` gives the blocking :class:`DashScopeClient` (for operators), created once
    per hook. ``await aget_conn()`` lends an :class:`AsyncDashScopeClient` (for triggers): its
    connection lookup does not block the event loop, and it is shared with every other hook
    of the same connection settings in that loop (``hooks.pool``), so a triggerer holds one
    connection pool per connection, not one per trigger. ``aclose()`` gives it back.

    :param dashscope_conn_id: the Airflow connection id.
    """

    conn_name_attr = "dashscope_conn_id"
    default_conn_name = "dashscope_default"
    conn_type = "dashscope"
    hook_name = "DashScope"

    def __init__(self, dashscope_conn_id: str = default_conn_name, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.dashscope_conn_id = dashscope_conn_id
        self._async_client: AsyncDashScopeClient | None = None

    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:
        """The form of Airflow releases that do not read ``conn-fields`` (3.1)."""
        return {
            "hidden_fields": ["schema", "port", "login"],
            "relabeling": {"host": "Base URL", "password": "API key"},
            "placeholders": {"host": "https://dashscope.aliyuncs.com/api/v1"},
        }

    @classmethod
    def get_connection_form_widgets(cls) -> dict[str, Any]:
        """The extra fields of Airflow 3.1's form (3.2+ reads ``conn-fields`` instead).

        Only called where the FAB UI packages are installed, so they are imported here.
        """
        from flask_appbuilder.fieldwidgets import BS3TextFieldWidget
        from flask_babel import lazy_gettext
        from wtforms import BooleanField, IntegerField, StringField
        from wtforms.validators import Optional

        def text(label: str) -> Any:
            return StringField(lazy_gettext(label), widget=BS3TextFieldWidget())

        def number(label: str) -> Any:
            return IntegerField(
                lazy_gettext(label), validators=[Optional()], widget=BS3TextFieldWidget()
            )

        return {
            "workspace": text("Workspace ID"),
            "region": text("Region (cn-beijing or ap-southeast-1)"),
            "timeout": number("Timeout (seconds)"),
            "max_retries": number("Max retries"),
            "allow_insecure_http": BooleanField(
                lazy_gettext("Allow plain http to a non-loopback host")
            ),
        }

    def client_config(self) -> ClientConfig:
        from airflow_dashscope.hooks.connection import client_config_from

        conn: ConnectionLike = self.get_connection(self.dashscope_conn_id)
        return _mask(client_config_from(conn))

    async def aclient_config(self) -> ClientConfig:
        from airflow_dashscope.hooks.connection import client_config_from

        conn: ConnectionLike = await self.aget_connection(self.dashscope_conn_id)
        return await _amask(client_config_from(conn))

    @cached_property
    def client(self) -> DashScopeClient:
        from airflow_dashscope.client import DashScopeClient

        return DashScopeClient(self.client_config())

    def get_conn(self) -> DashScopeClient:
        return self.client

    async def aget_conn(self) -> AsyncDashScopeClient:
        """The shared async client of this connection's settings (borrowed until ``aclose``)."""
        if self._async_client is None:
            config = await recent_configs.get(self.dashscope_conn_id, self.aclient_config)
            self._async_client = await shared_clients.acquire(config)
        return self._async_client

    def close(self) -> None:
        if "client" in self.__dict__:
            self.client.close()
            del self.__dict__["client"]

    async def aclose(self) -> None:
        """Give the async client back (the last user of a shared client closes it)."""
        if self._async_client is not None:
            client, self._async_client = self._async_client, None
            await shared_clients.release(client)

    def test_connection(self) -> tuple[bool, str]:
        """Checks the key, URL and workspace by listing one file."""
        from airflow_dashscope.client.errors import DashScopeError

        try:
            self.get_conn().list_files_page(page_no=1, page_size=1)
        except DashScopeError as exc:
            return False, str(exc)
        return True, "Connection to DashScope works."
