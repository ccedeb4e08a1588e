"""Replays the curl examples of ``fine-tune-with-api.txt`` against the emulator.

Each test sends what the document's curl sends (method, path, query, the
``Authorization: Bearer ...`` and ``Content-Type: application/json`` headers, the body) with
httpx over loopback, then checks the response structurally against the document's sample
response (``doc_samples.DOC_*``: every key present with the same JSON type, recursively) and
checks the values the documents give a format for (job ids, times, checkpoint names).
Endpoints that have no sample response in the documents (file get/list, job list,
cancel/delete, deployments, invocation, 401) are checked against ``API-NOTES.md``
(``doc_samples.NOTES_*``).

The emulator's clock is moved with ``emu.advance(seconds)``; nothing sleeps.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from airflow_dashscope.emulator import run_emulator

try:  # tests/emulator as a package, or as a rootdir-relative directory
    from . import doc_samples as ds
except ImportError:
    import doc_samples as ds  # type: ignore[no-redef]

JOB_SECONDS = 600
DEPLOY_SECONDS = 120
EXPORT_SECONDS = 60
LOOPBACK = {"127.0.0.1", "localhost", "::1"}

# --------------------------------------------------------------------------------------------
# Structural comparison
# --------------------------------------------------------------------------------------------


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    raise TypeError(f"not a JSON value: {value!r}")


def shape_errors(sample: Any, actual: Any, path: str = "$") -> list[str]:
    """Differences between ``actual`` and the keys/JSON types of ``sample``.

    Every key of a sample object must be present in the actual object with the same JSON
    type (an integer is accepted where the sample has a fractional number: both are JSON
    numbers). Every item of an actual array is compared with the sample's first item.
    Extra keys in ``actual`` are allowed.
    """
    expected_type, actual_type = json_type(sample), json_type(actual)
    if expected_type != actual_type and not (
        expected_type == "number" and actual_type == "integer"
    ):
        return [f"{path}: expected {expected_type}, got {actual_type} ({actual!r})"]
    errors: list[str] = []
    if expected_type == "object":
        for key, sample_value in sample.items():
            if key not in actual:
                errors.append(f"{path}.{key}: missing")
            else:
                errors.extend(shape_errors(sample_value, actual[key], f"{path}.{key}"))
    elif expected_type == "array" and sample:
        for index, item in enumerate(actual):
            errors.extend(shape_errors(sample[0], item, f"{path}[{index}]"))
    return errors


def assert_shape(sample: Any, actual: Any) -> None:
    errors = shape_errors(sample, actual)
    assert not errors, (
        "response does not have the documented shape:\n  "
        + "\n  ".join(errors)
        + f"\nresponse body: {json.dumps(actual, ensure_ascii=False)}"
    )


def assert_space_time(value: Any) -> datetime:
    assert isinstance(value, str) and ds.SPACE_TIME_RE.match(value), (
        f"expected a 'YYYY-MM-DD HH:MM:SS' time, got {value!r}"
    )
    return datetime.strptime(value, "%Y-%m-%d %H:%M:%S")


def assert_t_time(value: Any) -> datetime:
    assert isinstance(value, str) and ds.T_TIME_RE.match(value), (
        f"expected a 'YYYY-MM-DDTHH:MM:SS' time, got {value!r}"
    )
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S")


def assert_job_id(value: Any) -> datetime:
    assert isinstance(value, str), value
    match = ds.JOB_ID_RE.match(value)
    assert match, f"job id {value!r} is not ft-{{yyyyMMddHHmm}}-{{4 hex}}"
    return datetime.strptime(match.group(1), "%Y%m%d%H%M")


# --------------------------------------------------------------------------------------------
# The shape checker itself must be able to fail
# --------------------------------------------------------------------------------------------


def test_shape_checker_accepts_the_documents_own_samples() -> None:
    assert shape_errors(ds.DOC_CREATE_FINE_TUNE_RESPONSE, ds.DOC_GET_FINE_TUNE_RESPONSE) == []
    assert shape_errors(ds.DOC_UPLOAD_RESPONSE, ds.DOC_UPLOAD_RESPONSE) == []


def test_shape_checker_reports_missing_keys_and_wrong_types() -> None:
    broken = copy.deepcopy(ds.DOC_CREATE_FINE_TUNE_RESPONSE)
    del broken["output"]["finetuned_output"]
    broken["output"]["hyper_parameters"]["n_epochs"] = "3"
    broken["output"]["training_file_ids"] = [1]
    broken["output"]["max_output_cnt"] = 10.5
    errors = shape_errors(ds.DOC_CREATE_FINE_TUNE_RESPONSE, broken)
    assert sorted(errors) == sorted(
        [
            "$.output.finetuned_output: missing",
            "$.output.hyper_parameters.n_epochs: expected integer, got string ('3')",
            "$.output.training_file_ids[0]: expected string, got integer (1)",
            "$.output.max_output_cnt: expected integer, got number (10.5)",
        ]
    )
    assert shape_errors({"output": True}, {"output": "true"}) == [
        "$.output: expected boolean, got string ('true')"
    ]
    assert shape_errors({"split": 0.9}, {"split": 1}) == []


def test_doc_formats_match_the_documents_examples() -> None:
    out = ds.DOC_CREATE_FINE_TUNE_RESPONSE["output"]
    assert assert_job_id(out["job_id"]) == datetime(2025, 11, 27, 20, 33)
    assert_space_time(out["create_time"])
    checkpoint = ds.DOC_CHECKPOINTS_RESPONSE["output"][0]
    assert_t_time(checkpoint["create_time"])
    assert ds.CHECKPOINT_RE.match(checkpoint["checkpoint"])
    assert ds.FILE_ID_RE.match(ds.DOC_UPLOAD_RESPONSE["data"]["uploaded_files"][0]["file_id"])
    with pytest.raises(AssertionError):
        assert_job_id("ft-20251127203-8ae7")
    with pytest.raises(AssertionError):
        assert_space_time("2025-11-27T20:33:15")


# --------------------------------------------------------------------------------------------
# Fixtures and the curl-equivalent client
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def emu_server() -> Iterator[Any]:
    with run_emulator(
        job_seconds=JOB_SECONDS,
        deploy_seconds=DEPLOY_SECONDS,
        export_seconds=EXPORT_SECONDS,
        manual_clock=True,
    ) as server:
        assert urlsplit(server.base_url).hostname in LOOPBACK, server.base_url
        yield server


@pytest.fixture
def emu(emu_server: Any) -> Any:
    emu_server.reset()
    return emu_server


class Curl:
    """Sends what the document's curl examples send."""

    def __init__(self, emu: Any, api_key: str | None = None) -> None:
        self.base = emu.base_url.rstrip("/")
        self.api_key = emu.api_key if api_key is None else api_key
        # trust_env=False: no proxy from the environment may see loopback traffic.
        self.client = httpx.Client(timeout=30, trust_env=False)

    def close(self) -> None:
        self.client.close()

    def url(self, path: str) -> str:
        url = f"{self.base}{path}"
        assert urlsplit(url).hostname in LOOPBACK, url
        return url

    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"}

    def json_headers(self) -> dict[str, str]:
        return {**self.auth(), "Content-Type": "application/json"}

    def get(self, path: str, params: dict[str, str] | None = None) -> httpx.Response:
        return self.client.get(self.url(path), params=params, headers=self.json_headers())

    def delete(self, path: str) -> httpx.Response:
        return self.client.delete(self.url(path), headers=self.json_headers())

    def post(self, path: str, body: Any = None) -> httpx.Response:
        content = None if body is None else json.dumps(body).encode()
        return self.client.post(self.url(path), content=content, headers=self.json_headers())

    def upload(self, name: str, content: bytes) -> httpx.Response:
        # curl --form 'files=@"/path/to/your/file.jsonl"' --form 'purpose="fine-tune"'
        #      --form 'descriptions="a sample fine-tune data file for qwen"'
        return self.client.post(
            self.url("/files"),
            headers=self.auth(),
            files={"files": (name, content, "application/octet-stream")},
            data=ds.DOC_UPLOAD_FORM,
        )


