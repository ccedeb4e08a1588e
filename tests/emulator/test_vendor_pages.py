"""Conformance of the emulator to the 2026 vendor pages (``vendor-docs-zh/``), issue 12.

Each test names the page it follows and quotes a short phrase of it. Everything goes over
real HTTP to an emulator on loopback with a manual clock; nothing sleeps to wait for a state.
"""

# ruff: noqa: RUF002, RUF003  (quotes the vendor's Chinese pages)

from __future__ import annotations

import base64
import hashlib
import json
import socket
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from airflow_dashscope.emulator import RunningEmulator, run_emulator
from airflow_dashscope.emulator.clock import gmt_time
from airflow_dashscope.emulator.runner import _bind

LINE = (
    b'{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}]}\n'
)
GEN = "/services/aigc/text-generation/generation"


@pytest.fixture(scope="module")
def server() -> Iterator[RunningEmulator]:
    with run_emulator(manual_clock=True, workspaces=("llm-second",)) as running:
        yield running


def error(r: httpx.Response, status: int, code: str) -> str:
    assert r.status_code == status, r.text
    assert r.json()["code"] == code, r.text
    return str(r.json()["message"])


def upload(client: httpx.Client, content: bytes = LINE * 20) -> str:
    r = client.post("/files", files=[("files", ("a.jsonl", content))])
    return str(r.json()["data"]["uploaded_files"][0]["file_id"])


def create(client: httpx.Client, **body: Any) -> httpx.Response:
    body.setdefault("model", "qwen3-8b")
    body.setdefault("training_file_ids", [upload(client)])
    return client.post("/fine-tunes", json=body)


def succeeded(emu: RunningEmulator, client: httpx.Client, **body: Any) -> dict[str, Any]:
    job_id = create(client, **body).json()["output"]["job_id"]
    emu.advance(10)
    job: dict[str, Any] = client.get(f"/fine-tunes/{job_id}").json()["output"]
    assert job["status"] == "SUCCEEDED", job
    return job


def deploy(client: httpx.Client, **body: Any) -> httpx.Response:
    return client.post("/deployments", json=body)


# ------------------------------------------------------------------------------ logs
def test_logs_offset_skips_lines_line_defaults_to_100_capped_at_1000(
    emu: RunningEmulator, client: httpx.Client
) -> None:
    """model-training-api-reference.md: "忽略前offset行输出，从第offset+1行开始读取 ... 默认值为0";
    line "默认值为100，上限为1000"; past the end "超过则不会有输出信息返回"."""
    hyper = {"n_epochs": 1, "batch_size": 1, "logging_steps": 1}
    files = [upload(client, LINE * 1200)]
    job_id = succeeded(emu, client, training_file_ids=files, hyper_parameters=hyper)["job_id"]
    logs = f"/fine-tunes/{job_id}/logs"
    everything = client.get(logs, params={"line": 1000}).json()["output"]
    total = everything["total"]
    assert total > 1000 and len(everything["logs"]) == 1000
    default = client.get(logs).json()["output"]
    assert default["logs"] == everything["logs"][:100]
    capped = client.get(logs, params={"offset": 0, "line": 5000}).json()["output"]
    assert len(capped["logs"]) == 1000
    third = client.get(logs, params={"offset": 2, "line": 1}).json()["output"]
    assert third["logs"] == [everything["logs"][2]]
    past = client.get(logs, params={"offset": total, "line": 10}).json()["output"]
    assert past == {"total": total, "logs": []}
    error(client.get(logs, params={"offset": -1}), 400, "InvalidParameter")


def test_logs_followed_by_offset_lose_and_repeat_nothing(
    emu: RunningEmulator, client: httpx.Client
) -> None:
    """Reading new lines with offset = lines already read, while the job runs."""
    job_id = create(client, hyper_parameters={"n_epochs": 2, "batch_size": 1}).json()["output"][
        "job_id"
    ]
    read: list[str] = []
    for _ in range(14):
        page = client.get(f"/fine-tunes/{job_id}/logs", params={"offset": len(read)})
        read += page.json()["output"]["logs"]
        emu.advance(0.4)
    final = client.get(f"/fine-tunes/{job_id}/logs", params={"offset": len(read)})
    read += final.json()["output"]["logs"]
    everything = client.get(f"/fine-tunes/{job_id}/logs", params={"line": 1000}).json()["output"]
    assert read == everything["logs"] and len(read) == everything["total"]


