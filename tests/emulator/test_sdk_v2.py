"""The official ``dashscope`` SDK (2.0.2), v2 ``dashscope.Client`` surface, against the emulator.

What the v2 client sends and requires (read from ``dashscope/v2/client.py``, ``_config.py``,
``transport/http.py``, ``transport/_retry.py``, ``errors.py``, ``types/common.py`` and
``resources/{files,fine_tunes,deployments,_sse}.py``):

* ``Client(api_key=, base_url=, workspace=, max_retries=, timeout=, config_path=)`` builds one
  ``httpx.Client(base_url=...)``; resource paths are relative (``/files`` ->
  ``{base_url}/files``). With an explicit ``base_url`` nothing else is contacted. Every request
  carries ``Authorization: Bearer <key>``, ``X-DashScope-WorkSpace: <workspace>`` (when
  set), ``User-Agent: dashscope-v2-python/2.0.2`` and ``x-dashscope-sdk-*`` headers. Retries
  (not used here: ``max_retries=0``) on 408/409/429/5xx and transport errors, honouring
  ``retry-after(-ms)`` and ``x-should-retry``.
* Resources: ``client.files`` (``upload(file_path=, purpose=, description=)``, ``list``,
  ``get``, ``delete``), ``client.fine_tunes`` (``create(model=, training_file_ids=,
  validation_file_ids=, mode=, hyper_parameters=, finetuned_model=)``, ``get``, ``list``,
  ``cancel``, ``delete``, ``logs(offset=1, lines=1000)``, ``stream_events``, ``wait``),
  ``client.deployments`` (``create(model=, capacity=, suffix=, plan=, deploy_spec=, ...)``,
  ``get``, ``list``, ``scale(capacity=)``, ``delete``, ``stream_events``).
* Wire: ``POST /files`` multipart, one part ``files`` (basename, the bytes) and a form field
  ``descriptions`` only when a description is given (``purpose`` is only used for the local
  JSON-lines check, never sent); ``GET /files?page_no=&page_size=``; ``GET|DELETE
  /files/{id}``. ``POST /fine-tunes`` JSON ``{"model", "training_file_ids",
  "validation_file_ids": null|[...], "hyper_parameters": {...}}`` + ``training_type`` (mode)
  + ``model_name`` (finetuned_model); ``GET /fine-tunes?page_no=&page_size=``; ``GET|DELETE
  /fine-tunes/{id}``; ``POST /fine-tunes/{id}/cancel`` (no body); ``GET
  /fine-tunes/{id}/logs?offset=&line=`` (singular ``line``); ``GET /fine-tunes/{id}/stream``
  (SSE). ``POST /deployments`` ``{"model_name", "capacity", ...}``; ``GET
  /deployments?page_no=&page_size=``; ``GET|DELETE /deployments/{id}``; ``PUT
  /deployments/{id}/scale`` ``{"deployed_model", "capacity"}``.
* Responses: status >= 400 raises the mapped error (class by ``code``, else by status:
  ``InvalidApiKey`` -> ``AuthenticationError``, 404 -> ``NotFoundError``, 400 ->
  ``BadRequestError``; ``code``/``message``/``request_id`` read from the JSON body). A 2xx body
  with a top-level ``code`` raises too. Files: payload under ``data`` (upload: the first of
  ``uploaded_files``; list: ``{files, total, page_no, page_size}``). Everything else: payload
  under ``output``, which must be an object to be lifted into the pydantic model
  (``flatten_envelope``). ``FineTune`` needs ``training_file_ids``/``validation_file_ids``
  as lists and ``hyper_parameters`` as an object (``null`` fails validation) and accepts
  ``usage`` as an integer or an object; aliases: ``finetuned_output`` ->
  ``finetuned_model``, ``create_time`` -> ``created_at``, ``end_time`` -> ``finished_at``,
  deployment ``model_name`` -> ``model``, ``gmt_create`` -> ``created_at``. A failed get/delete
  of a file arrives as 400 and is re-raised as ``NotFoundError`` only when its message says
  "not found"/"not exist"/"no such file". ``JobStatus`` (cancel/delete) reads
  ``output.status``.
* ``client.chat.completions.create(model=, messages=, stream=)`` with the default ``native``
  protocol goes to the same native generation endpoint (``result_format: message``) and reads
  ``output.choices`` / ``usage``; used here on a RUNNING deployment.
"""