@pytest.fixture
def curl(emu: Any) -> Iterator[Curl]:
    client = Curl(emu)
    yield client
    client.close()


def ok(response: httpx.Response) -> dict[str, Any]:
    """A documented success: HTTP 200, a JSON object with request_id and no top-level code."""
    request = response.request
    assert response.status_code == 200, (
        f"{request.method} {request.url} -> {response.status_code} {response.text}"
    )
    body = response.json()
    assert isinstance(body, dict), body
    assert isinstance(body.get("request_id"), str) and body["request_id"], body
    assert "code" not in body, f"a success body has a top-level code: {body}"
    return body


def error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """The documented error body: ``{code, request_id, message}`` with a non-2xx status."""
    request = response.request
    assert response.status_code == status, (
        f"{request.method} {request.url} -> {response.status_code} {response.text}, "
        f"expected {status} {code}"
    )
    assert response.headers.get("content-type", "").startswith("application/json"), response.headers
    body = response.json()
    assert_shape(ds.DOC_ERROR_RESPONSE, body)
    assert body["code"] == code, body
    assert body["request_id"] and body["message"], body
    return body


# --------------------------------------------------------------------------------------------
# Scenario helpers
# --------------------------------------------------------------------------------------------

TRAINING_DATA = ("\n".join(json.dumps(line) for line in ds.SFT_LINES) + "\n").encode()


def upload_file(curl: Curl, name: str = "qwen-fine-tune-sample.jsonl") -> str:
    body = ok(curl.upload(name, TRAINING_DATA))
    return body["data"]["uploaded_files"][0]["file_id"]


def doc_create_body(file_ids: list[str]) -> dict[str, Any]:
    body = copy.deepcopy(ds.DOC_CREATE_FINE_TUNE_BODY)
    body["training_file_ids"] = file_ids
    return body


def create_job(curl: Curl) -> dict[str, Any]:
    file_ids = [upload_file(curl, "train-1.jsonl"), upload_file(curl, "train-2.jsonl")]
    return ok(curl.post("/fine-tunes", doc_create_body(file_ids)))["output"]