# ------------------------------------------------------------------------------ jobs
def test_finetuned_output_only_once_succeeded_and_with_suffix(
    emu: RunningEmulator, client: httpx.Client
) -> None:
    """model-training-api-reference.md: finetuned_output "仅调优任务状态为“SUCCEED”时出现"; the
    request accepts "finetuned_output_suffix":"suffix" and the sample output is
    "qwen3-14b-suffix-ft-202410291653-1c7f"."""
    created = create(client, finetuned_output_suffix="suffix").json()["output"]
    assert "finetuned_output" not in created
    emu.advance(2)
    running = client.get(f"/fine-tunes/{created['job_id']}").json()["output"]
    assert running["status"] == "RUNNING" and "finetuned_output" not in running
    emu.advance(10)
    done = client.get(f"/fine-tunes/{created['job_id']}").json()["output"]
    assert done["finetuned_output"] == f"qwen3-8b-suffix-{created['job_id']}"
    # fine-tuning-api-guide.md: "finetuned_output 输出的是最后一个 checkpoint 的 model_name".
    checkpoints = client.get(f"/fine-tunes/{created['job_id']}/checkpoints").json()["output"]
    assert checkpoints[0]["model_name"] == done["finetuned_output"]


def test_canceled_job_carries_code_1_and_usage_0(
    emu: RunningEmulator, client: httpx.Client
) -> None:
    """model-training-api-reference.md, the list sample's CANCELED job:
    "code": "1" ... "usage": 0."""
    job_id = create(client).json()["output"]["job_id"]
    emu.advance(2)
    client.post(f"/fine-tunes/{job_id}/cancel")
    emu.advance(2)
    job = client.get(f"/fine-tunes/{job_id}").json()["output"]
    assert (job["status"], job["code"], job["usage"]) == ("CANCELED", "1", 0)
    assert "message" not in job and "finetuned_output" not in job


def test_unknown_create_fields_are_rejected(client: httpx.Client) -> None:
    """model-training-api-reference.md lists the create fields; finetuned_output is an answer
    field only ("仅调优任务状态为“SUCCEED”时出现"), so sending it is an error."""
    msg = error(create(client, finetuned_output="mine"), 400, "InvalidParameter")
    assert "finetuned_output" in msg
    assert create(client, job_name="j", model_name="m", validation_file_ids=[]).status_code == 200


def test_list_filters_by_model(emu: RunningEmulator, client: httpx.Client) -> None:
    """model-training-api-reference.md: model "指定该参数表示只列举基于该模型的调优任务"."""
    first = succeeded(emu, client)
    second = create(client, model=first["finetuned_output"]).json()["output"]
    other = create(client, model="qwen3-14b").json()["output"]
    by_base = client.get("/fine-tunes", params={"model": "qwen3-8b"}).json()["output"]
    assert {j["job_id"] for j in by_base["jobs"]} == {first["job_id"], second["job_id"]}
    by_tuned = client.get("/fine-tunes", params={"model": first["finetuned_output"]})
    assert [j["job_id"] for j in by_tuned.json()["output"]["jobs"]] == [second["job_id"]]
    listed = client.get("/fine-tunes", params={"model": "qwen3-14b"}).json()["output"]
    assert (listed["total"], listed["jobs"][0]["job_id"]) == (1, other["job_id"])


def test_throttling_messages_follow_the_error_page(client: httpx.Client) -> None:
    """error-code.md, 429-Throttling: "Too many fine-tune job in running, please retry later." """
    file_id = upload(client)
    for _ in range(20):
        create(client, training_file_ids=[file_id])
    msg = error(create(client, training_file_ids=[file_id]), 429, "Throttling")
    assert msg == "Too many fine-tune job in running, please retry later."