from __future__ import annotations

import ipaddress
import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import dashscope
import pytest
from dashscope.v2 import errors as v2_errors
from dashscope.v2.resources.deployments import Deployment, DeploymentList
from dashscope.v2.resources.files import DeletionStatus, File, FileList
from dashscope.v2.resources.fine_tunes import FineTune, FineTuneEvent, FineTuneList, JobLogs
from dashscope.v2.types.common import JobStatus

from airflow_dashscope.emulator import run_emulator

try:  # tests/emulator as a package, or as a rootdir-relative directory
    from . import doc_samples as ds
except ImportError:
    import doc_samples as ds  # type: ignore[no-redef]

JOB_SECONDS = 600
DEPLOY_SECONDS = 120
EXPORT_SECONDS = 60
HYPER_PARAMETERS = ds.DOC_CREATE_FINE_TUNE_BODY["hyper_parameters"]
#: The workspace of the documents' sample job object.
WORKSPACE = ds.DOC_CREATE_FINE_TUNE_RESPONSE["output"]["workspace_id"]
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
    # Nothing from the environment may redirect or re-key the client.
    for var in ("DASHSCOPE_BASE_URL", "DASHSCOPE_HTTP_BASE_URL", "DASHSCOPE_CONFIG"):
        monkeypatch.delenv(var, raising=False)
    yield blocked
    assert blocked == [], f"the SDK tried to reach non-loopback hosts: {blocked}"


@pytest.fixture
def emu(emu_server: Any, loopback_only: list[Any]) -> Any:
    emu_server.reset()
    assert ipaddress.ip_address(urlsplit(emu_server.base_url).hostname).is_loopback
    return emu_server


def make_client(emu: Any, tmp_path: Path, api_key: str | None = None) -> dashscope.Client:
    return dashscope.Client(
        api_key=emu.api_key if api_key is None else api_key,
        base_url=emu.base_url,
        workspace=WORKSPACE,
        max_retries=0,
        timeout=30,
        config_path=tmp_path / "no-such-config.toml",
    )


@pytest.fixture
def client(emu: Any, tmp_path: Path) -> Iterator[dashscope.Client]:
    with make_client(emu, tmp_path) as c:
        assert c.config.base_url == emu.base_url
        yield c


@pytest.fixture
def train_file(tmp_path: Path) -> Path:
    path = tmp_path / "qwen-fine-tune-sample.jsonl"
    path.write_text("\n".join(json.dumps(line) for line in ds.SFT_LINES) + "\n")
    return path


def check_envelope(model: Any) -> None:
    # Non-2xx answers raise inside the SDK; these resource parsers read response.json() and
    # leave status_code unset (only response_body() fills it in).
    assert model.status_code in (None, 200), model
    assert model.request_id, model
    assert not model.code and not model.is_error, model


def create_job(client: dashscope.Client, train_file: Path) -> FineTune:
    uploaded = client.files.upload(file_path=str(train_file))
    job = client.fine_tunes.create(
        model="qwen3-8b",
        training_file_ids=[uploaded.file_id],
        mode="sft",
        hyper_parameters=HYPER_PARAMETERS,
    )
    check_envelope(job)
    return job


def job_until(emu: Any, client: dashscope.Client, job_id: str, statuses: set[str]) -> FineTune:
    elapsed = 0.0
    job = client.fine_tunes.get(job_id)
    while job.status not in statuses:
        assert elapsed < JOB_SECONDS * 6, f"job still {job.status} after {elapsed:.0f} s"
        emu.advance(JOB_SECONDS / 20)
        elapsed += JOB_SECONDS / 20
        job = client.fine_tunes.get(job_id)
    return job


def deployment_until(
    emu: Any, client: dashscope.Client, deployed_model: str, capacity: int
) -> Deployment:
    elapsed = 0.0
    deployment = client.deployments.get(deployed_model)
    while not (deployment.status == "RUNNING" and deployment.ready_capacity == capacity):
        assert elapsed < DEPLOY_SECONDS * 6, f"deployment still {deployment} after {elapsed} s"
        emu.advance(DEPLOY_SECONDS / 10)
        elapsed += DEPLOY_SECONDS / 10
        deployment = client.deployments.get(deployed_model)
    return deployment