def advance_until(
    emu: Any,
    fetch: Callable[[], Any],
    done: Callable[[Any], bool],
    *,
    step: float,
    limit: float,
    seen: list[Any] | None = None,
    key: Callable[[Any], Any] = lambda value: value,
) -> Any:
    """Move the emulator's clock by ``step`` until ``done(fetch())``; at most ``limit`` s."""
    value = fetch()
    elapsed = 0.0
    while True:
        if seen is not None:
            seen.append(key(value))
        if done(value):
            return value
        assert elapsed < limit, (
            f"not done after advancing the clock {elapsed:.0f} s; last value: {value}"
        )
        emu.advance(step)
        elapsed += step
        value = fetch()


def job_until(
    emu: Any, curl: Curl, job_id: str, statuses: set[str], seen: list[str] | None = None
) -> dict[str, Any]:
    return advance_until(
        emu,
        lambda: ok(curl.get(f"/fine-tunes/{job_id}"))["output"],
        lambda job: job["status"] in statuses,
        step=JOB_SECONDS / 20,
        limit=JOB_SECONDS * 6,
        seen=seen,
        key=lambda job: job["status"],
    )


def deployment_until(emu: Any, curl: Curl, deployed_model: str, status: str) -> dict[str, Any]:
    seen: list[str] = []
    deployment = advance_until(
        emu,
        lambda: ok(curl.get(f"/deployments/{deployed_model}"))["output"],
        lambda d: d["status"] == status,
        step=DEPLOY_SECONDS / 10,
        limit=DEPLOY_SECONDS * 6,
        seen=seen,
        key=lambda d: d["status"],
    )
    assert set(seen) <= ds.DEPLOYMENT_STATUSES, seen
    return deployment


@pytest.fixture
def succeeded_job(emu: Any, curl: Curl) -> dict[str, Any]:
    job = create_job(curl)
    return job_until(emu, curl, job["job_id"], {"SUCCEEDED"})


# --------------------------------------------------------------------------------------------
# Upload a fine-tuning file
# --------------------------------------------------------------------------------------------


def test_upload_doc_example(curl: Curl) -> None:
    body = ok(curl.upload("qwen-fine-tune-sample.jsonl", TRAINING_DATA))
    assert_shape(ds.DOC_UPLOAD_RESPONSE, body)
    data = body["data"]
    assert data["failed_uploads"] == []
    assert len(data["uploaded_files"]) == 1
    uploaded = data["uploaded_files"][0]
    assert uploaded["name"] == "qwen-fine-tune-sample.jsonl"
    assert ds.FILE_ID_RE.match(uploaded["file_id"]), uploaded


def test_uploaded_file_get_list_delete(curl: Curl) -> None:
    file_id = upload_file(curl)

    # Changed by vendor-docs-zh/model-customization-file-management-service.md: the file
    # object is the page's (id, url, region, user_id, api_key_id) and md5 is the base64 of
    # the digest, not the hex API-NOTES assumed. ``purpose`` is there too: the page's get
    # table omits it, but recorded real traffic of GET /files/{id} shows it.
    body = ok(curl.get(f"/files/{file_id}"))
    assert_shape(ds.PAGE_FILE_RESPONSE, body)
    info = body["data"]
    assert info["file_id"] == file_id
    assert info["name"] == "qwen-fine-tune-sample.jsonl"
    assert info["description"] == ds.DOC_UPLOAD_FORM["descriptions"]
    assert info["purpose"] == "fine-tune"
    assert info["size"] == len(TRAINING_DATA)
    assert info["md5"] == base64.b64encode(hashlib.md5(TRAINING_DATA).digest()).decode()
    assert_space_time(info["gmt_create"])
    assert "status" not in info, "native file objects carry no status field"

    body = ok(curl.get("/files", {"page_no": "1", "page_size": "10"}))
    assert_shape(ds.PAGE_FILE_LIST_RESPONSE, body)
    assert body["data"]["files"][0]["purpose"] == "fine-tune"
    assert body["data"]["total"] == 1
    assert (body["data"]["page_no"], body["data"]["page_size"]) == (1, 10)
    assert [f["file_id"] for f in body["data"]["files"]] == [file_id]

    ok(curl.delete(f"/files/{file_id}"))
    response = curl.get(f"/files/{file_id}")
    # API-NOTES: an unknown file id is 400 InvalidParameter "File not found." [inferred].
    error(response, 400, "InvalidParameter")
    assert ok(curl.get("/files"))["data"]["total"] == 0


# --------------------------------------------------------------------------------------------
# Create / get a fine-tuning job
# --------------------------------------------------------------------------------------------