def test_live_event_stream_follows_the_job_to_its_end(
    emu: RunningEmulator, client: httpx.Client
) -> None:
    """fine-tuning-api-guide.md, ``fine_tunes.stream``: "如果调优未完成，指令进程将持续监控输出模型
    调优的日志"."""
    job_id = create(client).json()["output"]["job_id"]
    frames: list[str] = []
    first = threading.Event()

    def read() -> None:
        with client.stream("GET", f"/fine-tunes/{job_id}/stream", timeout=30) as r:
            for line in r.iter_lines():
                if line.startswith("data:"):
                    frames.append(json.loads(line[5:])["output"])
                    first.set()

    reader = threading.Thread(target=read)
    reader.start()
    assert first.wait(10), "no frame for a PENDING job"
    assert not any(f.startswith("status:") for f in frames)
    emu.advance(20)  # the job ends while the stream is open
    reader.join(30)
    assert not reader.is_alive()
    logs = client.get(f"/fine-tunes/{job_id}/logs", params={"line": 1000}).json()["output"]
    assert frames[:-1] == logs["logs"] and frames[-1] == "status: SUCCEEDED"


# ------------------------------------------------------------------------------ checkpoints
def test_failed_export_fault(emu: RunningEmulator, client: httpx.Client) -> None:
    """fine-tuning-api-guide.md, 快照发布状态: "FAILED 快照（Checkpoint）发布失败"."""
    job = succeeded(emu, client, hyper_parameters={"n_epochs": 2})
    ckpts = client.get(f"/fine-tunes/{job['job_id']}/checkpoints").json()["output"]
    name = ckpts[-1]["checkpoint"]
    client.get(f"/fine-tunes/{job['job_id']}/export/{name}", params={"model_name": "exp-a"})
    listed = emu.fail_export(job["job_id"], name, "InternalError", "disk full")
    assert [c["status"] for c in listed if c["checkpoint"] == name] == ["FAILED"]
    error(deploy(client, model_name="exp-a"), 404, "NotFound")
    # over HTTP, armed before the export: it fails when it would have finished
    control = f"{emu.control_url}/jobs/{job['job_id']}/checkpoints/{name}/fail_export"
    assert httpx.post(control, json={"code": "X"}).status_code == 200
    client.get(f"/fine-tunes/{job['job_id']}/export/{name}", params={"model_name": "exp-b"})
    emu.advance(1)
    status = client.get(f"/fine-tunes/{job['job_id']}/checkpoints").json()["output"][-1]
    assert status["status"] == "PROCESSING"
    emu.advance(5)
    status = client.get(f"/fine-tunes/{job['job_id']}/checkpoints").json()["output"][-1]
    assert status["status"] == "FAILED"
    client.get(f"/fine-tunes/{job['job_id']}/export/{name}", params={"model_name": "exp-c"})
    emu.advance(5)
    assert deploy(client, model_name="exp-c").status_code == 200  # a retry can succeed


def test_derived_export_id_differs_from_the_asked_name() -> None:
    """README of vendor-docs-zh: the pages disagree on the name an exported checkpoint is
    deployed under; fine-tuning-api-guide.md: "model_name指的是模型 ID，可用于模型部署". With
    ``export_model_id="derived"`` only the id read back from the checkpoint list deploys."""
    with (
        run_emulator(manual_clock=True, export_model_id="derived") as emu,
        httpx.Client(
            base_url=emu.base_url, headers={"Authorization": f"Bearer {emu.api_key}"}
        ) as client,
    ):
        job = succeeded(emu, client, hyper_parameters={"n_epochs": 2})
        path = f"/fine-tunes/{job['job_id']}"
        name = client.get(f"{path}/checkpoints").json()["output"][-1]["checkpoint"]
        assert client.get(f"{path}/export/{name}", params={"model_name": "asked"}).json()["output"]
        emu.advance(5)
        item = client.get(f"{path}/checkpoints").json()["output"][-1]
        assert item["status"] == "SUCCEEDED"
        assert item["model_name"] != "asked" and item["model_name"].startswith("asked-")
        error(deploy(client, model_name="asked"), 404, "NotFound")
        assert deploy(client, model_name=item["model_name"]).status_code == 200


