"""The response models read every answer the vendor pages show, and survive field drift.

Each sample below is an answer printed on a page of ``vendor-docs-zh`` (named per test),
trimmed to the fields that matter, or a variation the pages or recorded traffic allow.
"""

from __future__ import annotations

import base64
import hashlib

import pytest

from airflow_dashscope.client.models import (
    TRANSITIONAL_DEPLOYMENT_STATUSES,
    UNSERVICEABLE_DEPLOYMENT_STATUSES,
    ChatCompletion,
    DashScopeFile,
    DeployableModelPage,
    Deployment,
    DeploymentStatus,
    FilePage,
    FineTuneJob,
    GenerationResult,
)


def test_the_file_list_item_of_the_file_page() -> None:
    """model-customization-file-management-service.md, "列举当前所有的文件"."""
    page = FilePage.model_validate(
        {
            "total": 1,
            "page_size": 20,
            "page_no": 1,
            "files": [
                {
                    "id": 1001,
                    "file_id": "9G2EaQtq7p1fw7oRhYXdHTtDFYAMVQSh95432B38CAB211EDB8F952C2E8001733",
                    "name": "test.txt",
                    "description": "1",
                    "size": 0,
                    "md5": "d41d8cd98f00b204e9800998ecf8427e",
                    "gmt_create": "2023-03-25 10:13:07",
                    "url": "http://xxx.oss-cn-hangzhou.aliyuncs.com/test.txt",
                    "region": "cn-hangzhou",
                    "user_id": "123456",
                    "api_key_id": "sk-xxxx",
                    "purpose": "fine-tune",
                }
            ],
        }
    )
    item = page.files[0]
    assert item.id == 1001 and item.region == "cn-hangzhou" and item.purpose == "fine-tune"
    assert item.user_id == "123456" and item.api_key_id == "sk-xxxx" and item.url
    assert item.gmt_create is not None and item.gmt_create.tzinfo is not None
    assert item.md5_digest() == hashlib.md5(b"").digest()


def test_the_file_object_without_purpose_and_a_string_id() -> None:
    """The get answer of the same page has no ``purpose``; its table types ``id`` String."""
    item = DashScopeFile.model_validate(
        {"file_id": "mbSw", "name": "dogs.jpg", "size": 129862, "id": "1002"}
    )
    assert item.purpose is None and item.id == "1002"


@pytest.mark.parametrize("encode", [bytes.hex, lambda d: base64.b64encode(d).decode()])
def test_an_md5_reads_as_hex_or_as_base64_of_the_digest(encode: object) -> None:
    digest = hashlib.md5(b'{"messages": []}\n').digest()
    item = DashScopeFile.model_validate({"file_id": "f", "md5": encode(digest)})  # type: ignore[operator]
    assert item.md5_digest() == digest


def test_an_unreadable_md5_is_none() -> None:
    assert (
        DashScopeFile.model_validate({"file_id": "f", "md5": "not-a-digest"}).md5_digest() is None
    )


def test_a_lora_create_answer_has_no_capacity_and_fractional_seconds() -> None:
    """model-deployment-quick-start.md, the LoRA create answer."""
    deployment = Deployment.model_validate(
        {
            "deployed_model": "qwen3-8b-ft-202511132025-0260",
            "gmt_create": "2025-11-20T20:06:46.405",
            "gmt_modified": "2025-11-20T20:06:46.405",
            "status": "PENDING",
            "model_name": "qwen3-8b-ft-202511132025-0260",
            "base_model": "qwen3-8b",
            "charge_type": "post_paid",
            "plan": "***",
        }
    )
    assert deployment.capacity is None and deployment.ready_capacity is None
    assert deployment.gmt_create is not None and deployment.gmt_create.microsecond == 405000
    assert deployment.plan_name == "***"


def test_an_mu_deployment_carries_its_model_unit_spec() -> None:
    """model-deployment-api.md, the update answer of an ``mu`` deployment."""
    deployment = Deployment.model_validate(
        {
            "deployed_model": "qwen-plus-2025-12-01-b6d61c71",
            "gmt_modified": "2025-06-17T11:42:02.311",
            "status": "UPDATING",
            "plan": "mu",
            "model_unit_spec": "MU1",
            "rpm_limit": 1000,
            "tpm_limit": 200,
        }
    )
    assert deployment.unit_spec == "MU1" and deployment.plan_name == "mu"
    assert deployment.status == DeploymentStatus.UPDATING
    assert deployment.status_name in TRANSITIONAL_DEPLOYMENT_STATUSES


