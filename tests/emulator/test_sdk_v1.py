"""The official ``dashscope`` SDK (2.0.2), 1.x surface, as an independent client of the emulator.

What the 1.x SDK sends and requires (read from ``dashscope/files.py``,
``dashscope/finetune/{finetunes,deployments,customize_types}.py``,
``dashscope/client/base_api.py`` and ``dashscope/common/utils.py``):

* URL: ``base_address=`` of the call, else the module global ``dashscope.base_http_api_url``,
  joined with the resource path (``join_url``: no trailing slash). Each call opens a new
  ``requests.Session``; no retries.
* Headers on every call: ``Authorization: Bearer <key>`` (the ``api_key=`` argument, else
  ``dashscope.api_key`` / key file), ``Accept: application/json; charset=utf-8``,
  ``user-agent``, ``x-dashscope-sdk-client``, ``x-dashscope-sdk-session-id``, and
  ``X-DashScope-WorkSpace`` only when ``workspace=`` is given. JSON bodies carry
  ``Content-Type: application/json; charset=utf-8``.
* ``Files.upload(path, description=...)``: checks locally that the file is JSON lines, then
  ``POST /files`` multipart with one part named ``files`` (file name = basename, no part
  content type) and, only if a description is given, a form field ``descriptions``.
  **``purpose`` is never sent.** ``Files.list(page, page_size)``: ``GET
  /files?page_no=&page_size=``. ``Files.get``/``Files.delete``: ``GET``/``DELETE
  /files/{id}``. Results are plain ``DashScopeAPIResponse``; the body's ``data`` becomes
  ``.output`` (a body with neither ``data`` nor ``output`` becomes ``.output`` itself).
* ``FineTunes.call(model, training_file_ids, validation_file_ids=None, mode=None,
  hyper_parameters={})``: ``POST /fine-tunes`` with ``{"model", "training_file_ids",
  "validation_file_ids": null|[...], "hyper_parameters": {...}}`` plus ``training_type`` when
  ``mode`` is given: the server must accept ``validation_file_ids: null``.
  ``get``: ``GET /fine-tunes/{id}``; ``list(page_no, page_size)``: ``GET
  /fine-tunes?page_no=&page_size=``; ``cancel``: ``POST /fine-tunes/{id}/cancel`` with no
  body; ``delete``: ``DELETE /fine-tunes/{id}``; ``logs(offset=1, line=1000)``: ``GET
  /fine-tunes/{id}/logs?offset=1&line=1000``; ``stream_events``: ``GET
  /fine-tunes/{id}/stream`` read as server-sent events (``data:`` lines; ``event:error`` and
  ``status:`` lines mark an error) or, if the answer is plain JSON, as one event.
* ``Deployments.call(model, capacity, suffix=, plan=)``: ``POST /deployments`` with
  ``{"model_name", "capacity"}`` plus ``suffix``/``plan``/``model_version``/``template_id``
  when given (no ``name``); ``get``/``delete``: ``GET``/``DELETE /deployments/{id}``;
  ``list(page_no, page_size)``: ``GET /deployments?page_no=&page_size=``; ``scale``: ``PUT
  /deployments/{id}/scale`` with ``{"deployed_model", "capacity"}``.
* Responses: HTTP 200 (or 201) with a JSON body (any content type other than
  ``text/event-stream``); ``request_id`` is lifted out; a top-level ``code``/``message`` is
  copied into the result, so a success must not carry ``code``. The typed wrappers do
  ``X(**output)``: ``FineTune``/``Deployment`` need ``output`` to be an object with the job
  / deployment fields; ``FineTuneList`` needs ``output.{page_no, page_size, total, jobs[]}``,
  ``DeploymentList`` ``output.{page_no, page_size, total, deployments[]}``; the cancel/delete
  results (``FineTuneCancel``, ``FineTuneDelete``, ``DeploymentDelete``) need ``output`` to
  be an object (``{"status": ...}``), never a bare value.
* ``Generation.call(model=, messages=, result_format="message", stream=)`` (used here on a
  deployment): ``POST /services/aigc/text-generation/generation`` with ``{"model", "input":
  {"messages"}, "parameters": {...}}``; streaming adds ``X-DashScope-SSE: enable`` and reads
  ``data:`` frames (``output.choices``, ``usage``); an unknown model is 404 ``ModelNotFound``.
* Errors: a non-200 JSON body ``{code, message, request_id}`` becomes ``status_code``,
  ``code``, ``message``, ``request_id`` of the result (no exception).
"""