# ------------------------------------------------------------------------------ deployments
def test_deployment_statuses_and_answers(emu: RunningEmulator, client: httpx.Client) -> None:
    """model-deployment-api.md: status "PENDING ... UPDATING ... RUNNING ... STOPPED ...
    DELETING ... FAILED"; the quick start's LoRA create answer has no capacity fields and times
    like "2025-11-20T20:06:46.405"; the delete sample keeps "ready_capacity": 2."""
    model = succeeded(emu, client)["finetuned_output"]
    created = deploy(client, model_name=model, plan="lora", capacity=1).json()["output"]
    assert created["deployed_model"] == model  # "每个模型在首次部署时，可以不指定后缀"
    assert not {"capacity", "base_capacity", "ready_capacity"} & set(created)
    assert created["gmt_create"] == gmt_time(emu.clock.now())  # milliseconds kept
    seen = set()
    for _ in range(8):
        seen.add(client.get(f"/deployments/{model}").json()["output"]["status"])
        emu.advance(0.5)
    assert seen == {"PENDING", "RUNNING"}
    # "larger than or equal to 0": scaling to zero units is valid
    scaled = client.put(f"/deployments/{model}/scale", json={"capacity": 0})
    assert (scaled.status_code, scaled.json()["output"]["capacity"]) == (200, 0)
    emu.advance(5)
    gone = client.delete(f"/deployments/{model}").json()["output"]
    assert gone["status"] == "DELETING"


def test_second_deployment_needs_a_unique_suffix_of_at_most_8(
    emu: RunningEmulator, client: httpx.Client
) -> None:
    """model-deployment-api.md: suffix "最大长度为8个字符且需全局唯一 ... 如果需要对同一模型进行
    多次部署，则必须设置后缀"; Conflict "Deployed model xxx already exists, please specify a
    suffix."."""
    model = succeeded(emu, client)["finetuned_output"]
    assert deploy(client, model_name=model).status_code == 200
    msg = error(deploy(client, model_name=model), 409, "Conflict")
    assert msg == f"Deployed model {model} already exists, please specify a suffix."
    error(deploy(client, model_name=model, suffix="123456789"), 400, "InvalidParameter")
    second = deploy(client, model_name=model, suffix="12345678").json()["output"]
    assert second["deployed_model"] == f"{model}-12345678"
    error(deploy(client, model_name=model, suffix="12345678"), 409, "Conflict")


def test_capacity_bounds_and_message(emu: RunningEmulator, client: httpx.Client) -> None:
    """model-deployment-api.md: "Invalid capacity (xx), capacity must be larger than or equal to
    0 and multiples of 1 and less than 1000!"."""
    model = succeeded(emu, client)["finetuned_output"]
    msg = error(deploy(client, model_name=model, capacity=1000), 400, "InvalidParameter")
    assert msg == (
        "Invalid capacity (1000), capacity must be larger than or equal to 0 and multiples of 1 "
        "and less than 1000!"
    )
    assert deploy(client, model_name=model, capacity=999).status_code == 200


def test_mu_answer_carries_model_unit_spec(emu: RunningEmulator, client: httpx.Client) -> None:
    """model-deployment-api.md, 仅模型单元部署方式响应: "model_unit_spec 模型单元规格"; the update
    sample's id "qwen-plus-2025-12-01-b6d61c71"."""
    body = {"model_name": "qwen-plus-2025-12-01", "plan": "mu", "deploy_spec": "MU1", "capacity": 4}
    dep = deploy(client, **body).json()["output"]
    assert dep["model_unit_spec"] == "MU1" and dep["capacity"] == 4
    assert dep["deployed_model"].startswith("qwen-plus-2025-12-01-")
    error(deploy(client, **body), 409, "Conflict")  # the same model again needs a suffix


def test_stopped_and_failed_deployments(emu: RunningEmulator, client: httpx.Client) -> None:
    """model-deployment-api.md: "STOPPED：部署任务已经停止，此时的部署任务不会被计费",
    "FAILED：部署任务创建或更新失败"."""
    model = succeeded(emu, client)["finetuned_output"]
    deploy(client, model_name=model)
    emu.advance(5)
    invoke = {"model": model, "input": {"prompt": "hi"}}
    assert client.post(GEN, json=invoke).status_code == 200
    stopped = emu.set_deployment_status(model, "STOPPED")
    assert (stopped["status"], stopped["ready_capacity"]) == ("STOPPED", 0)
    assert error(client.post(GEN, json=invoke), 400, "InvalidParameter") == "Model not exist."
    error(
        client.put(f"/deployments/{model}/scale", json={"capacity": 2}), 400, "UnsupportedOperation"
    )
    control = f"{emu.control_url}/deployments/{model}/status"
    assert httpx.post(control, json={"status": "FAILED"}).json()["status"] == "FAILED"
    assert client.get(f"/deployments/{model}").json()["output"]["status"] == "FAILED"
    assert httpx.post(control, json={"status": "RUNNING"}).status_code == 400
    assert client.delete(f"/deployments/{model}").json()["output"]["status"] == "DELETING"