# --------------------------------------------------------------------------------------------
# Files
# --------------------------------------------------------------------------------------------


def test_files_upload_list_get_delete(client: dashscope.Client, train_file: Path) -> None:
    uploaded = client.files.upload(
        file_path=str(train_file), description="a sample fine-tune data file for qwen"
    )
    assert isinstance(uploaded, File)
    check_envelope(uploaded)
    assert ds.FILE_ID_RE.match(uploaded.file_id or ""), uploaded
    assert uploaded.name == train_file.name
    other = client.files.upload(file_path=str(train_file))

    listed = client.files.list(page_no=1, page_size=10)
    assert isinstance(listed, FileList)
    check_envelope(listed)
    assert (listed.page_no, listed.page_size, listed.total_count) == (1, 10, 2)
    assert {f.file_id for f in listed.files} == {uploaded.file_id, other.file_id}

    info = client.files.get(uploaded.file_id)
    check_envelope(info)
    assert info.file_id == uploaded.file_id
    assert info.name == train_file.name
    # The single-file answer carries purpose like the list's items (recorded real traffic;
    # the page's get table omits it).
    assert info.purpose == "fine-tune"
    assert {f.purpose for f in listed.files} == {"fine-tune"}
    assert info.size == train_file.stat().st_size
    assert getattr(info, "description", None) == "a sample fine-tune data file for qwen"

    deleted = client.files.delete(uploaded.file_id)
    assert isinstance(deleted, DeletionStatus)
    check_envelope(deleted)
    assert deleted.deleted is True
    with pytest.raises(v2_errors.NotFoundError) as caught:
        client.files.get(uploaded.file_id)
    assert caught.value.status_code == 400 and caught.value.code == "InvalidParameter"
    assert [f.file_id for f in client.files.list().files] == [other.file_id]


# --------------------------------------------------------------------------------------------
# Fine-tunes
# --------------------------------------------------------------------------------------------


def test_fine_tune_create_get_list_logs_wait(
    emu: Any, client: dashscope.Client, train_file: Path
) -> None:
    job = create_job(client, train_file)
    assert isinstance(job, FineTune)
    assert ds.JOB_ID_RE.match(job.job_id or ""), job
    assert job.job_name == job.job_id
    assert job.status == "PENDING"
    assert (job.model, job.base_model, job.training_type) == ("qwen3-8b", "qwen3-8b", "sft")
    # model-training-api-reference.md: finetuned_output "仅调优任务状态为“SUCCEED”时出现".
    assert job.finetuned_model is None
    assert job.validation_file_ids == []
    assert job.hyper_parameters == HYPER_PARAMETERS
    assert job.created_at and ds.SPACE_TIME_RE.match(job.created_at)
    assert job.user_identity and job.creator and job.modifier and job.group
    assert job.finished_at is None and job.usage is None

    fetched = client.fine_tunes.get(job.job_id)
    check_envelope(fetched)
    assert fetched.job_id == job.job_id

    listed = client.fine_tunes.list(page_no=1, page_size=10)
    assert isinstance(listed, FineTuneList)
    check_envelope(listed)
    assert (listed.page_no, listed.page_size, listed.total_count) == (1, 10, 1)
    assert [j.job_id for j in listed.jobs] == [job.job_id]

    # wait() polls with a sleep seam: here every pause moves the emulator's clock instead.
    pauses: list[float] = []

    def advance(seconds: float) -> None:
        pauses.append(seconds)
        emu.advance(seconds)

    done = client.fine_tunes.wait(
        job.job_id, poll_interval=30, max_interval=120, timeout=120, _sleep=advance
    )
    assert pauses, "the job was not finished before wait()"
    assert done.succeeded and done.status == "SUCCEEDED"
    assert done.finished_at and ds.SPACE_TIME_RE.match(done.finished_at)
    assert done.usage is not None and done.usage.total_tokens > 0
    assert done.finetuned_model == f"qwen3-8b-{job.job_id}"

    logs = client.fine_tunes.logs(job.job_id)
    assert isinstance(logs, JobLogs)
    check_envelope(logs)
    assert logs.job_id == job.job_id and logs.content
    # model-training-api-reference.md: offset = lines skipped; the SDK's default offset=1
    # starts at the second line.
    two = client.fine_tunes.logs(job.job_id, offset=0, lines=2)
    assert len(two.content.split("\n")) == 2, two.content
    assert two.content.split("\n")[1] == logs.content.split("\n")[0]


