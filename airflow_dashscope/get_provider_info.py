"""Provider metadata for Airflow (the ``apache_airflow_provider`` entry point).

Plain data, no imports of the provider's code but its version: Airflow reads it at start-up.
The API server draws the connection form from ``conn-fields`` and ``ui-field-behaviour``
(Airflow >= 3.2); on 3.1 the hook builds the same form from this same data, so the two
lines cannot drift apart. ``config`` declares the ``[dashscope]`` section
(``airflow config list`` shows it; ``airflow_dashscope.hooks.defaults`` reads it).

Placeholders reach only the standard fields (host, password); the extra fields carry their
example in their description, which both form generations show.
"""

from __future__ import annotations

import copy
from typing import Any

from airflow_dashscope import __version__

#: The connection form's extra fields (conn-fields): read by Airflow >= 3.2 directly and by
#: ``DashScopeHook.get_connection_form_widgets`` on 3.1.
CONN_FIELDS: dict[str, dict[str, Any]] = {
    "workspace": {
        "label": "Workspace ID",
        "description": "Sent as X-DashScope-WorkSpace, e.g. llm-xxxxxxxxxxxx; "
        "empty: the account's default workspace.",
        "schema": {"type": ["string", "null"]},
    },
    "region": {
        "label": "Region",
        "description": "cn-beijing (China, the default), ap-southeast-1 (Singapore, "
        "international) or us-east-1 (Virginia); empty: [dashscope] region. Ignored when a "
        "base URL is set.",
        # No null in the enum: the form would list a literal "null" choice. Empty (null) is
        # still allowed by the type and is what the clear button sets.
        "schema": {
            "type": ["string", "null"],
            "enum": ["cn-beijing", "ap-southeast-1", "us-east-1"],
            "values_display": {
                "cn-beijing": "cn-beijing (China, Beijing)",
                "ap-southeast-1": "ap-southeast-1 (Singapore, international)",
                "us-east-1": "us-east-1 (US, Virginia)",
            },
        },
    },
    "timeout": {
        "label": "Timeout (seconds)",
        "description": "Per-request timeout in seconds, e.g. 60 or 2.5; empty: 60.",
        "schema": {"type": ["number", "null"], "exclusiveMinimum": 0},
    },
    "max_retries": {
        "label": "Max retries",
        "description": "Retries on 429/5xx and connection errors, e.g. 4; 0 disables them; "
        "empty: 4.",
        "schema": {"type": ["integer", "null"], "minimum": 0},
    },
    "max_connections": {
        "label": "Max connections",
        "description": "Sockets of the pool that a triggerer's DashScope triggers share, "
        "e.g. 16; empty: 16.",
        "schema": {"type": ["integer", "null"], "minimum": 1},
    },
    "allow_insecure_http": {
        "label": "Allow plain http to a non-loopback host",
        "description": "Off: an http:// base URL is refused unless it is loopback (the key "
        "would travel in clear).",
        "schema": {"type": ["boolean", "null"], "default": False},
    },
}

#: The standard fields of the connection form (kebab-case, as in provider.yaml).
UI_FIELD_BEHAVIOUR: dict[str, Any] = {
    "hidden-fields": ["schema", "port", "login"],
    "relabeling": {"host": "Base URL", "password": "API key"},
    "placeholders": {
        "host": "https://dashscope.aliyuncs.com/api/v1 (empty: by region)",
        "password": "sk-... (empty: DASHSCOPE_API_KEY)",
    },
}


def _option(description: str, type_: str, default: str | None, example: str | None) -> dict:
    return {
        "description": description,
        "version_added": "0.1.0",
        "type": type_,
        "example": example,
        "default": default,
    }


#: ``[dashscope]``: deployment-wide defaults (``airflow_dashscope.hooks.defaults`` reads them).
CONFIG: dict[str, Any] = {
    "dashscope": {
        "description": "Defaults of the DashScope (Alibaba Cloud Model Studio) provider for "
        "the whole deployment; a connection's extras and an operator's arguments win.",
        "options": {
            "region": _option(
                "Region of dashscope connections that set neither a base URL nor a region "
                "extra: cn-beijing or ap-southeast-1.",
                "string",
                "cn-beijing",
                "ap-southeast-1",
            ),
            "default_poll_interval": _option(
                "Seconds between two status checks of a waiting DashScope operator, sensor "
                "or trigger, unless the task sets poll_interval.",
                "float",
                "30",
                "60",
            ),
            "default_deferrable": _option(
                "Whether DashScope operators wait in the triggerer unless the task sets "
                "deferrable; empty: follow [operators] default_deferrable.",
                "boolean",
                "",
                "True",
            ),
            "training_prices": _option(
                "Training prices in yuan per 1,000 tokens, a JSON object by model id, that "
                "override or extend the billing page's table for cost estimates and budgets "
                "(max_cost); empty: the page's prices.",
                "string",
                "",
                '{"qwen3-8b": 0.006}',
            ),
            # The pages' figures (checks.quotas.AccountLimits holds the same defaults).
            "max_fine_tune_jobs": _option(
                "Fine-tune jobs the account may have running or succeeded at once (the "
                "service's limit; error-code.md: 20). A DashScope fine-tune task that would "
                "create one more fails before calling the service; raise it only if Alibaba "
                "Cloud raised the account's limit.",
                "integer",
                "20",
                "50",
            ),
            "max_files": _option(
                "Uploaded files the account may keep (model-customization-file-management-"
                "service.md: 100). An upload that would exceed it fails before sending the file.",
                "integer",
                "100",
                "10000",
            ),
            "max_file_storage_bytes": _option(
                "Total bytes of the files the account may keep (the same page: 5 GB). An "
                "upload that would exceed it fails before sending the file.",
                "integer",
                str(5 * 1024**3),
                str(100 * 1024**3),
            ),
        },
    }
}


def get_provider_info() -> dict[str, Any]:
    return copy.deepcopy(_PROVIDER_INFO)


_PROVIDER_INFO: dict[str, Any] = {
    "package-name": "airflow-provider-dashscope",
    "name": "DashScope",
    "description": "Alibaba Cloud Model Studio (DashScope) fine-tuning, deployment and "
    "invocation of Qwen models.",
    "versions": [__version__],
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
                "airflow_dashscope.operators.retention",
                "airflow_dashscope.operators.sweep_preflight",
                "airflow_dashscope.operators.sweep",
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
        "airflow_dashscope.links.console.DashScopeFineTuneJobLink",
        "airflow_dashscope.links.console.DashScopeExportedModelLink",
        "airflow_dashscope.links.console.DashScopeDeploymentLink",
        "airflow_dashscope.links.results.DashScopeEvaluationLink",
        "airflow_dashscope.links.results.DashScopeSweepLink",
    ],
    "config": CONFIG,
    "plugins": [
        {"name": "dashscope", "plugin-class": "airflow_dashscope.plugins.plugin.DashScopePlugin"}
    ],
    "asset-uris": [
        {
            "schemes": ["dashscope"],
            "handler": "airflow_dashscope.lineage.assets.sanitize_uri",
            "factory": "airflow_dashscope.lineage.assets.create_asset",
            "to_openlineage_converter": (
                "airflow_dashscope.lineage.openlineage.asset_to_openlineage"
            ),
        }
    ],
    "connection-types": [
        {
            "hook-class-name": "airflow_dashscope.hooks.dashscope.DashScopeHook",
            "hook-name": "DashScope",
            "connection-type": "dashscope",
            "ui-field-behaviour": UI_FIELD_BEHAVIOUR,
            "conn-fields": CONN_FIELDS,
        }
    ],
}