def test_create_fine_tune_doc_example(curl: Curl) -> None:
    file_ids = [upload_file(curl, "train-1.jsonl"), upload_file(curl, "train-2.jsonl")]
    body = ok(curl.post("/fine-tunes", doc_create_body(file_ids)))
    # Changed by vendor-docs-zh/model-training-api-reference.md: finetuned_output
    # "仅调优任务状态为“SUCCEED”时出现" (only once SUCCEEDED), unlike the English sample.
    output = ds.without(ds.DOC_CREATE_FINE_TUNE_RESPONSE["output"], "finetuned_output")
    assert_shape({**ds.DOC_CREATE_FINE_TUNE_RESPONSE, "output": output}, body)
    job = body["output"]
    assert job["status"] == "PENDING"
    id_minute = assert_job_id(job["job_id"])
    created = assert_space_time(job["create_time"])
    assert id_minute == created.replace(second=0), (
        f"job id {job['job_id']} does not carry the creation minute of {job['create_time']}"
    )
    assert job["job_name"] == job["job_id"]
    assert "finetuned_output" not in job
    assert (job["model"], job["base_model"]) == ("qwen3-8b", "qwen3-8b")
    assert job["training_file_ids"] == file_ids
    assert job["validation_file_ids"] == []
    assert job["hyper_parameters"] == ds.DOC_CREATE_FINE_TUNE_BODY["hyper_parameters"]
    assert job["training_type"] == "sft"
    # end_time / usage: "returned only when the job status is SUCCEEDED, FAILED, or CANCELED".
    assert job.get("end_time") is None, job
    assert job.get("usage") is None, job


def test_get_job_doc_example_through_to_success(emu: Any, curl: Curl) -> None:
    created = create_job(curl)
    job_id = created["job_id"]

    # Changed by vendor-docs-zh/model-training-api-reference.md: no finetuned_output before
    # SUCCEEDED (the English sample is a RUNNING job that has one).
    in_progress = ds.without(ds.DOC_GET_FINE_TUNE_RESPONSE["output"], "finetuned_output")
    body = ok(curl.get(f"/fine-tunes/{job_id}"))
    assert_shape(in_progress, body["output"])
    assert body["output"]["job_id"] == job_id

    seen: list[str] = []
    running = job_until(emu, curl, job_id, {"RUNNING"}, seen)
    assert_shape(in_progress, running)
    assert "finetuned_output" not in running
    for field in ("job_id", "create_time", "hyper_parameters", "model"):
        assert running[field] == created[field], field
    assert running.get("end_time") is None, running

    done = job_until(emu, curl, job_id, ds.TERMINAL_JOB_STATUSES, seen)
    assert set(seen) <= ds.JOB_STATUSES, seen
    assert done["status"] == "SUCCEEDED", done
    assert_shape(ds.DOC_GET_FINE_TUNE_RESPONSE["output"], done)
    assert assert_space_time(done["end_time"]) >= assert_space_time(done["create_time"])
    # output.usage: Integer, "returned only when the job status is SUCCEEDED or CANCELED".
    assert isinstance(done["usage"], int) and not isinstance(done["usage"], bool), done
    assert done["usage"] > 0
    assert done["finetuned_output"] == f"qwen3-8b-{job_id}"


# --------------------------------------------------------------------------------------------
# Logs, checkpoints, export
# --------------------------------------------------------------------------------------------


def test_logs_doc_example(curl: Curl, succeeded_job: dict[str, Any]) -> None:
    job_id = succeeded_job["job_id"]
    body = ok(curl.get(f"/fine-tunes/{job_id}/logs", ds.DOC_LOGS_PARAMS))
    assert_shape(ds.DOC_LOGS_RESPONSE, body)
    total, logs = body["output"]["total"], body["output"]["logs"]
    assert logs, "a finished job has log lines"
    assert len(logs) <= 1000
    assert len(logs) == min(total, 1000), body

    one = ok(curl.get(f"/fine-tunes/{job_id}/logs", {"offset": "0", "line": "1"}))["output"]
    assert one["total"] == total
    assert one["logs"] == logs[:1], "line sets the maximum number of lines returned"

    # Changed by vendor-docs-zh/model-training-api-reference.md: offset is the number of lines
    # skipped ("从第offset+1行开始读取"), so the SDKs' default offset=1 starts at line 2.
    skipped = ok(curl.get(f"/fine-tunes/{job_id}/logs", {"offset": "1", "line": "1000"}))
    assert skipped["output"]["logs"] == logs[1:]
    assert_shape(
        ds.DOC_LOGS_RESPONSE,
        ok(curl.get(f"/fine-tunes/{job_id}/logs", {"offset": "1", "line": "1000"})),
    )


def test_checkpoints_doc_example(curl: Curl, succeeded_job: dict[str, Any]) -> None:
    job_id = succeeded_job["job_id"]
    body = ok(curl.get(f"/fine-tunes/{job_id}/checkpoints"))
    assert_shape(ds.DOC_CHECKPOINTS_RESPONSE, body)
    checkpoints = body["output"]
    assert checkpoints, "an sft job with save_strategy=epoch has checkpoints"
    assert len(checkpoints) <= ds.DOC_CREATE_FINE_TUNE_BODY["hyper_parameters"]["save_total_limit"]
    steps = []
    for checkpoint in checkpoints:
        match = ds.CHECKPOINT_RE.match(checkpoint["checkpoint"])
        assert match, checkpoint
        steps.append(int(match.group(1)))
        assert checkpoint["job_id"] == job_id
        assert checkpoint["full_name"] == f"{job_id}-{checkpoint['checkpoint']}"
        assert_t_time(checkpoint["create_time"])
        assert checkpoint["status"] in ds.CHECKPOINT_STATUSES, checkpoint
        assert checkpoint["model_name"]
    assert steps == sorted(steps, reverse=True), f"not newest step first: {steps}"
    assert len(set(steps)) == len(steps), steps


