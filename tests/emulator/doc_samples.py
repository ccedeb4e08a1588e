"""The sample requests and responses of the DashScope documents, as Python data.

Sources (all under ``/work/shared/dashscope-api/``):

* ``fine-tune-with-api.txt``: the curl examples and their "Sample response" blocks.
* ``fine-tune-job-object.txt``: the error response example.
* ``API-NOTES.md``: shapes the two documents do not show a sample for (file objects, lists,
  deployments, invocation). Those are written as *shape templates* (a representative value of
  the right JSON type for each documented field) and are named ``NOTES_*`` so nobody mistakes
  them for the documents' own samples.

The ``DOC_*`` responses are copied verbatim from the documents (JSON ``true`` -> ``True``).
The only edit: the logs sample in the document elides entries with ``...`` lines, which are
not JSON; they are dropped here (see the comment there). The conformance tests compare the
emulator's responses to these samples structurally (keys and JSON types, recursively); they
never compare ids, times or other values that the document only shows as examples.
"""

from __future__ import annotations

import re
from typing import Any

# --------------------------------------------------------------------------------------------
# Documented value formats
# --------------------------------------------------------------------------------------------

#: ``ft-{yyyyMMddHHmm}-{4-digit uuid}`` (fine-tune-job-object.txt, output.job_id).
JOB_ID_RE = re.compile(r"^ft-(\d{12})-([0-9a-f]{4})$")
#: ``"2025-11-27 20:33:15"``: job ``create_time``/``end_time``, file ``gmt_create``.
SPACE_TIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")
#: ``"2025-11-11T16:25:42"``: checkpoint ``create_time``, deployment ``gmt_create``.
T_TIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$")
#: ``"2025-11-20T20:06:46.405"``, ``"2025-06-17T11:00:38.68"``, ``"2025-06-17T11:06:13"``:
#: deployment ``gmt_create``/``gmt_modified`` (vendor-docs-zh/model-deployment-*.md samples).
GMT_TIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?$")
#: ``"checkpoint-20"``.
CHECKPOINT_RE = re.compile(r"^checkpoint-(\d+)$")
#: Both documented file ids (``976bd01a-...``, ``9e9ffdfa-...``) are lowercase UUIDs.
FILE_ID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")

JOB_STATUSES = frozenset(
    {"PENDING", "QUEUING", "RUNNING", "CANCELING", "SUCCEEDED", "FAILED", "CANCELED"}
)
TERMINAL_JOB_STATUSES = frozenset({"SUCCEEDED", "FAILED", "CANCELED"})
CHECKPOINT_STATUSES = frozenset({"PENDING", "PROCESSING", "SUCCEEDED", "FAILED"})
#: model-deployment-api.md lists these six (no DEPLOYING).
DEPLOYMENT_STATUSES = frozenset({"PENDING", "UPDATING", "RUNNING", "STOPPED", "DELETING", "FAILED"})

# --------------------------------------------------------------------------------------------
# fine-tune-with-api.txt: requests
# --------------------------------------------------------------------------------------------

#: Upload: ``--form 'files=@"/path/to/your/file.jsonl"' --form 'purpose="fine-tune"'
#: --form 'descriptions="a sample fine-tune data file for qwen"'``.
DOC_UPLOAD_FORM = {
    "purpose": "fine-tune",
    "descriptions": "a sample fine-tune data file for qwen",
}

#: The create request body, verbatim except the two ``<your_training_file_id_N>``
#: placeholders, which the tests replace with real uploaded file ids.
DOC_CREATE_FINE_TUNE_BODY: dict[str, Any] = {
    "model": "qwen3-8b",
    "training_file_ids": ["<your_training_file_id_1>", "<your_training_file_id_2>"],
    "hyper_parameters": {
        "n_epochs": 3,
        "batch_size": 16,
        "max_length": 8192,
        "learning_rate": "1.6e-5",
        "lr_scheduler_type": "linear",
        "split": 0.9,
        "warmup_ratio": 0.05,
        "eval_steps": 50,
        "data_augmentation": True,
        "augmentation_ratio": "0.1,0.05,0.15",
        "augmentation_types": "dialogue_CN,general_purpose_CN,NLP",
        "save_strategy": "epoch",
        "save_total_limit": 10,
    },
    "training_type": "sft",
}