def test_fine_tune_stream_events(emu: Any, client: dashscope.Client, train_file: Path) -> None:
    job_id = create_job(client, train_file).job_id
    job_until(emu, client, job_id, {"SUCCEEDED"})
    events = client.fine_tunes.stream_events(job_id)
    try:
        event = next(events)
    finally:
        events.close()
    assert isinstance(event, FineTuneEvent)
    assert not event.is_error and event.output, event


def test_fine_tune_cancel_and_delete(emu: Any, client: dashscope.Client, train_file: Path) -> None:
    job_id = create_job(client, train_file).job_id
    job_until(emu, client, job_id, {"RUNNING"})

    with pytest.raises(v2_errors.BadRequestError) as caught:
        client.fine_tunes.delete(job_id)
    assert (caught.value.status_code, caught.value.code) == (400, "UnsupportedOperation")

    canceled = client.fine_tunes.cancel(job_id)
    assert isinstance(canceled, JobStatus)
    check_envelope(canceled)
    assert canceled.status == "success"
    final = job_until(emu, client, job_id, ds.TERMINAL_JOB_STATUSES)
    assert final.status == "CANCELED" and final.finished

    deleted = client.fine_tunes.delete(job_id)
    check_envelope(deleted)
    assert deleted.status == "success"
    with pytest.raises(v2_errors.NotFoundError) as missing:
        client.fine_tunes.get(job_id)
    assert (missing.value.status_code, missing.value.code) == (404, "NotFound")
    assert missing.value.request_id
    assert client.fine_tunes.list().total_count == 0


def test_failed_job_surfaces_its_code(emu: Any, client: dashscope.Client, train_file: Path) -> None:
    job_id = create_job(client, train_file).job_id
    job_until(emu, client, job_id, {"RUNNING"})
    emu.fail_job(job_id, "InternalError", "Internal server error!")

    failed = client.fine_tunes.get(job_id)  # no exception: the HTTP call succeeded
    assert failed.status == "FAILED" and failed.finished
    assert failed.code == "InternalError" and failed.is_error
    assert failed.message == "Internal server error!"

    with pytest.raises(v2_errors.InternalServerError) as caught:
        client.fine_tunes.wait(job_id, timeout=60, _sleep=emu.advance)
    assert caught.value.code == "InternalError"
    assert caught.value.message == "Internal server error!"


def test_invalid_api_key_raises_authentication_error(emu: Any, tmp_path: Path) -> None:
    bad = make_client(emu, tmp_path, api_key="sk-not-the-emulators-key")
    with bad, pytest.raises(v2_errors.AuthenticationError) as caught:
        bad.fine_tunes.list()
    assert (caught.value.status_code, caught.value.code) == (401, "InvalidApiKey")
    assert caught.value.message == "Invalid API-key provided."


def test_retry_after_is_honoured_on_throttling(emu: Any, tmp_path: Path) -> None:
    emu.inject_fault(kind="error", status=429, count=1, path=r"/fine-tunes$", retry_after=0)
    before = emu.counters()["requests_total"]
    with dashscope.Client(
        api_key=emu.api_key,
        base_url=emu.base_url,
        workspace=WORKSPACE,
        max_retries=1,
        timeout=30,
        config_path=tmp_path / "no-such-config.toml",
    ) as retrying:
        listed = retrying.fine_tunes.list()
    check_envelope(listed)
    assert emu.counters()["requests_total"] - before == 2, "one 429, one retry"

    emu.inject_fault(kind="error", status=429, count=1, path=r"/fine-tunes$", retry_after=0)
    with make_client(emu, tmp_path) as once, pytest.raises(v2_errors.RateLimitError) as caught:
        once.fine_tunes.list()
    # error-code.md: "429-Throttling.RateQuota" for a request-rate limit.
    assert (caught.value.status_code, caught.value.code) == (429, "Throttling.RateQuota")


# --------------------------------------------------------------------------------------------
# Deployments
# --------------------------------------------------------------------------------------------