def test_export_doc_example(emu: Any, curl: Curl, succeeded_job: dict[str, Any]) -> None:
    job_id = succeeded_job["job_id"]
    checkpoints = ok(curl.get(f"/fine-tunes/{job_id}/checkpoints"))["output"]
    assert len(checkpoints) > 1, "n_epochs=3 with save_strategy=epoch saves more than one"
    oldest = checkpoints[-1]
    target = oldest["checkpoint"]
    # "PENDING: A checkpoint is pending publication and must be published using the Model
    # Publishing API before you can perform Model Deployment & Invocation."
    assert oldest["status"] == "PENDING", oldest
    # "Only exported checkpoints can be deployed."
    unexported = {**ds.DOC_DEPLOY_LORA_BODY, "model_name": oldest["model_name"]}
    response = curl.post("/deployments", unexported)
    assert 400 <= response.status_code < 500, (response.status_code, response.text)
    assert_shape(ds.DOC_ERROR_RESPONSE, response.json())

    response = curl.get(
        f"/fine-tunes/{job_id}/export/{target}", {"model_name": "my-exported-qwen3-8b"}
    )
    body = ok(response)
    assert_shape(ds.DOC_EXPORT_RESPONSE, body)
    assert body["output"] is True

    def checkpoint() -> dict[str, Any]:
        items = ok(curl.get(f"/fine-tunes/{job_id}/checkpoints"))["output"]
        (item,) = [c for c in items if c["checkpoint"] == target]
        return item

    seen: list[str] = []
    exported = advance_until(
        emu,
        checkpoint,
        lambda item: item["status"] == "SUCCEEDED",
        step=EXPORT_SECONDS / 10,
        limit=EXPORT_SECONDS * 6,
        seen=seen,
        key=lambda item: item["status"],
    )
    assert set(seen) <= ds.CHECKPOINT_STATUSES, seen
    order = ["PENDING", "PROCESSING", "SUCCEEDED"]
    assert [order.index(s) for s in seen] == sorted(order.index(s) for s in seen), seen
    # model_name: "The custom model ID to assign to the published model."
    assert exported["model_name"] == "my-exported-qwen3-8b", exported

    request = {**ds.DOC_DEPLOY_LORA_BODY, "model_name": exported["model_name"]}
    check_new_deployment(ok(curl.post("/deployments", request)), request)


def test_export_unknown_checkpoint_is_not_found(curl: Curl, succeeded_job: dict[str, Any]) -> None:
    response = curl.get(
        f"/fine-tunes/{succeeded_job['job_id']}/export/checkpoint-999999", {"model_name": "x"}
    )
    assert 400 <= response.status_code < 500, response.text
    assert_shape(ds.DOC_ERROR_RESPONSE, response.json())


# --------------------------------------------------------------------------------------------
# List, cancel, delete
# --------------------------------------------------------------------------------------------


def test_list_doc_example(curl: Curl) -> None:
    first, second = create_job(curl), create_job(curl)
    body = ok(curl.get("/fine-tunes"))
    # PENDING jobs: no finetuned_output (vendor-docs-zh/model-training-api-reference.md).
    pending = ds.without(ds.DOC_GET_FINE_TUNE_RESPONSE["output"], "finetuned_output")
    listed = ds.NOTES_FINE_TUNE_LIST_RESPONSE["output"]
    assert_shape({"request_id": "x", "output": {**listed, "jobs": [pending]}}, body)
    out = body["output"]
    assert (out["page_no"], out["page_size"]) == (1, 10), "documented defaults"
    assert out["total"] == 2
    assert {job["job_id"] for job in out["jobs"]} == {first["job_id"], second["job_id"]}

    page = ok(curl.get("/fine-tunes", {"page_no": "2", "page_size": "1"}))["output"]
    assert (page["page_no"], page["page_size"], page["total"]) == (2, 1, 2)
    assert len(page["jobs"]) == 1


def test_cancel_doc_example(emu: Any, curl: Curl) -> None:
    job_id = create_job(curl)["job_id"]
    job_until(emu, curl, job_id, {"RUNNING"})

    body = ok(curl.post(f"/fine-tunes/{job_id}/cancel"))
    assert_shape(ds.NOTES_STATUS_SUCCESS_RESPONSE, body)
    assert body["output"] == {"status": "success"}

    seen: list[str] = []
    done = job_until(emu, curl, job_id, ds.TERMINAL_JOB_STATUSES, seen)
    assert done["status"] == "CANCELED", seen
    assert set(seen) <= {"RUNNING", "CANCELING", "CANCELED"}, seen
    assert_space_time(done["end_time"])

    # A terminal job cannot be cancelled.
    error(curl.post(f"/fine-tunes/{job_id}/cancel"), 400, "UnsupportedOperation")