#: ``/fine-tunes/<job_id>/logs?offset=0&line=1000``.
DOC_LOGS_PARAMS = {"offset": "0", "line": "1000"}

#: "Model token usage" deployment body; ``model_name`` is the document's example fine-tuned
#: model, which the tests replace with the ``finetuned_output`` of a real job.
DOC_DEPLOY_LORA_BODY: dict[str, Any] = {
    "model_name": "qwen3-8b-ft-202511132025-0260",
    "plan": "lora",
    "capacity": 1,
    "name": "qwen3-8b-ft",
}

#: "Model unit usage" deployment body, verbatim (a base model on model units).
DOC_DEPLOY_MU_BODY: dict[str, Any] = {
    "name": "my_qwen_plus",
    "model_name": "qwen-plus-2025-12-01",
    "plan": "mu",
    "deploy_spec": "MU1",
    "enable_thinking": True,
    "capacity": 4,
    "max_context_length": 10000,
    "rpm_limit": 500,
    "tpm_limit": 1000,
}

#: Invocation body; ``model`` is "<Replace with the model instance ID returned after the
#: deployment job succeeds>", replaced by the tests with a real ``deployed_model``.
DOC_INVOKE_BODY: dict[str, Any] = {
    "model": "<Replace with the model instance ID returned after the deployment job succeeds>",
    "input": {"messages": [{"role": "user", "content": "Who are you?"}]},
    "parameters": {"result_format": "message"},
}

# --------------------------------------------------------------------------------------------
# fine-tune-with-api.txt: sample responses (verbatim)
# --------------------------------------------------------------------------------------------

DOC_UPLOAD_RESPONSE: dict[str, Any] = {
    "request_id": "xx",
    "data": {
        "uploaded_files": [
            {
                "file_id": "976bd01a-f30b-4414-86fd-50c54486e3ef",
                "name": "qwen-fine-tune-sample.jsonl",
            }
        ],
        "failed_uploads": [],
    },
}

DOC_CREATE_FINE_TUNE_RESPONSE: dict[str, Any] = {
    "request_id": "635f7047-003e-4be3-b1db-6f98e239f57b",
    "output": {
        "job_id": "ft-202511272033-8ae7",
        "job_name": "ft-202511272033-8ae7",
        "status": "PENDING",
        "finetuned_output": "qwen3-8b-ft-202511272033-8ae7",
        "model": "qwen3-8b",
        "base_model": "qwen3-8b",
        "training_file_ids": ["9e9ffdfa-c3bf-436e-9613-6f053c66aa6e"],
        "validation_file_ids": [],
        "hyper_parameters": {
            "n_epochs": 3,
            "batch_size": 16,
            "max_length": 8192,
            "learning_rate": "1.6e-5",
            "lr_scheduler_type": "linear",
            "split": 0.9,
            "warmup_ratio": 0.05,
            "eval_steps": 50,
            "data_augmentation": True,
            "augmentation_ratio": "0.1,0.05,0.15",
            "augmentation_types": "dialogue_CN,general_purpose_CN,NLP",
            "save_strategy": "epoch",
            "save_total_limit": 10,
        },
        "training_type": "sft",
        "create_time": "2025-11-27 20:33:15",
        "workspace_id": "llm-8v53etv3hwb8orx1",
        "user_identity": "1654290265984853",
        "modifier": "1654290265984853",
        "creator": "1654290265984853",
        "group": "llm",
        "max_output_cnt": 10,
    },
}