def test_deployable_models_list(emu: RunningEmulator, client: httpx.Client) -> None:
    """model-deployment-api.md, 获取可以部署的模型列表: "models":[{"model_name", "base_capacity"}],
    page_size "默认为50，最大值为200"."""
    model = succeeded(emu, client)["finetuned_output"]
    out = client.get("/deployments/models").json()["output"]
    assert (out["page_no"], out["page_size"]) == (1, 50)
    assert out["models"][0] == {"model_name": model, "base_capacity": 1}
    every = client.get("/deployments/models", params={"page_size": 200}).json()["output"]
    names = [m["model_name"] for m in every["models"]]
    assert len(names) == every["total"] and "qwen-plus-2025-12-01" in names
    error(client.get("/deployments/models", params={"page_size": 201}), 400, "InvalidParameter")


# ------------------------------------------------------------------------------ errors
def test_every_answer_carries_x_request_id(emu: RunningEmulator, client: httpx.Client) -> None:
    """error-code.md samples carry "request_id"; the header repeats it for every answer."""
    answers = [
        client.get("/fine-tunes"),
        client.get("/fine-tunes/ft-000000000000-0000"),
        client.get("/files"),
        httpx.get(f"{emu.base_url}/files"),
    ]
    emu.inject_fault(status=500, path="/deployments")
    answers.append(client.get("/deployments"))
    for r in answers:
        assert r.headers["x-request-id"] == r.json()["request_id"], r.text
    assert len({r.headers["x-request-id"] for r in answers}) == len(answers)


def test_unknown_workspace_is_an_error_in_every_resource(client: httpx.Client) -> None:
    """error-code.md: "404-WorkSpaceNotFound ... WorkSpace can not be found."."""
    headers = {"X-DashScope-WorkSpace": "llm-unknown"}
    for path in ("/files", "/fine-tunes", "/deployments", "/deployments/models"):
        r = client.get(path, headers=headers)
        assert error(r, 404, "WorkSpaceNotFound") == "WorkSpace can not be found."
    known = client.get("/fine-tunes", headers={"X-DashScope-WorkSpace": "llm-second"})
    assert known.status_code == 200


# ------------------------------------------------------------------------------ generation
def test_empty_messages_is_invalid_parameter(client: httpx.Client) -> None:
    """error-code.md, 400-InvalidParameter: "[] is too short ... 输入的messages为空数组"."""
    body = {"model": "qwen3-8b", "input": {"messages": []}}
    assert error(client.post(GEN, json=body), 400, "InvalidParameter") == "[] is too short"
    r = client.post(GEN, json=body, headers={"X-DashScope-SSE": "enable"})
    assert r.status_code == 200 and r.text.startswith("id:1\nevent:error\n:HTTP_STATUS/400\n")
    assert json.loads(r.text.split("data:", 1)[1])["code"] == "InvalidParameter"


@pytest.mark.parametrize(("model", "form"), [("qwen3-8b", "text"), ("qwen3.5-27b", "message")])
def test_default_result_format_by_model(client: httpx.Client, model: str, form: str) -> None:
    """model-deployment-quick-start.md: a qwen3-8b call without result_format answers
    {"text": ..., "finish_reason": "stop", ...}; newer families answer in the message form."""
    out = client.post(GEN, json={"model": model, "input": {"prompt": "hi"}}).json()["output"]
    assert ("text" in out) == (form == "text") and ("choices" in out) == (form == "message")


def test_compatible_stream_chunks_and_models(emu: RunningEmulator) -> None:
    """Compatible-mode chunks carry "usage": null and "system_fingerprint": null, the last
    content delta is {"content": ""}; GET /compatible-mode/v1/models lists the models."""
    headers = {"Authorization": f"Bearer {emu.api_key}"}
    body = {"model": "qwen3-8b", "messages": [{"role": "user", "content": "hi"}], "stream": True}
    r = httpx.post(f"{emu.compatible_base_url}/chat/completions", json=body, headers=headers)
    chunks = [json.loads(x[6:]) for x in r.text.split("\n") if x.startswith("data: {")]
    assert all(c["usage"] is None and c["system_fingerprint"] is None for c in chunks)
    assert chunks[-1]["choices"][0]["delta"] == {"content": ""}
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"
    empty = httpx.post(
        f"{emu.compatible_base_url}/chat/completions",
        json={"model": "qwen3-8b", "messages": []},
        headers=headers,
    )
    assert empty.status_code == 400 and "[] is too short" in empty.json()["error"]["message"]
    models = httpx.get(f"{emu.compatible_base_url}/models", headers=headers).json()
    assert models["object"] == "list"
    assert {"qwen3-8b", "qwen-plus-2025-12-01"} <= {m["id"] for m in models["data"]}
    assert all(m["object"] == "model" for m in models["data"])