def test_delete_doc_example(emu: Any, curl: Curl) -> None:
    job_id = create_job(curl)["job_id"]
    job_until(emu, curl, job_id, {"RUNNING"})
    # "You cannot delete a fine-tuning job that is in progress."
    error(curl.delete(f"/fine-tunes/{job_id}"), 400, "UnsupportedOperation")
    assert ok(curl.get(f"/fine-tunes/{job_id}"))["output"]["status"] == "RUNNING"

    job_until(emu, curl, job_id, {"SUCCEEDED"})
    body = ok(curl.delete(f"/fine-tunes/{job_id}"))
    assert_shape(ds.NOTES_STATUS_SUCCESS_RESPONSE, body)
    assert body["output"] == {"status": "success"}
    error(curl.get(f"/fine-tunes/{job_id}"), 404, "NotFound")
    assert job_id not in {j["job_id"] for j in ok(curl.get("/fine-tunes"))["output"]["jobs"]}


# --------------------------------------------------------------------------------------------
# Deployment, status, invocation
# --------------------------------------------------------------------------------------------


def check_new_deployment(body: dict[str, Any], request: dict[str, Any]) -> dict[str, Any]:
    """Changed by vendor-docs-zh/model-deployment-quick-start.md: a LoRA create answer has
    no capacity fields, and deployment times carry fractional seconds ("20:06:46.405")."""
    sample = ds.NOTES_DEPLOYMENT_OBJECT
    if request["plan"] == "lora":
        sample = ds.without(sample, "base_capacity", "capacity", "ready_capacity")
    assert_shape({"request_id": "x", "output": sample}, body)
    deployment = body["output"]
    assert deployment["status"] == "PENDING"
    assert deployment["deployed_model"]
    assert deployment["model_name"] == request["model_name"]
    assert deployment.get("capacity", request["capacity"]) == request["capacity"]
    assert deployment["plan"] == request["plan"]
    assert ds.GMT_TIME_RE.match(deployment["gmt_create"]), deployment
    assert ds.GMT_TIME_RE.match(deployment["gmt_modified"]), deployment
    return deployment


def test_deploy_lora_status_and_invoke_doc_examples(
    emu: Any, curl: Curl, succeeded_job: dict[str, Any]
) -> None:
    request = {**ds.DOC_DEPLOY_LORA_BODY, "model_name": succeeded_job["finetuned_output"]}
    deployment = check_new_deployment(ok(curl.post("/deployments", request)), request)
    assert deployment["base_model"] == "qwen3-8b"
    deployed_model = deployment["deployed_model"]

    body = ok(curl.get(f"/deployments/{deployed_model}"))
    assert_shape(ds.NOTES_DEPLOYMENT_RESPONSE, body)
    assert body["output"]["deployed_model"] == deployed_model

    running = deployment_until(emu, curl, deployed_model, "RUNNING")
    assert_shape(ds.NOTES_DEPLOYMENT_OBJECT, running)
    assert running["ready_capacity"] == running["capacity"] == 1

    listed = ok(curl.get("/deployments"))
    assert_shape(ds.NOTES_DEPLOYMENT_LIST_RESPONSE, listed)
    assert listed["output"]["page_size"] == 50, "documented default page_size"
    assert [d["deployed_model"] for d in listed["output"]["deployments"]] == [deployed_model]

    invoke = {**ds.DOC_INVOKE_BODY, "model": deployed_model}
    body = ok(curl.post("/services/aigc/text-generation/generation", invoke))
    assert_shape(ds.NOTES_GENERATION_MESSAGE_RESPONSE, body)
    choice = body["output"]["choices"][0]
    assert choice["finish_reason"] == "stop"
    assert choice["message"]["role"] == "assistant"
    assert choice["message"]["content"]
    usage = body["usage"]
    assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"]
    assert usage["input_tokens"] > 0 and usage["output_tokens"] > 0


def test_deploy_mu_doc_example(emu: Any, curl: Curl) -> None:
    request = ds.DOC_DEPLOY_MU_BODY
    deployment = check_new_deployment(ok(curl.post("/deployments", request)), request)
    # model-deployment-api.md: mu objects show "model_unit_spec" (模型单元规格).
    assert deployment["model_unit_spec"] == "MU1", deployment
    running = deployment_until(emu, curl, deployment["deployed_model"], "RUNNING")
    assert running["capacity"] == 4


def test_deploy_unknown_model_is_not_found(curl: Curl) -> None:
    request = {**ds.DOC_DEPLOY_LORA_BODY, "model_name": "qwen3-8b-ft-209901010000-dead"}
    error(curl.post("/deployments", request), 404, "NotFound")


# --------------------------------------------------------------------------------------------
# Errors (fine-tune-job-object.txt, API-NOTES.md)
# --------------------------------------------------------------------------------------------