DOC_GET_FINE_TUNE_RESPONSE: dict[str, Any] = {
    "request_id": "d100cddb-ac85-4c82-bd5c-9b5421c5e94d",
    "output": {
        "job_id": "ft-202511272033-8ae7",
        "job_name": "ft-202511272033-8ae7",
        "status": "RUNNING",
        "finetuned_output": "qwen3-8b-ft-202511272033-8ae7",
        "model": "qwen3-8b",
        "base_model": "qwen3-8b",
        "training_file_ids": ["9e9ffdfa-c3bf-436e-9613-6f053c66aa6e"],
        "validation_file_ids": [],
        "hyper_parameters": {
            "n_epochs": 3,
            "batch_size": 16,
            "max_length": 8192,
            "learning_rate": "1.6e-5",
            "lr_scheduler_type": "linear",
            "split": 0.9,
            "warmup_ratio": 0.05,
            "eval_steps": 50,
            "data_augmentation": True,
            "augmentation_ratio": "0.1,0.05,0.15",
            "augmentation_types": "dialogue_CN,general_purpose_CN,NLP",
            "save_strategy": "epoch",
            "save_total_limit": 10,
        },
        "training_type": "sft",
        "create_time": "2025-11-27 20:33:15",
        "workspace_id": "llm-8v53etv3hwb8orx1",
        "user_identity": "1654290265984853",
        "modifier": "1654290265984853",
        "creator": "1654290265984853",
        "group": "llm",
        "max_output_cnt": 10,
    },
}

DOC_LOGS_RESPONSE: dict[str, Any] = {
    "request_id": "1100d073-4673-47df-aed8-c35b3108e968",
    "output": {
        "total": 57,
        "logs": [
            "{Log entry 1}",
            "{Log entry 2}",
            # The document continues with three "..." lines (elided entries; not JSON).
        ],
    },
}

DOC_CHECKPOINTS_RESPONSE: dict[str, Any] = {
    "request_id": "c11939b5-efa6-4639-97ae-ed4597984647",
    "output": [
        {
            "create_time": "2025-11-11T16:25:42",
            "full_name": "ft-202511272033-8ae7-checkpoint-20",
            "job_id": "ft-202511272033-8ae7",
            "checkpoint": "checkpoint-20",
            "model_name": "qwen3-8b-instruct-ft-202511272033-8ae7",
            "status": "SUCCEEDED",
        }
    ],
}

DOC_EXPORT_RESPONSE: dict[str, Any] = {
    "request_id": "ed3faa41-6be3-4271-9b83-941b23680537",
    "output": True,
}

# --------------------------------------------------------------------------------------------
# fine-tune-job-object.txt: the error response (verbatim)
# --------------------------------------------------------------------------------------------

DOC_ERROR_RESPONSE: dict[str, Any] = {
    "code": "NotFound",
    "request_id": "BE213CDD-8A5C-59EE-9A67-055EAB0CB59B",
    "message": "Not Found!",
}

# --------------------------------------------------------------------------------------------
# API-NOTES.md: shapes without a sample in the documents (templates, not samples)
# --------------------------------------------------------------------------------------------

#: ``POST /fine-tunes/{id}/cancel`` and ``DELETE /fine-tunes/{id}``.
NOTES_STATUS_SUCCESS_RESPONSE: dict[str, Any] = {"request_id": "x", "output": {"status": "success"}}

#: ``GET /files/{file_id}``.
NOTES_FILE_RESPONSE: dict[str, Any] = {
    "request_id": "x",
    "data": {
        "file_id": "976bd01a-f30b-4414-86fd-50c54486e3ef",
        "name": "qwen-fine-tune-sample.jsonl",
        "description": "a sample fine-tune data file for qwen",
        "purpose": "fine-tune",
        "size": 1,
        "md5": "d41d8cd98f00b204e9800998ecf8427e",
        "gmt_create": "2025-11-27 20:33:15",
    },
}

#: ``GET /files?page_no=&page_size=``; each ``files[]`` item has the shape of
#: ``NOTES_FILE_RESPONSE["data"]``.
NOTES_FILE_LIST_RESPONSE: dict[str, Any] = {
    "request_id": "x",
    "data": {"total": 1, "page_no": 1, "page_size": 10, "files": [NOTES_FILE_RESPONSE["data"]]},
}

# --------------------------------------------------------------------------------------------
# vendor-docs-zh (newer; they win where they disagree with the English documents)
# --------------------------------------------------------------------------------------------