# ------------------------------------------------------------------------------ files
def test_file_object_and_limits_follow_the_file_page(emu: RunningEmulator) -> None:
    """model-customization-file-management-service.md: the object's id, url, region, user_id,
    api_key_id; "Out of number, <10> of <10> files has been uploaded."; "Out of space, <839> B
    of <1024> B storage space has been used."."""
    with (
        run_emulator(manual_clock=True, max_files=2, max_total_bytes=1024) as small,
        httpx.Client(
            base_url=small.base_url, headers={"Authorization": f"Bearer {small.api_key}"}
        ) as client,
    ):
        first = upload(client, b"x" * 839)
        info = client.get(f"/files/{first}").json()["data"]
        assert isinstance(info["id"], int) and info["region"] == "cn-beijing"
        assert info["md5"] == base64.b64encode(hashlib.md5(b"x" * 839).digest()).decode()
        assert small.api_key not in json.dumps(info) and info["api_key_id"].startswith("sk-")
        space = client.post("/files", files=[("files", ("b", b"y" * 200))]).json()["data"]
        assert space["failed_uploads"][0]["message"] == (
            "Out of space, <839> B of <1024> B storage space has been used."
        )
        upload(client, b"z")
        many = client.post("/files", files=[("files", ("c", b"w"))]).json()["data"]
        assert many["failed_uploads"][0]["message"] == (
            "Out of number, <2> of <2> files has been uploaded."
        )


# ------------------------------------------------------------------------------ regions
def test_regions_have_their_own_tables_and_resources(emu: RunningEmulator) -> None:
    """fine-tuning-api-guide.md (Beijing): Qwen3-32B CPT "×"; the Singapore table follows the
    English document (cpt supported). error-code.md names both endpoints: "国际（新加坡）
    https://dashscope-intl.aliyuncs.com/api/v1"."""
    headers = {"Authorization": f"Bearer {emu.api_key}"}
    jobs = {}
    for region, base in (("cn-beijing", emu.base_url), ("ap-southeast-1", emu.intl_base_url)):
        with httpx.Client(base_url=base, headers=headers) as client:
            file_id = upload(client)
            info = client.get(f"/files/{file_id}").json()["data"]
            assert info["region"] == region
            r = create(client, model="qwen3-32b", training_type="cpt", training_file_ids=[file_id])
            jobs[region] = r.json()["output"]["job_id"]
    emu.advance(20)
    with httpx.Client(base_url=emu.base_url, headers=headers) as beijing:
        assert beijing.get(f"/fine-tunes/{jobs['cn-beijing']}").json()["output"]["status"] == (
            "FAILED"
        )
        error(beijing.get(f"/fine-tunes/{jobs['ap-southeast-1']}"), 404, "NotFound")
    with httpx.Client(base_url=emu.intl_base_url, headers=headers) as intl:
        job = intl.get(f"/fine-tunes/{jobs['ap-southeast-1']}").json()["output"]
        assert job["status"] == "SUCCEEDED"
    by_host = httpx.get(
        f"{emu.base_url}/fine-tunes/{jobs['ap-southeast-1']}",
        headers={**headers, "Host": "dashscope-intl.aliyuncs.com"},
    )
    assert by_host.status_code == 200


# ------------------------------------------------------------------------------ sockets
def test_listening_socket_sets_tcp_nodelay(emu: RunningEmulator) -> None:
    """Accepted sockets inherit TCP_NODELAY from the listener: an answer written in two parts
    is not held back waiting for the client's delayed ACK (about 40 ms a request)."""
    listener = _bind("127.0.0.1", 0)
    try:
        assert listener.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1
    finally:
        listener.close()
