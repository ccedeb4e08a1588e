"""Call a model (a deployed fine-tune or a base model) once, e.g. as a smoke test."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow_dashscope.operators.base import DashScopeBaseOperator

if TYPE_CHECKING:
    from airflow.sdk import Context


class DashScopeInvokeModelOperator(DashScopeBaseOperator):
    """Send ``messages`` to ``model``; returns ``{"text", "usage", "model", "request_id"}``.

    The call asks for ``result_format="message"`` (the form read here) unless the
    ``parameters`` say otherwise; an answer in the ``text`` form (what some deployed models
    send) is read as well. ``text`` is also the XCom ``text`` (``invoke.output["text"]``).

    :param model: a deployment's ``deployed_model`` (e.g. ``deploy.output["deployed_model"]``)
        or a base model id.
    :param messages: chat messages, ``[{"role": "user", "content": "..."}]``.
    :param parameters: generation parameters (``temperature``, ``max_tokens``...).
    """

    template_fields: Sequence[str] = ("model", "messages", "parameters", "dashscope_conn_id")
    template_fields_renderers = {"messages": "json", "parameters": "json"}

    def __init__(
        self,
        *,
        model: str,
        messages: list[dict[str, Any]],
        parameters: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.model = model
        self.messages = messages
        self.parameters = parameters

    def execute(self, context: Context) -> dict[str, Any]:
        parameters = {"result_format": "message", **(self.parameters or {})}
        result = self.calling(
            f"calling model {self.model}",
            self.client.generate,
            self.model,
            messages=self.messages,
            parameters=parameters,
        )
        usage = result.usage.to_dict() if result.usage else {}
        self.log.info(
            "%s answered (%s tokens): %.200s", self.model, usage.get("total_tokens"), result.text
        )
        self.push(context, text=result.text)
        return {
            "text": result.text,
            "usage": usage,
            "model": self.model,
            "request_id": result.request_id,
        }