#: model-customization-file-management-service.md, 获取指定文件信息: the response table lists
#: file_id, url, name, size, md5, description, gmt_create, id, region, user_id, api_key_id
#: (no purpose). ``id`` is an integer as in the list sample (``"id": 1001``).
PAGE_FILE_RESPONSE: dict[str, Any] = {
    "request_id": "x",
    "data": {
        "id": 1001,
        "file_id": "976bd01a-f30b-4414-86fd-50c54486e3ef",
        "name": "test.txt",
        "description": "1",
        "size": 0,
        "md5": "1B2M2Y8AsgTpgAmY7PhCfg==",
        "gmt_create": "2023-03-25 10:13:07",
        "url": "http://127.0.0.1/x",
        "region": "cn-beijing",
        "user_id": "123456",
        "api_key_id": "sk-xxxx",
    },
}

#: 列举当前所有的文件: each item is the file object plus ``purpose``.
PAGE_FILE_LIST_RESPONSE: dict[str, Any] = {
    "request_id": "x",
    "data": {
        "total": 1,
        "page_size": 20,
        "page_no": 1,
        "files": [{**PAGE_FILE_RESPONSE["data"], "purpose": "fine-tune"}],
    },
}


def without(sample: dict[str, Any], *keys: str) -> dict[str, Any]:
    """``sample`` minus ``keys``: where a newer page drops a field the English sample has."""
    return {k: v for k, v in sample.items() if k not in keys}


#: ``GET /fine-tunes``; each ``jobs[]`` item has the shape of the job object sample.
NOTES_FINE_TUNE_LIST_RESPONSE: dict[str, Any] = {
    "request_id": "x",
    "output": {
        "page_no": 1,
        "page_size": 10,
        "total": 1,
        "jobs": [DOC_GET_FINE_TUNE_RESPONSE["output"]],
    },
}

#: The deployment object (``POST /deployments``, ``GET /deployments/{id}``, scale, delete).
NOTES_DEPLOYMENT_OBJECT: dict[str, Any] = {
    "deployed_model": "qwen3-8b-ft-202511132025-0260-b6d61c71",
    "gmt_create": "2025-06-17T11:00:38",
    "gmt_modified": "2025-06-17T11:00:38",
    "status": "PENDING",
    "model_name": "qwen3-8b-ft-202511132025-0260",
    "base_model": "qwen3-8b",
    "base_capacity": 1,
    "capacity": 1,
    "ready_capacity": 0,
    "workspace_id": "llm-8v53etv3hwb8orx1",
    "charge_type": "post_paid",
    "creator": "1654290265984853",
    "modifier": "1654290265984853",
    "plan": "lora",
}

NOTES_DEPLOYMENT_RESPONSE: dict[str, Any] = {"request_id": "x", "output": NOTES_DEPLOYMENT_OBJECT}

NOTES_DEPLOYMENT_LIST_RESPONSE: dict[str, Any] = {
    "request_id": "x",
    "output": {"page_no": 1, "page_size": 50, "total": 1, "deployments": [NOTES_DEPLOYMENT_OBJECT]},
}

#: Native generation with ``result_format: "message"``.
NOTES_GENERATION_MESSAGE_RESPONSE: dict[str, Any] = {
    "request_id": "x",
    "output": {
        "choices": [
            {"finish_reason": "stop", "message": {"role": "assistant", "content": "I am ..."}}
        ]
    },
    "usage": {"input_tokens": 1, "output_tokens": 1, "total_tokens": 2},
}

#: 401 for a bad key.
NOTES_INVALID_API_KEY_RESPONSE: dict[str, Any] = {
    "request_id": "x",
    "code": "InvalidApiKey",
    "message": "Invalid API-key provided.",
}

#: The training data line format of the SFT ChatML section ("A single line of training data").
SFT_LINES: tuple[dict[str, Any], ...] = (
    {
        "messages": [
            {"role": "system", "content": "System input 1"},
            {"role": "user", "content": "User input 1"},
            {"role": "assistant", "content": "Expected model output 1"},
            {"role": "user", "content": "User input 2"},
            {"role": "assistant", "content": "Expected model output 2"},
        ]
    },
    {
        "messages": [
            {"role": "user", "content": "Who are you?"},
            {"role": "assistant", "content": "I am a fine-tuned assistant."},
        ]
    },
)
