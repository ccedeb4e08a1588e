"""Provider metadata for Airflow (the ``apache_airflow_provider`` entry point).

Plain data, no imports of the provider's code: Airflow reads it at start-up and the API
server draws the connection form from ``conn-fields`` and ``ui-field-behaviour``.
"""

from __future__ import annotations

from typing import Any


def get_provider_info() -> dict[str, Any]:
    return {
        "package-name": "airflow-provider-dashscope",
        "name": "DashScope",
        "description": "Alibaba Cloud Model Studio (DashScope) fine-tuning, deployment and "
        "invocation of Qwen models.",
        "versions": ["0.1.0"],
        "integrations": [
            {
                "integration-name": "DashScope",
                "external-doc-url": "https://help.aliyun.com/zh/model-studio/",
                "tags": ["ai"],
            }
        ],
        "hooks": [
            {
                "integration-name": "DashScope",
                "python-modules": ["airflow_dashscope.hooks.dashscope"],
            }
        ],
        "operators": [
            {
                "integration-name": "DashScope",
                "python-modules": [
                    "airflow_dashscope.operators.files",
                    "airflow_dashscope.operators.fine_tune",
                    "airflow_dashscope.operators.checkpoints",
                    "airflow_dashscope.operators.deployments",
                    "airflow_dashscope.operators.invoke",
                    "airflow_dashscope.operators.cleanup",
                ],
            }
        ],
        "sensors": [
            {
                "integration-name": "DashScope",
                "python-modules": [
                    "airflow_dashscope.sensors.fine_tune",
                    "airflow_dashscope.sensors.checkpoint",
                    "airflow_dashscope.sensors.deployment",
                ],
            }
        ],
        "triggers": [
            {
                "integration-name": "DashScope",
                "python-modules": [
                    "airflow_dashscope.triggers.fine_tune",
                    "airflow_dashscope.triggers.checkpoint",
                    "airflow_dashscope.triggers.deployment",
                ],
            }
        ],
        "extra-links": [
            "airflow_dashscope.links.DashScopeFineTuneJobLink",
            "airflow_dashscope.links.DashScopeDeploymentLink",
        ],
        "plugins": [
            {"name": "dashscope", "plugin-class": "airflow_dashscope.ui.plugin.DashScopePlugin"}
        ],
        "asset-uris": [
            {
                "schemes": ["dashscope"],
                "handler": "airflow_dashscope.assets.sanitize_uri",
                "factory": "airflow_dashscope.assets.create_asset",
            }
        ],
        "connection-types": [
            {
                "hook-class-name": "airflow_dashscope.hooks.dashscope.DashScopeHook",
                "hook-name": "DashScope",
                "connection-type": "dashscope",
                "ui-field-behaviour": {
                    "hidden-fields": ["schema", "port", "login"],
                    "relabeling": {"host": "Base URL", "password": "API key"},
                    "placeholders": {
                        "host": "https://dashscope.aliyuncs.com/api/v1 (empty: by region)",
                        "password": "sk-... (empty: DASHSCOPE_API_KEY)",
                        "workspace": "llm-xxxxxxxxxxxx",
                        "region": "cn-beijing",
                    },
                },
                "conn-fields": {
                    "workspace": {
                        "label": "Workspace ID",
                        "description": "Sent as X-DashScope-WorkSpace; empty for the default.",
                        "schema": {"type": ["string", "null"]},
                    },
                    "region": {
                        "label": "Region",
                        "description": "cn-beijing (default) or ap-southeast-1 (international)"
                        "; ignored when a base URL is set.",
                        "schema": {
                            "type": ["string", "null"],
                            "enum": ["cn-beijing", "ap-southeast-1", None],
                        },
                    },
                    "timeout": {
                        "label": "Timeout (seconds)",
                        "schema": {"type": ["number", "null"], "default": 60},
                    },
                    "max_retries": {
                        "label": "Max retries",
                        "description": "Retries on 429/5xx and connection errors.",
                        "schema": {"type": ["integer", "null"], "default": 4},
                    },
                    "allow_insecure_http": {
                        "label": "Allow plain http to a non-loopback host",
                        "schema": {"type": ["boolean", "null"], "default": False},
                    },
                },
            }
        ],
    }