def test_deployment_statuses_follow_the_page_and_unknown_ones_are_kept() -> None:
    """model-deployment-api.md lists PENDING, UPDATING, RUNNING, STOPPED, DELETING, FAILED."""
    assert {s.value for s in DeploymentStatus} == {
        "PENDING",
        "UPDATING",
        "RUNNING",
        "STOPPED",
        "DELETING",
        "FAILED",
    }
    assert {"STOPPED", "FAILED", "DELETING"} == UNSERVICEABLE_DEPLOYMENT_STATUSES
    drifted = Deployment.model_validate({"deployed_model": "m", "status": "DEPLOYING"})
    assert drifted.status == "DEPLOYING" and drifted.status_name == "DEPLOYING"


def test_a_canceled_job_carries_code_one_and_usage_zero() -> None:
    """model-training-api-reference.md, the list sample's CANCELED job."""
    job = FineTuneJob.model_validate(
        {
            "job_id": "ft-202410291512-1851",
            "job_name": "ft-202410291512-1851",
            "status": "CANCELED",
            "model": "qwen3-14b",
            "code": "1",
            "end_time": "2024-10-29 15:16:00",
            "usage": 0,
        }
    )
    assert job.code == "1" and job.usage_tokens == 0 and job.finetuned_output is None
    assert FineTuneJob.model_validate({"job_id": "j", "status": "CANCELED", "code": 1}).code == "1"


def test_finetuned_output_is_absent_until_the_job_succeeded() -> None:
    """The create answer has no ``finetuned_output``; the SUCCEEDED job has it."""
    pending = FineTuneJob.model_validate({"job_id": "j", "status": "PENDING"})
    done = FineTuneJob.model_validate(
        {
            "job_id": "j",
            "status": "SUCCEEDED",
            "finetuned_output": "qwen3-14b-suffix-ft-202410291653-1c7f",
        }
    )
    assert pending.finetuned_output is None
    assert done.finetuned_output == "qwen3-14b-suffix-ft-202410291653-1c7f"


def test_the_text_result_form_of_the_deployment_quick_start() -> None:
    """model-deployment-quick-start.md: a deployed model answers in the ``text`` form."""
    result = GenerationResult.model_validate(
        {
            "output": {"text": "我是Qwen", "finish_reason": "stop", "choices": None},
            "usage": {"input_tokens": 11, "output_tokens": 63, "total_tokens": 74},
        }
    )
    assert result.text == "我是Qwen" and result.finish_reason == "stop"
    assert result.result_format == "text" and result.output.choices == []


def test_the_message_result_form() -> None:
    result = GenerationResult.model_validate(
        {
            "output": {
                "choices": [
                    {"finish_reason": "stop", "message": {"role": "assistant", "content": "hi"}}
                ]
            }
        }
    )
    assert result.text == "hi" and result.finish_reason == "stop"
    assert result.result_format == "message"


def test_a_compatible_stream_chunk_with_null_usage_and_fingerprint() -> None:
    chunk = ChatCompletion.model_validate(
        {
            "id": "chatcmpl-1",
            "object": "chat.completion.chunk",
            "created": 1,
            "model": "qwen-plus",
            "system_fingerprint": None,
            "usage": None,
            "choices": [{"index": 0, "delta": {"content": ""}, "finish_reason": None}],
        }
    )
    assert chunk.usage is None and chunk.system_fingerprint is None and chunk.text == ""
    delta = chunk.model_copy(
        update={"choices": [chunk.choices[0].model_copy(update={"delta": {"content": "Hel"}})]}
    )
    assert delta.text == "Hel"


def test_the_deployable_models_page() -> None:
    """model-deployment-api.md, "获取可以部署的模型列表"."""
    page = DeployableModelPage.model_validate(
        {
            "models": [
                {"model_name": "emo", "base_capacity": 1},
                {"model_name": "qwen-plus-ft-20230703-cx7f", "base_capacity": 8},
            ],
            "page_no": 1,
            "page_size": 50,
            "total": 2,
        }
    )
    assert [m.model_name for m in page.models] == ["emo", "qwen-plus-ft-20230703-cx7f"]
    assert page.models[1].base_capacity == 8
