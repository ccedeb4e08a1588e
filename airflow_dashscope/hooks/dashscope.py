"""The Airflow hook: a DashScope client built from an Airflow connection."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseHook

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
    from airflow_dashscope.hooks.pool import config_digest  # the async path only

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
        """The standard fields of Airflow 3.1's form (3.2+ reads ``ui-field-behaviour``);
        built from the same provider metadata, so both lines show the same form."""
        from airflow_dashscope.get_provider_info import UI_FIELD_BEHAVIOUR

        return {key.replace("-", "_"): value for key, value in UI_FIELD_BEHAVIOUR.items()}

    @classmethod
    def get_connection_form_widgets(cls) -> dict[str, Any]:
        """The extra fields of Airflow 3.1's form (3.2+ reads ``conn-fields`` instead), built
        from ``conn-fields``: same labels, descriptions, choices and defaults on both lines.

        Airflow 3.1 imports these wtforms names under its own stand-ins when the FAB UI is
        absent, which allow only string, integer and boolean fields: a ``number`` (the
        timeout, which may be 2.5) is a string field the connection parses as a float.
        """
        from flask_appbuilder.fieldwidgets import BS3TextFieldWidget
        from flask_babel import lazy_gettext
        from wtforms import BooleanField, IntegerField, StringField
        from wtforms.validators import Optional, any_of

        from airflow_dashscope.get_provider_info import CONN_FIELDS

        widgets: dict[str, Any] = {}
        for name, field in CONN_FIELDS.items():
            schema = field["schema"]
            kinds = set(schema["type"]) - {"null"}
            label, description = lazy_gettext(field["label"]), field.get("description", "")
            if kinds == {"boolean"}:
                widgets[name] = BooleanField(
                    label, description=description, default=schema.get("default")
                )
                continue
            validators: list[Any] = [Optional()]
            if "enum" in schema:
                validators.append(any_of(schema["enum"]))
            field_class = IntegerField if kinds == {"integer"} else StringField
            widgets[name] = field_class(
                label,
                validators=validators,
                description=description,
                default=schema.get("default"),
                widget=BS3TextFieldWidget(),
            )
        return widgets

    def client_config(self) -> ClientConfig:
        """The connection's client configuration; a connection that cannot work raises
        :class:`~airflow_dashscope.exceptions.DashScopeConnectionError` (the task fails at
        once, naming the connection to edit) on every path, since all build it here."""
        conn: ConnectionLike = self.get_connection(self.dashscope_conn_id)
        return _mask(self._config_of(conn))

    async def aclient_config(self) -> ClientConfig:
        conn: ConnectionLike = await self.aget_connection(self.dashscope_conn_id)
        return await _amask(self._config_of(conn))

    def _config_of(self, conn: ConnectionLike) -> ClientConfig:
        from airflow_dashscope.client.errors import DashScopeConfigError
        from airflow_dashscope.exceptions import connection_error
        from airflow_dashscope.hooks.connection import client_config_from

        try:
            return client_config_from(conn)
        except DashScopeConfigError as error:
            raise connection_error(error, self.dashscope_conn_id) from error

    @cached_property
    def client(self) -> DashScopeClient:
        from airflow_dashscope.client import DashScopeClient

        return DashScopeClient(self.client_config())

    def get_conn(self) -> DashScopeClient:
        return self.client

    async def aget_conn(self) -> AsyncDashScopeClient:
        """The shared async client of this connection's settings (borrowed until ``aclose``)."""
        from airflow_dashscope.hooks.pool import recent_configs, shared_clients

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
            from airflow_dashscope.hooks.pool import shared_clients

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