def test_deployments_create_get_list_scale_delete(
    emu: Any, client: dashscope.Client, train_file: Path
) -> None:
    job_id = create_job(client, train_file).job_id
    model = job_until(emu, client, job_id, {"SUCCEEDED"}).finetuned_model
    assert model

    created = client.deployments.create(model=model, capacity=1, plan="lora")
    assert isinstance(created, Deployment)
    check_envelope(created)
    assert created.deployed_model
    assert created.model == model
    assert created.status == "PENDING"
    # model-deployment-quick-start.md: a LoRA create answer has no capacity fields.
    assert created.capacity is None and created.base_capacity is None
    assert created.base_model == "qwen3-8b"
    # model-deployment-api.md samples: "2025-06-17T11:00:38.68" (fractional seconds).
    assert created.created_at and ds.GMT_TIME_RE.match(created.created_at)
    assert created.updated_at and ds.GMT_TIME_RE.match(created.updated_at)
    assert created.workspace_id and created.charge_type and created.creator and created.modifier

    running = deployment_until(emu, client, created.deployed_model, 1)
    check_envelope(running)

    listed = client.deployments.list(page_no=1, page_size=10)
    assert isinstance(listed, DeploymentList)
    check_envelope(listed)
    assert (listed.page_no, listed.page_size, listed.total_count) == (1, 10, 1)
    assert [d.deployed_model for d in listed.deployments] == [created.deployed_model]

    scaled = client.deployments.scale(created.deployed_model, capacity=2)
    check_envelope(scaled)
    assert scaled.deployed_model == created.deployed_model and scaled.capacity == 2
    deployment_until(emu, client, created.deployed_model, 2)

    deleted = client.deployments.delete(created.deployed_model)
    assert isinstance(deleted, JobStatus)
    check_envelope(deleted)
    assert deleted.status == "DELETING"

    with pytest.raises(v2_errors.NotFoundError):
        client.deployments.get("qwen3-8b-ft-209901010000-dead-00000000")


def test_chat_completions_on_a_deployment(
    emu: Any, client: dashscope.Client, train_file: Path
) -> None:
    """``client.chat.completions`` (native protocol) invokes the deployed model."""
    job_id = create_job(client, train_file).job_id
    model = job_until(emu, client, job_id, {"SUCCEEDED"}).finetuned_model
    assert model
    deployed_model = client.deployments.create(model=model, capacity=1).deployed_model
    assert deployed_model
    deployment_until(emu, client, deployed_model, 1)
    messages = [{"role": "user", "content": "Who are you?"}]

    reply = client.chat.completions.create(model=deployed_model, messages=messages)
    check_envelope(reply)
    choice = reply.choices[0]
    assert choice.finish_reason == "stop"
    assert choice.message.role == "assistant" and choice.message.content
    assert reply.usage.total_tokens == reply.usage.input_tokens + reply.usage.output_tokens

    stream = client.chat.completions.create(model=deployed_model, messages=messages, stream=True)
    chunks = list(stream)
    assert chunks and chunks[-1].choices[0].finish_reason == "stop"
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == choice.message.content

    # error-code.md, 400-InvalidParameter: "Model not exist."
    with pytest.raises(v2_errors.BadRequestError) as caught:
        client.chat.completions.create(model="qwen3-8b-ft-209901010000-dead", messages=messages)
    assert (caught.value.code, caught.value.message) == ("InvalidParameter", "Model not exist.")


# --------------------------------------------------------------------------------------------
# AsyncClient: the same wire, through httpx.AsyncClient
# --------------------------------------------------------------------------------------------


async def test_async_client_round_trip(emu: Any, tmp_path: Path, train_file: Path) -> None:
    async with dashscope.AsyncClient(
        api_key=emu.api_key,
        base_url=emu.base_url,
        workspace=WORKSPACE,
        max_retries=0,
        timeout=30,
        config_path=tmp_path / "no-such-config.toml",
    ) as aclient:
        uploaded = await aclient.files.upload(file_path=str(train_file))
        job = await aclient.fine_tunes.create(
            model="qwen3-8b",
            training_file_ids=uploaded.file_id,
            mode="sft",
            hyper_parameters=HYPER_PARAMETERS,
        )
        check_envelope(job)
        fetched = await aclient.fine_tunes.get(job.job_id)
        assert fetched.job_id == job.job_id and fetched.status in ds.JOB_STATUSES
        listed = await aclient.fine_tunes.list()
        assert [j.job_id for j in listed.jobs] == [job.job_id]
        assert (await aclient.files.list()).total_count == 1