def test_unknown_job_is_the_documented_not_found_body(curl: Curl) -> None:
    body = error(curl.get("/fine-tunes/ft-202511272033-8ae7"), 404, "NotFound")
    assert set(body) == set(ds.DOC_ERROR_RESPONSE), body


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/fine-tunes"),
        ("GET", "/files"),
        ("GET", "/deployments"),
        ("POST", "/fine-tunes"),
        ("POST", "/services/aigc/text-generation/generation"),
    ],
)
def test_invalid_api_key(emu: Any, method: str, path: str) -> None:
    client = Curl(emu, api_key="sk-not-the-emulators-key")
    try:
        response = client.get(path) if method == "GET" else client.post(path, {"model": "x"})
    finally:
        client.close()
    body = error(response, 401, "InvalidApiKey")
    assert_shape(ds.NOTES_INVALID_API_KEY_RESPONSE, body)
    assert body["message"] == "Invalid API-key provided."


def test_missing_training_files_is_invalid_parameter(curl: Curl) -> None:
    # fine-tune-job-object.txt: 400 InvalidParameter "Missing training files".
    body = doc_create_body([])
    del body["training_file_ids"]
    error(curl.post("/fine-tunes", body), 400, "InvalidParameter")


def test_deploy_twice_without_suffix_is_conflict(curl: Curl, succeeded_job: dict[str, Any]) -> None:
    # fine-tune-job-object.txt: 409 Conflict "Model instance xxxxx already exists, please
    # specify a suffix"; "Specify a unique suffix for the deployment."
    request = {**ds.DOC_DEPLOY_LORA_BODY, "model_name": succeeded_job["finetuned_output"]}
    first = ok(curl.post("/deployments", request))["output"]
    error(curl.post("/deployments", request), 409, "Conflict")
    second = ok(curl.post("/deployments", {**request, "suffix": "v2"}))["output"]
    assert second["deployed_model"] != first["deployed_model"]
    assert "v2" in second["deployed_model"], second


def test_deploy_invalid_capacity_is_invalid_parameter(
    curl: Curl, succeeded_job: dict[str, Any]
) -> None:
    # vendor-docs-zh/model-deployment-api.md: "capacity must be larger than or equal to 0 ...
    # and less than 1000!" (0 is valid now; 1000 is not).
    request = {
        **ds.DOC_DEPLOY_LORA_BODY,
        "model_name": succeeded_job["finetuned_output"],
        "capacity": 1000,
    }
    error(curl.post("/deployments", request), 400, "InvalidParameter")


# --------------------------------------------------------------------------------------------
# Job lifecycle rules stated in the documents
# --------------------------------------------------------------------------------------------


def test_only_one_job_runs_at_a_time(emu: Any, curl: Curl) -> None:
    # "QUEUING: The job is in the queue. Only one fine-tune job can run at a time."
    first, second = create_job(curl)["job_id"], create_job(curl)["job_id"]
    both: list[tuple[str, str]] = []

    def statuses() -> tuple[str, str]:
        a, b = (ok(curl.get(f"/fine-tunes/{j}"))["output"]["status"] for j in (first, second))
        both.append((a, b))
        return a, b

    advance_until(
        emu, statuses, lambda p: p[0] == "RUNNING", step=JOB_SECONDS / 20, limit=JOB_SECONDS
    )
    advance_until(
        emu,
        statuses,
        lambda p: p == ("SUCCEEDED", "SUCCEEDED"),
        step=JOB_SECONDS / 20,
        limit=JOB_SECONDS * 6,
    )
    assert ("RUNNING", "RUNNING") not in both, both
    assert any(p == ("RUNNING", "QUEUING") for p in both), both
    assert any(p == ("SUCCEEDED", "RUNNING") for p in both), both


def test_unsupported_training_type_fails_the_job(emu: Any, curl: Curl) -> None:
    # The support table: Qwen3-8B has no full-parameter CPT ("x"); "If the model for
    # fine-tuning does not support the ... method, the fine-tuning job will fail."
    file_id = upload_file(curl)
    body = {**doc_create_body([file_id]), "training_type": "cpt"}
    body["hyper_parameters"] = {"n_epochs": 1, "batch_size": 16, "max_length": 8192}
    job = ok(curl.post("/fine-tunes", body))["output"]
    done = job_until(emu, curl, job["job_id"], ds.TERMINAL_JOB_STATUSES)
    assert done["status"] == "FAILED", done
    assert isinstance(done.get("code"), str) and done["code"], done
    assert isinstance(done.get("message"), str) and done["message"], done
    assert_space_time(done["end_time"])
    assert done.get("usage") is None, "usage: only when SUCCEEDED or CANCELED"


def test_twenty_jobs_limit_is_throttling(emu: Any, curl: Curl) -> None:
    # "A user can have a maximum of 20 running or succeeded fine-tune jobs": 429 Throttling.
    file_id = upload_file(curl)
    body = doc_create_body([file_id])
    body["hyper_parameters"] = {"n_epochs": 1, "batch_size": 16, "max_length": 8192}
    job_ids = [ok(curl.post("/fine-tunes", body))["output"]["job_id"] for _ in range(20)]
    emu.advance(21 * (JOB_SECONDS * 1.25 + 1))
    listed = ok(curl.get("/fine-tunes", {"page_size": "100"}))["output"]["jobs"]
    assert {j["status"] for j in listed} == {"SUCCEEDED"}, [j["status"] for j in listed]

    error(curl.post("/fine-tunes", body), 429, "Throttling")
    # "Delete models that you no longer need."
    ok(curl.delete(f"/fine-tunes/{job_ids[0]}"))
    ok(curl.post("/fine-tunes", body))