from __future__ import annotations

import ipaddress
import json
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import dashscope
import pytest
from dashscope import Deployments, Files, FineTunes

from airflow_dashscope.emulator import run_emulator

try:  # tests/emulator as a package, or as a rootdir-relative directory
    from . import doc_samples as ds
except ImportError:
    import doc_samples as ds  # type: ignore[no-redef]

JOB_SECONDS = 600
DEPLOY_SECONDS = 120
EXPORT_SECONDS = 60
HYPER_PARAMETERS = ds.DOC_CREATE_FINE_TUNE_BODY["hyper_parameters"]
ORIGINAL_BASE_URL = dashscope.base_http_api_url
ORIGINAL_API_KEY = dashscope.api_key
PROXY_VARS = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")


@pytest.fixture(scope="module")
def emu_server() -> Iterator[Any]:
    with run_emulator(
        job_seconds=JOB_SECONDS,
        deploy_seconds=DEPLOY_SECONDS,
        export_seconds=EXPORT_SECONDS,
        manual_clock=True,
    ) as server:
        yield server


@pytest.fixture
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Any]]:
    """Refuse (and record) any socket connection to a non-loopback address."""
    blocked: list[Any] = []
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex

    def check(sock: socket.socket, address: Any) -> None:
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            try:
                loopback = ipaddress.ip_address(address[0]).is_loopback
            except ValueError:
                loopback = False
            if not loopback:
                blocked.append(address)
                raise OSError(f"test guard: non-loopback connection to {address!r} refused")

    def connect(sock: socket.socket, address: Any) -> None:
        check(sock, address)
        return real_connect(sock, address)

    def connect_ex(sock: socket.socket, address: Any) -> int:
        check(sock, address)
        return real_connect_ex(sock, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    for var in PROXY_VARS:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost,::1")
    yield blocked
    assert blocked == [], f"the SDK tried to reach non-loopback hosts: {blocked}"


@pytest.fixture
def emu(emu_server: Any, monkeypatch: pytest.MonkeyPatch, loopback_only: list[Any]) -> Any:
    emu_server.reset()
    assert ipaddress.ip_address(urlsplit(emu_server.base_url).hostname).is_loopback
    # The 1.x SDK reads this module global whenever base_address= is not given; a key the
    # emulator rejects makes sure every call below passes api_key= explicitly.
    monkeypatch.setattr(dashscope, "base_http_api_url", emu_server.base_url)
    monkeypatch.setattr(dashscope, "api_key", "sk-global-key-must-not-be-used")
    return emu_server


@pytest.fixture
def key(emu: Any) -> str:
    return emu.api_key


@pytest.fixture
def train_file(tmp_path: Path) -> Path:
    path = tmp_path / "qwen-fine-tune-sample.jsonl"
    path.write_text("\n".join(json.dumps(line) for line in ds.SFT_LINES) + "\n")
    return path


def ok(response: Any) -> Any:
    assert response.status_code == 200, (
        f"status {response.status_code} code={response.code!r} message={response.message!r}"
    )
    assert response.request_id, response
    assert not response.code, f"a success carried code={response.code!r}: {response}"
    return response


def advance_until(
    emu: Any, fetch: Callable[[], Any], done: Callable[[Any], bool], *, step: float, limit: float
) -> Any:
    value = fetch()
    elapsed = 0.0
    while not done(value):
        assert elapsed < limit, f"not done after advancing the clock {elapsed:.0f} s: {value}"
        emu.advance(step)
        elapsed += step
        value = fetch()
    return value


def job_until(emu: Any, key: str, job_id: str, statuses: set[str]) -> Any:
    return advance_until(
        emu,
        lambda: ok(FineTunes.get(job_id, api_key=key)),
        lambda job: job.output.status in statuses,
        step=JOB_SECONDS / 20,
        limit=JOB_SECONDS * 6,
    )


def upload(key: str, path: Path, base_address: str, description: str | None = None) -> str:
    response = ok(
        Files.upload(str(path), description=description, api_key=key, base_address=base_address)
    )
    assert response.output["failed_uploads"] == []
    (uploaded,) = response.output["uploaded_files"]
    assert uploaded["name"] == path.name
    return uploaded["file_id"]


def create_job(emu: Any, key: str, train_file: Path) -> Any:
    file_id = upload(key, train_file, emu.base_url)
    return ok(
        FineTunes.call(
            model="qwen3-8b",
            training_file_ids=file_id,
            hyper_parameters=HYPER_PARAMETERS,
            mode="sft",
            api_key=key,
        )
    )


# --------------------------------------------------------------------------------------------
# Files
# --------------------------------------------------------------------------------------------


def test_files_upload_list_get_delete(emu: Any, key: str, train_file: Path) -> None:
    base = emu.base_url
    file_id = upload(key, train_file, base, description="a sample fine-tune data file for qwen")
    bare_id = upload(key, train_file, base)  # no descriptions field at all
    assert ds.FILE_ID_RE.match(file_id) and file_id != bare_id

    listed = ok(Files.list(page=1, page_size=10, api_key=key, base_address=base))
    assert listed.output["total"] == 2
    assert {f["file_id"] for f in listed.output["files"]} == {file_id, bare_id}

    info = ok(Files.get(file_id, api_key=key, base_address=base)).output
    assert info["file_id"] == file_id
    assert info["name"] == train_file.name
    assert info["description"] == "a sample fine-tune data file for qwen"
    assert info["size"] == train_file.stat().st_size
    # The single-file answer carries purpose like the list's items (recorded real traffic;
    # the page's get table omits it). The 1.x SDK never sends purpose; the default is fine-tune.
    assert info["purpose"] == "fine-tune"
    assert {f["purpose"] for f in listed.output["files"]} == {"fine-tune"}

    ok(Files.delete(file_id, api_key=key, base_address=base))
    gone = Files.get(file_id, api_key=key, base_address=base)
    assert gone.status_code == 400 and gone.code == "InvalidParameter", gone
    listed = ok(Files.list(api_key=key, base_address=base))
    assert [f["file_id"] for f in listed.output["files"]] == [bare_id]


def test_files_upload_rejects_non_jsonl_locally(emu: Any, key: str, tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text("not json\n")
    with pytest.raises(dashscope.common.error.InvalidFileFormat):
        Files.upload(str(bad), purpose="fine_tune", api_key=key, base_address=emu.base_url)
    assert ok(Files.list(api_key=key, base_address=emu.base_url)).output["total"] == 0


# --------------------------------------------------------------------------------------------
# Fine-tunes
# --------------------------------------------------------------------------------------------


def test_fine_tune_create_get_list_logs(emu: Any, key: str, train_file: Path) -> None:
    created = create_job(emu, key, train_file)
    job = created.output
    assert isinstance(job, dashscope.finetune.customize_types.FineTuneOutput)
    for field in (
        "job_id",
        "job_name",
        "status",
        "model",
        "base_model",
        "training_file_ids",
        "validation_file_ids",
        "hyper_parameters",
        "training_type",
        "create_time",
        "user_identity",
        "modifier",
        "creator",
        "group",
    ):
        assert getattr(job, field, None) is not None, f"FineTuneOutput.{field} is not populated"
    assert ds.JOB_ID_RE.match(job.job_id)
    assert job.status == "PENDING"
    assert job.model == "qwen3-8b" and job.training_type == "sft"
    assert job.validation_file_ids == []
    assert job.hyper_parameters == HYPER_PARAMETERS
    # model-training-api-reference.md: finetuned_output "仅调优任务状态为“SUCCEED”时出现".
    assert getattr(job, "finetuned_output", None) is None

    fetched = ok(FineTunes.get(job.job_id, api_key=key)).output
    assert fetched.job_id == job.job_id
    assert fetched.status in ds.JOB_STATUSES

    listed = ok(FineTunes.list(page_no=1, page_size=10, api_key=key))
    assert isinstance(listed.output, dashscope.finetune.customize_types.FineTuneListOutput)
    assert (listed.output.page_no, listed.output.page_size, listed.output.total) == (1, 10, 1)
    assert [j.job_id for j in listed.output.jobs] == [job.job_id]
    assert isinstance(listed.output.jobs[0], dashscope.finetune.customize_types.FineTuneOutput)

    done = job_until(emu, key, job.job_id, ds.TERMINAL_JOB_STATUSES).output
    assert done.status == "SUCCEEDED"
    assert done.end_time and done.usage
    assert done.finetuned_output == f"qwen3-8b-{job.job_id}"

    logs = ok(FineTunes.logs(job.job_id, api_key=key))  # offset=1, line=1000
    assert isinstance(logs.output["total"], int) and logs.output["total"] > 0
    assert logs.output["logs"] and all(isinstance(line, str) for line in logs.output["logs"])
    # model-training-api-reference.md: offset is the number of lines skipped, so the SDK's
    # default offset=1 starts at the second line.
    assert len(logs.output["logs"]) == logs.output["total"] - 1
    first = ok(FineTunes.logs(job.job_id, offset=0, line=2, api_key=key)).output
    assert len(first["logs"]) == 2 and first["logs"][1] == logs.output["logs"][0]


def test_fine_tune_stream_events(emu: Any, key: str, train_file: Path) -> None:
    job_id = create_job(emu, key, train_file).output.job_id
    job_until(emu, key, job_id, {"SUCCEEDED"})
    events = FineTunes.stream_events(job_id, api_key=key, request_timeout=30)
    try:
        event = next(events)
    finally:
        events.close()
    assert isinstance(event, dashscope.finetune.customize_types.FineTuneEvent)
    assert event.status_code == 200, event
    assert event.output, event


def test_fine_tune_cancel_and_delete(emu: Any, key: str, train_file: Path) -> None:
    job_id = create_job(emu, key, train_file).output.job_id
    job_until(emu, key, job_id, {"RUNNING"})

    in_progress = FineTunes.delete(job_id, api_key=key)
    assert in_progress.status_code == 400 and in_progress.code == "UnsupportedOperation"

    canceled = ok(FineTunes.cancel(job_id, api_key=key))
    assert isinstance(canceled.output, dashscope.finetune.customize_types.CancelDeleteStatus)
    assert canceled.output.status == "success"
    assert job_until(emu, key, job_id, ds.TERMINAL_JOB_STATUSES).output.status == "CANCELED"

    deleted = ok(FineTunes.delete(job_id, api_key=key))
    assert isinstance(deleted.output, dashscope.finetune.customize_types.CancelDeleteStatus)
    assert deleted.output.status == "success"

    missing = FineTunes.get(job_id, api_key=key)
    assert (missing.status_code, missing.code) == (404, "NotFound"), missing
    assert missing.request_id and missing.message
    assert ok(FineTunes.list(api_key=key)).output.total == 0


def test_failed_job_carries_code_and_message(emu: Any, key: str, train_file: Path) -> None:
    job_id = create_job(emu, key, train_file).output.job_id
    job_until(emu, key, job_id, {"RUNNING"})
    emu.fail_job(job_id, "InternalError", "Internal server error!")
    failed = ok(FineTunes.get(job_id, api_key=key))  # the request itself succeeded
    assert failed.output.status == "FAILED"
    assert failed.output.code == "InternalError"
    assert failed.output.message == "Internal server error!"
    assert failed.output.end_time


def test_errors_reach_the_sdk_as_fields(emu: Any) -> None:
    bad_key = FineTunes.list(api_key="sk-not-the-emulators-key")
    assert (bad_key.status_code, bad_key.code) == (401, "InvalidApiKey"), bad_key
    assert bad_key.message == "Invalid API-key provided."
    missing = FineTunes.get("ft-202511272033-8ae7", api_key=emu.api_key)
    assert (missing.status_code, missing.code) == (404, "NotFound"), missing
    # The 1.x SDK does not retry: one injected 500 is what the caller sees.
    emu.inject_fault(kind="error", status=500, count=1, path=r"/fine-tunes$")
    before = emu.counters()["requests_total"]
    failed = FineTunes.list(api_key=emu.api_key)
    assert (failed.status_code, failed.code) == (500, "InternalError"), failed
    assert failed.message == "Internal server error!"
    assert emu.counters()["requests_total"] - before == 1


# --------------------------------------------------------------------------------------------
# Deployments
# --------------------------------------------------------------------------------------------


def test_deployments_deploy_get_list_scale_delete(emu: Any, key: str, train_file: Path) -> None:
    base = emu.base_url
    job_id = create_job(emu, key, train_file).output.job_id
    model = job_until(emu, key, job_id, {"SUCCEEDED"}).output.finetuned_output

    created = ok(
        Deployments.call(model=model, capacity=1, plan="lora", api_key=key, base_address=base)
    )
    deployment = created.output
    assert isinstance(deployment, dashscope.finetune.customize_types.DeploymentOutput)
    for field in (
        "deployed_model",
        "gmt_create",
        "gmt_modified",
        "status",
        "model_name",
        "base_model",
        "workspace_id",
        "charge_type",
        "modifier",
        "creator",
    ):
        assert getattr(deployment, field, None) is not None, f"DeploymentOutput.{field} missing"
    assert deployment.model_name == model
    # model-deployment-quick-start.md: a LoRA create answer has no capacity fields.
    assert deployment.status == "PENDING" and getattr(deployment, "capacity", None) is None
    deployed_model = deployment.deployed_model

    running = advance_until(
        emu,
        lambda: ok(Deployments.get(deployed_model, api_key=key, base_address=base)),
        lambda d: d.output.status == "RUNNING",
        step=DEPLOY_SECONDS / 10,
        limit=DEPLOY_SECONDS * 6,
    )
    assert running.output.deployed_model == deployed_model

    listed = ok(Deployments.list(page_no=1, page_size=10, api_key=key, base_address=base))
    assert isinstance(listed.output, dashscope.finetune.customize_types.DeploymentListOutput)
    assert (listed.output.page_no, listed.output.page_size, listed.output.total) == (1, 10, 1)
    assert [d.deployed_model for d in listed.output.deployments] == [deployed_model]

    scaled = ok(Deployments.scale(deployed_model, capacity=2, api_key=key, base_address=base))
    assert scaled.output.deployed_model == deployed_model
    assert scaled.output.capacity == 2
    advance_until(
        emu,
        lambda: ok(Deployments.get(deployed_model, api_key=key, base_address=base)),
        lambda d: d.output.status == "RUNNING" and d.output.ready_capacity == 2,
        step=DEPLOY_SECONDS / 10,
        limit=DEPLOY_SECONDS * 6,
    )

    deleted = ok(Deployments.delete(deployed_model, api_key=key, base_address=base))
    assert isinstance(deleted.output, dashscope.finetune.customize_types.CancelDeleteStatus)
    assert deleted.output.status == "DELETING"

    missing = Deployments.get("qwen3-8b-ft-209901010000-dead-00000000", api_key=key)
    assert (missing.status_code, missing.code) == (404, "NotFound"), missing


def test_generation_on_a_deployment(emu: Any, key: str, train_file: Path) -> None:
    """``dashscope.Generation`` (1.x) invokes the deployed model, plain and streamed."""
    job_id = create_job(emu, key, train_file).output.job_id
    model = job_until(emu, key, job_id, {"SUCCEEDED"}).output.finetuned_output
    deployment = ok(Deployments.call(model=model, capacity=1, api_key=key))
    deployed_model = deployment.output.deployed_model
    advance_until(
        emu,
        lambda: ok(Deployments.get(deployed_model, api_key=key)),
        lambda d: d.output.status == "RUNNING",
        step=DEPLOY_SECONDS / 10,
        limit=DEPLOY_SECONDS * 6,
    )
    messages = [{"role": "user", "content": "Who are you?"}]

    reply = ok(
        dashscope.Generation.call(
            model=deployed_model, messages=messages, result_format="message", api_key=key
        )
    )
    choice = reply.output.choices[0]
    assert choice.finish_reason == "stop"
    assert choice.message.role == "assistant" and choice.message.content
    assert reply.usage.total_tokens == reply.usage.input_tokens + reply.usage.output_tokens

    chunks = list(
        dashscope.Generation.call(
            model=deployed_model,
            messages=messages,
            result_format="message",
            stream=True,
            incremental_output=True,
            api_key=key,
        )
    )
    assert chunks and all(c.status_code == 200 for c in chunks), chunks
    assert chunks[-1].output.choices[0].finish_reason == "stop"
    streamed = "".join(c.output.choices[0].message.content for c in chunks)
    assert streamed == choice.message.content

    unknown = dashscope.Generation.call(
        model="qwen3-8b-ft-209901010000-dead", messages=messages, api_key=key
    )
    # error-code.md, 400-InvalidParameter: "Model not exist."
    assert (unknown.status_code, unknown.code) == (400, "InvalidParameter"), unknown
    assert unknown.message == "Model not exist."


def test_sdk_globals_are_restored() -> None:
    """Runs without the fixtures: the monkeypatched globals are back to their import values."""
    assert dashscope.base_http_api_url == ORIGINAL_BASE_URL
    assert dashscope.api_key == ORIGINAL_API_KEY
