"""Deployments, generation (native + SSE + compatible-mode) over real HTTP (manual clock)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from airflow_dashscope.emulator import RunningEmulator

LINE = (
    b'{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}]}\n'
)
GEN = "/services/aigc/text-generation/generation"


def error(r: httpx.Response, status: int, code: str) -> str:
    assert r.status_code == status, r.text
    assert r.json()["code"] == code, r.text
    return str(r.json()["message"])


def trained_model(emu: RunningEmulator, client: httpx.Client) -> dict[str, Any]:
    r = client.post("/files", files=[("files", ("a.jsonl", LINE * 20))])
    file_id = r.json()["data"]["uploaded_files"][0]["file_id"]
    job = client.post("/fine-tunes", json={"model": "qwen3-8b", "training_file_ids": [file_id]})
    emu.advance(10)
    out: dict[str, Any] = client.get(f"/fine-tunes/{job.json()['output']['job_id']}").json()[
        "output"
    ]
    assert out["status"] == "SUCCEEDED"
    return out


def deploy(client: httpx.Client, **body: Any) -> httpx.Response:
    return client.post("/deployments", json=body)


# ------------------------------------------------------------------------------ deployments
def test_deploy_lifecycle(emu: RunningEmulator, client: httpx.Client) -> None:
    model = trained_model(emu, client)["finetuned_output"]
    r = deploy(client, model_name=model, plan="lora", capacity=1, name="qwen3-8b-ft")
    dep = r.json()["output"]
    assert r.status_code == 200 and dep["status"] == "PENDING"
    # model-deployment-quick-start.md: the first deployment is named after the model.
    assert dep["deployed_model"] == model
    for key in (
        "gmt_create",
        "gmt_modified",
        "model_name",
        "base_model",
        "workspace_id",
        "charge_type",
        "creator",
        "modifier",
        "plan",
        "name",
    ):
        assert key in dep, key
    assert dep["base_model"] == "qwen3-8b"
    did = dep["deployed_model"]
    assert client.get(f"/deployments/{did}").json()["output"]["ready_capacity"] == 0
    seen = []
    for _ in range(4):
        seen.append(client.get(f"/deployments/{did}").json()["output"]["status"])
        emu.advance(1)
    assert seen == ["PENDING", "PENDING", "PENDING", "RUNNING"]
    running = client.get(f"/deployments/{did}").json()["output"]
    assert running["ready_capacity"] == 1
    scaled = client.put(f"/deployments/{did}/scale", json={"capacity": 2}).json()["output"]
    assert scaled["capacity"] == 2 and scaled["status"] == "UPDATING"
    emu.advance(3)
    assert client.get(f"/deployments/{did}").json()["output"]["ready_capacity"] == 2
    updated = client.put(f"/deployments/{did}/update", json={"rpm_limit": 10, "tpm_limit": 99})
    assert updated.json()["output"]["status"] == "PENDING"
    emu.advance(1.5)
    assert client.get(f"/deployments/{did}").json()["output"]["status"] == "UPDATING"
    emu.advance(2)
    after = client.get(f"/deployments/{did}").json()["output"]
    assert after["status"] == "RUNNING" and after["rpm_limit"] == 10
    listed = client.get("/deployments").json()["output"]
    assert listed["page_size"] == 50 and listed["total"] == 1 and listed["deployments"]
    error(client.get("/deployments", params={"page_size": 201}), 400, "InvalidParameter")
    assert client.get("/deployments", params={"page_size": 200}).status_code == 200
    gone = client.delete(f"/deployments/{did}").json()["output"]
    assert gone["status"] == "DELETING" and gone["deployed_model"] == did
    assert gone["ready_capacity"] == 2  # kept while DELETING (the delete sample)
    emu.advance(3)
    assert "not found" in error(client.get(f"/deployments/{did}"), 404, "NotFound")


def test_deploy_errors(emu: RunningEmulator, client: httpx.Client) -> None:
    model = trained_model(emu, client)["finetuned_output"]
    assert error(deploy(client, model_name="nope"), 404, "NotFound") == "Model: nope not found!"
    error(deploy(client, model_name="qwen3-8b", plan="lora"), 404, "NotFound")
    error(deploy(client), 400, "InvalidParameter")
    for capacity in (-1, 1000, "two"):
        msg = error(deploy(client, model_name=model, capacity=capacity), 400, "InvalidParameter")
        assert msg.startswith("Invalid capacity")
    assert deploy(client, model_name=model, name="n").status_code == 200
    msg = error(deploy(client, model_name=model, name="other"), 409, "Conflict")
    assert msg == f"Deployed model {model} already exists, please specify a suffix."
    with_suffix = deploy(client, model_name=model, name="n", suffix="v2").json()["output"]
    assert with_suffix["deployed_model"] == f"{model}-v2"
    error(deploy(client, model_name=model, name="n", suffix="v2"), 409, "Conflict")
    error(deploy(client, model_name=model, plan="mu"), 400, "InvalidParameter")  # deploy_spec
    dep = with_suffix["deployed_model"]
    error(
        client.put(f"/deployments/{dep}/scale", json={"capacity": 2}), 400, "UnsupportedOperation"
    )
    error(client.put("/deployments/nope/scale", json={"capacity": 2}), 404, "NotFound")


def test_mu_deploys_a_base_model_with_its_fields(client: httpx.Client) -> None:
    body = {
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
    dep = deploy(client, **body).json()["output"]
    assert dep["plan"] == "mu" and dep["model_unit_spec"] == "MU1" and dep["capacity"] == 4
    assert "deploy_spec" not in dep
    assert dep["enable_thinking"] is True and dep["tpm_limit"] == 1000


def test_exported_checkpoint_is_deployable(emu: RunningEmulator, client: httpx.Client) -> None:
    job = trained_model(emu, client)
    ckpts = client.get(f"/fine-tunes/{job['job_id']}/checkpoints").json()["output"]
    target = ckpts[-1]["checkpoint"]
    client.get(f"/fine-tunes/{job['job_id']}/export/{target}", params={"model_name": "exp1"})
    error(deploy(client, model_name="exp1"), 404, "NotFound")  # export still running
    emu.advance(2)
    assert deploy(client, model_name="exp1").json()["output"]["base_model"] == "qwen3-8b"


# ------------------------------------------------------------------------------ generation
def test_generation_base_model_message_and_text(client: httpx.Client) -> None:
    body = {
        "model": "qwen3-8b",
        "input": {"messages": [{"role": "user", "content": "Who are you?"}]},
        "parameters": {"result_format": "message"},
    }
    out = client.post(GEN, json=body).json()
    choice = out["output"]["choices"][0]
    assert choice["finish_reason"] == "stop" and choice["message"]["role"] == "assistant"
    assert (
        "qwen3-8b" in choice["message"]["content"]
        and "Who are you?" in choice["message"]["content"]
    )
    usage = out["usage"]
    assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"] > 0
    text = client.post(
        GEN,
        json={
            "model": "qwen3-8b",
            "input": {"prompt": "abc"},
            "parameters": {"result_format": "text"},
        },
    ).json()
    assert "abc" in text["output"]["text"] and text["output"]["finish_reason"] == "stop"
    assert client.post(GEN, json=body).json()["output"] == out["output"]  # deterministic


def test_generation_needs_running_deployment(emu: RunningEmulator, client: httpx.Client) -> None:
    model = trained_model(emu, client)["finetuned_output"]
    did = deploy(client, model_name=model).json()["output"]["deployed_model"]
    body = {"model": did, "input": {"messages": [{"role": "user", "content": "hello"}]}}
    # error-code.md, 400-InvalidParameter: "Model not exist."
    assert error(client.post(GEN, json=body), 400, "InvalidParameter") == "Model not exist."
    emu.advance(3)
    answer = client.post(GEN, json={**body, "parameters": {"result_format": "message"}})
    reply = answer.json()["output"]["choices"][0]["message"]["content"]
    assert did in reply and "hello" in reply
    error(client.post(GEN, json={**body, "model": "not-a-model"}), 400, "InvalidParameter")


def sse_frames(raw: str) -> list[dict[str, str]]:
    frames = []
    for block in raw.strip().split("\n\n"):
        frame: dict[str, str] = {}
        for line in block.split("\n"):
            key, _, value = line.partition(":")
            frame[key or "comment"] = value
        frames.append(frame)
    return frames


@pytest.mark.parametrize(
    "headers", [{"X-DashScope-SSE": "enable"}, {"Accept": "text/event-stream"}]
)
def test_generation_sse(client: httpx.Client, headers: dict[str, str]) -> None:
    body = {
        "model": "qwen3-8b",
        "input": {"messages": [{"role": "user", "content": "stream me"}]},
        "parameters": {"incremental_output": True, "result_format": "message"},
    }
    r = client.post(GEN, json=body, headers=headers)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
    frames = sse_frames(r.text)
    assert len(frames) >= 3
    assert [f["id"] for f in frames] == [str(i) for i in range(1, len(frames) + 1)]
    assert all(f["event"] == "result" and f["comment"] == "HTTP_STATUS/200" for f in frames)
    datas = [json.loads(f["data"]) for f in frames]
    reasons = [d["output"]["choices"][0]["finish_reason"] for d in datas]
    assert reasons[-1] == "stop" and "stop" not in reasons[:-1]
    text = "".join(d["output"]["choices"][0]["message"]["content"] for d in datas)
    full = client.post(GEN, json=body).json()["output"]["choices"][0]["message"]["content"]
    assert text == full
    cumulative_body = {**body, "parameters": {"result_format": "message"}}
    cumulative = client.post(GEN, json=cumulative_body, headers=headers)
    last = json.loads(sse_frames(cumulative.text)[-1]["data"])
    assert last["output"]["choices"][0]["message"]["content"] == full


def test_generation_sse_error_frame(client: httpx.Client) -> None:
    r = client.post(
        GEN, json={"model": "nope", "input": {"prompt": "x"}}, headers={"X-DashScope-SSE": "enable"}
    )
    frames = sse_frames(r.text)
    assert frames[0]["event"] == "error"
    assert json.loads(frames[0]["data"])["code"] == "InvalidParameter"


# ------------------------------------------------------------------------------ compatible-mode
def test_chat_completions(emu: RunningEmulator) -> None:
    headers = {"Authorization": f"Bearer {emu.api_key}"}
    body = {"model": "qwen3-8b", "messages": [{"role": "user", "content": "ping"}]}
    out = httpx.post(f"{emu.compatible_base_url}/chat/completions", json=body, headers=headers)
    data = out.json()
    assert data["id"].startswith("chatcmpl-") and data["object"] == "chat.completion"
    assert isinstance(data["created"], int) and data["model"] == "qwen3-8b"
    choice = data["choices"][0]
    assert choice["index"] == 0 and choice["finish_reason"] == "stop"
    assert choice["message"]["role"] == "assistant" and "ping" in choice["message"]["content"]
    assert set(data["usage"]) >= {"prompt_tokens", "completion_tokens", "total_tokens"}


def test_chat_completions_stream(emu: RunningEmulator) -> None:
    headers = {"Authorization": f"Bearer {emu.api_key}"}
    body = {"model": "qwen3-8b", "messages": [{"role": "user", "content": "ping"}], "stream": True}
    r = httpx.post(f"{emu.compatible_base_url}/chat/completions", json=body, headers=headers)
    lines = [x for x in r.text.split("\n") if x]
    assert all(x.startswith("data: ") for x in lines) and lines[-1] == "data: [DONE]"
    chunks = [json.loads(x[6:]) for x in lines[:-1]]
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks)
    assert "ping" in text


def test_chat_completions_errors_in_openai_shape(emu: RunningEmulator) -> None:
    url = f"{emu.compatible_base_url}/chat/completions"
    body = {"model": "nope", "messages": [{"role": "user", "content": "x"}]}
    r = httpx.post(url, json=body, headers={"Authorization": f"Bearer {emu.api_key}"})
    assert r.status_code == 404
    assert set(r.json()["error"]) == {"message", "type", "param", "code"}
    bad = httpx.post(url, json=body, headers={"Authorization": "Bearer wrong"})
    assert bad.status_code == 401 and bad.json()["error"]["code"] == "invalid_api_key"