# --------------------------------------------------------------------------------------------
# Invocation variants (API-NOTES.md "Invocation")
# --------------------------------------------------------------------------------------------


@pytest.fixture
def running_deployment(emu: Any, curl: Curl, succeeded_job: dict[str, Any]) -> str:
    request = {**ds.DOC_DEPLOY_LORA_BODY, "model_name": succeeded_job["finetuned_output"]}
    deployed_model: str = ok(curl.post("/deployments", request))["output"]["deployed_model"]
    deployment_until(emu, curl, deployed_model, "RUNNING")
    return deployed_model


def sse_frames(text: str) -> list[dict[str, str]]:
    """Split an SSE body into frames of ``field -> value`` (comment lines kept under ':')."""
    frames = []
    for block in text.replace("\r\n", "\n").split("\n\n"):
        frame: dict[str, str] = {}
        for line in block.split("\n"):
            if line.startswith(":"):
                frame[":"] = line[1:]
            elif ":" in line:
                name, _, value = line.partition(":")
                frame[name] = value
        if frame:
            frames.append(frame)
    return frames


def test_invoke_result_format_text(curl: Curl, running_deployment: str) -> None:
    body = {**ds.DOC_INVOKE_BODY, "model": running_deployment}
    body["parameters"] = {"result_format": "text"}
    out = ok(curl.post("/services/aigc/text-generation/generation", body))
    assert isinstance(out["output"]["text"], str) and out["output"]["text"]
    assert out["output"]["finish_reason"] == "stop"
    assert "choices" not in out["output"], out


@pytest.mark.parametrize(
    "stream_header", [{"X-DashScope-SSE": "enable"}, {"Accept": "text/event-stream"}]
)
def test_invoke_streaming_frames(
    curl: Curl, running_deployment: str, stream_header: dict[str, str]
) -> None:
    body = {**ds.DOC_INVOKE_BODY, "model": running_deployment}
    response = curl.client.post(
        curl.url("/services/aigc/text-generation/generation"),
        content=json.dumps(body).encode(),
        headers={**curl.json_headers(), **stream_header},
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/event-stream"), response.headers
    frames = sse_frames(response.text)
    assert frames, response.text
    for n, frame in enumerate(frames, start=1):
        assert frame.get("id") == str(n), frame
        assert frame.get("event") == "result", frame
        assert frame.get(":") == "HTTP_STATUS/200", frame
        data = json.loads(frame["data"])
        assert_shape(ds.NOTES_GENERATION_MESSAGE_RESPONSE, data)
    assert json.loads(frames[-1]["data"])["output"]["choices"][0]["finish_reason"] == "stop"

    unknown = {**body, "model": "qwen3-8b-ft-209901010000-dead"}
    response = curl.client.post(
        curl.url("/services/aigc/text-generation/generation"),
        content=json.dumps(unknown).encode(),
        headers={**curl.json_headers(), **stream_header},
    )
    frames = sse_frames(response.text)
    assert [f.get("event") for f in frames] == ["error"], response.text
    assert_shape(ds.DOC_ERROR_RESPONSE, json.loads(frames[0]["data"]))
    # vendor-docs-zh/error-code.md, 400-InvalidParameter: "Model not exist."
    assert json.loads(frames[0]["data"])["code"] == "InvalidParameter"


def test_invoke_unknown_model_is_model_not_found(curl: Curl) -> None:
    # Changed by vendor-docs-zh/error-code.md: an unknown model on the native endpoint is
    # 400 InvalidParameter "Model not exist." (was 404 ModelNotFound from API-NOTES).
    body = {**ds.DOC_INVOKE_BODY, "model": "qwen3-8b-ft-209901010000-dead"}
    found = error(
        curl.post("/services/aigc/text-generation/generation", body), 400, "InvalidParameter"
    )
    assert found["message"] == "Model not exist."


def test_openai_compatible_chat_completion(emu: Any, curl: Curl, running_deployment: str) -> None:
    url = f"{emu.compatible_base_url}/chat/completions"
    assert urlsplit(url).hostname in LOOPBACK
    body = {"model": running_deployment, "messages": ds.DOC_INVOKE_BODY["input"]["messages"]}
    response = curl.client.post(url, json=body, headers=curl.json_headers())
    assert response.status_code == 200, response.text
    completion = response.json()
    assert completion["id"].startswith("chatcmpl-"), completion
    assert completion["object"] == "chat.completion"
    choice = completion["choices"][0]
    assert choice["message"]["role"] == "assistant" and choice["message"]["content"]
    assert choice["finish_reason"] == "stop"
    usage = completion["usage"]
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]

    response = curl.client.post(
        url, json={**body, "model": "qwen3-8b-ft-209901010000-dead"}, headers=curl.json_headers()
    )
    assert response.status_code == 404, response.text
    assert set(response.json()["error"]) >= {"message", "type", "param", "code"}, response.text
