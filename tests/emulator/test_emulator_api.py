"""Auth, workspaces, files, fine-tunes, logs and checkpoints over real HTTP (manual clock)."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from airflow_dashscope.emulator import RunningEmulator, run_emulator

LINE = (
    b'{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}]}\n'
)


@pytest.fixture(scope="module")
def server() -> Iterator[RunningEmulator]:
    with run_emulator(
        manual_clock=True,
        max_files=5,
        max_file_bytes=10_000,
        max_total_bytes=25_000,
        workspaces=("llm-other",),
    ) as running:
        yield running


def upload(
    client: httpx.Client, content: bytes = LINE * 40, name: str = "a.jsonl", **headers: str
) -> str:
    r = client.post("/files", files=[("files", (name, content))], headers=headers)
    assert r.status_code == 200, r.text
    return str(r.json()["data"]["uploaded_files"][0]["file_id"])


def create(client: httpx.Client, file_id: str, **body: Any) -> dict[str, Any]:
    r = client.post(
        "/fine-tunes", json={"model": "qwen3-8b", "training_file_ids": [file_id], **body}
    )
    assert r.status_code == 200, r.text
    out: dict[str, Any] = r.json()["output"]
    return out


def error(r: httpx.Response, status: int, code: str) -> str:
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body) == {"request_id", "code", "message"} and body["code"] == code, body
    return str(body["message"])


# ------------------------------------------------------------------------------ auth
@pytest.mark.parametrize("header", [None, "", "Bearer", "Bearer wrong-key", "Basic abc"])
def test_bad_keys_are_401(emu: RunningEmulator, header: str | None) -> None:
    headers = {} if header is None else {"Authorization": header}
    r = httpx.get(f"{emu.base_url}/fine-tunes", headers=headers)
    assert error(r, 401, "InvalidApiKey") == "Invalid API-key provided."


def test_any_key_mode_accepts_any_non_empty_key() -> None:
    with run_emulator(api_key=None) as running:
        ok = httpx.get(f"{running.base_url}/files", headers={"Authorization": "Bearer x"})
        assert ok.status_code == 200
        assert httpx.get(f"{running.base_url}/files").status_code == 401


def test_workspaces_isolate_resources(client: httpx.Client) -> None:
    file_id = upload(client, **{"X-DashScope-WorkSpace": "llm-other"})
    assert error(client.get(f"/files/{file_id}"), 400, "InvalidParameter") == "File not found."
    other = {"X-DashScope-WorkSpace": "llm-other"}
    assert client.get(f"/files/{file_id}", headers=other).status_code == 200
    r = client.post(
        "/fine-tunes", headers=other, json={"model": "qwen3-8b", "training_file_ids": [file_id]}
    )
    job = r.json()["output"]
    assert job["workspace_id"] == "llm-other"
    error(client.get(f"/fine-tunes/{job['job_id']}"), 404, "NotFound")
    assert client.get("/fine-tunes").json()["output"]["total"] == 0
    default_file = upload(client)
    default_job = create(client, default_file)
    assert re.fullmatch(r"llm-[a-z0-9]+", default_job["workspace_id"])


def test_unknown_workspace_is_404_workspace_not_found(client: httpx.Client) -> None:
    """error-code.md: "404-WorkSpaceNotFound / WorkSpace can not be found." — an unknown
    workspace is an error, not an empty account; the default one always works."""
    unknown = {"X-DashScope-WorkSpace": "llm-nobody"}
    for method, path in (("GET", "/files"), ("GET", "/fine-tunes"), ("GET", "/deployments")):
        r = client.request(method, path, headers=unknown)
        assert error(r, 404, "WorkSpaceNotFound") == "WorkSpace can not be found."
    default = {"X-DashScope-WorkSpace": "llm-8v53etv3hwb8orx1"}
    assert client.get("/fine-tunes", headers=default).status_code == 200


# ------------------------------------------------------------------------------ files
def test_upload_get_list_delete(client: httpx.Client) -> None:
    content = LINE * 3
    r = client.post(
        "/files",
        files=[("files", ("a.jsonl", content)), ("files", ("b.jsonl", content))],
        data={"descriptions": ["first", "second"], "purpose": "fine-tune"},
    )
    body = r.json()
    assert r.status_code == 200 and set(body) == {"request_id", "data"}
    assert [f["name"] for f in body["data"]["uploaded_files"]] == ["a.jsonl", "b.jsonl"]
    assert body["data"]["failed_uploads"] == []
    first = body["data"]["uploaded_files"][0]["file_id"]
    info = client.get(f"/files/{first}").json()["data"]
    assert info["description"] == "first"
    digest = base64.b64encode(hashlib.md5(content).digest()).decode()
    assert info["size"] == len(content) and info["md5"] == digest
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", info["gmt_create"])
    assert httpx.get(info["url"]).content == content
    listed = client.get("/files", params={"page_no": 1, "page_size": 1}).json()["data"]
    assert listed["total"] == 2 and len(listed["files"]) == 1 and listed["page_size"] == 1
    assert listed["files"][0]["purpose"] == "fine-tune"
    assert client.get("/files").json()["data"]["page_size"] == 10
    deleted = client.delete(f"/files/{first}")
    assert deleted.status_code == 200 and "request_id" in deleted.json()
    error(client.get(f"/files/{first}"), 400, "InvalidParameter")
    error(client.delete(f"/files/{first}"), 400, "InvalidParameter")


@pytest.mark.parametrize("params", [{"page_size": 0}, {"page_size": 101}, {"page_no": 0}])
def test_file_paging_out_of_range(client: httpx.Client, params: dict[str, int]) -> None:
    error(client.get("/files", params=params), 400, "InvalidParameter")


def test_get_file_carries_its_purpose(client: httpx.Client) -> None:
    """Recorded real traffic shows ``purpose`` on GET /files/{id} (the page's table omits it)."""
    r = client.post("/files", files=[("files", ("a.jsonl", LINE))], data={"purpose": "batch"})
    file_id = r.json()["data"]["uploaded_files"][0]["file_id"]
    bare = upload(client, LINE, "b.jsonl")
    assert client.get(f"/files/{file_id}").json()["data"]["purpose"] == "batch"
    assert client.get(f"/files/{bare}").json()["data"]["purpose"] == "fine-tune"


def test_upload_limits_fail_per_file_with_http_200(client: httpx.Client) -> None:
    # The module's emulator allows 10 000 bytes a file, 5 files, 25 000 bytes in all.
    r = client.post(
        "/files",
        files=[("files", ("big.jsonl", b"x" * 10_001)), ("files", ("ok.jsonl", b"x" * 9_000))],
    )
    data = r.json()["data"]
    assert r.status_code == 200
    assert data["failed_uploads"][0]["name"] == "big.jsonl"
    assert data["failed_uploads"][0]["code"] == "BadRequest.TooLarge"
    assert [f["name"] for f in data["uploaded_files"]] == ["ok.jsonl"]
    upload(client, b"x" * 9_000)
    total = client.post("/files", files=[("files", ("c.jsonl", b"x" * 9_000))]).json()["data"]
    assert total["failed_uploads"][0]["code"] == "BadRequest.TooLarge"  # over total storage
    for _ in range(3):
        upload(client, b"x")
    many = client.post("/files", files=[("files", ("f.jsonl", b"x"))]).json()["data"]
    assert many["failed_uploads"][0]["code"] == "BadRequest.TooMany"
    assert many["uploaded_files"] == []


# ------------------------------------------------------------------------------ fine-tunes
def test_create_returns_the_documented_job_object(client: httpx.Client) -> None:
    file_id = upload(client)
    hp = {
        "n_epochs": 3,
        "batch_size": 16,
        "max_length": 8192,
        "learning_rate": "1.6e-5",
        "my_custom_knob": 7,
    }
    job = create(client, file_id, hyper_parameters=hp)
    assert re.fullmatch(r"ft-\d{12}-[0-9a-f]{4}", job["job_id"])
    assert job["job_name"] == job["job_id"] and job["status"] == "PENDING"
    assert "finetuned_output" not in job  # only once SUCCEEDED (model-training-api-reference)
    assert job["model"] == job["base_model"] == "qwen3-8b"
    assert job["training_file_ids"] == [file_id] and job["validation_file_ids"] == []
    assert job["hyper_parameters"] == hp and job["training_type"] == "sft"
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", job["create_time"])
    assert job["group"] == "llm" and job["max_output_cnt"] == 10
    assert job["user_identity"] == job["creator"] == job["modifier"]
    assert "end_time" not in job and "usage" not in job
    named = create(client, file_id, job_name="mine", model_name="my-model")
    assert named["job_name"] == "mine" and named["model_name"] == "my-model"


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ({"training_file_ids": ["F"]}, "model"),
        ({"model": "qwen3-8b"}, "Missing training files"),
        ({"model": "qwen3-8b", "training_file_ids": []}, "Missing training files"),
        ({"model": "qwen3-8b", "training_file_ids": ["nope"]}, "nope"),
        ({"model": "qwen3-8b", "training_file_ids": ["F"], "validation_file_ids": ["v1"]}, "v1"),
        ({"model": "qwen3-8b", "training_file_ids": ["F"], "training_type": "rlhf"}, "rlhf"),
        ({"model": "gpt-4", "training_file_ids": ["F"]}, "gpt-4"),
    ],
)
def test_create_validation(client: httpx.Client, body: dict[str, Any], needle: str) -> None:
    file_id = upload(client)
    body = {
        k: ([file_id if x == "F" else x for x in v] if isinstance(v, list) else v)
        for k, v in body.items()
    }
    assert needle in error(client.post("/fine-tunes", json=body), 400, "InvalidParameter")


def test_lifecycle_list_get_usage_end_time(emu: RunningEmulator, client: httpx.Client) -> None:
    job_id = create(client, upload(client))["job_id"]
    emu.advance(1)
    assert client.get(f"/fine-tunes/{job_id}").json()["output"]["status"] == "RUNNING"
    emu.advance(4)
    job = client.get(f"/fine-tunes/{job_id}").json()["output"]
    assert job["status"] == "SUCCEEDED" and job["end_time"] and isinstance(job["usage"], int)
    listed = client.get("/fine-tunes", params={"page_size": 5}).json()["output"]
    assert set(listed) == {"page_no", "page_size", "total", "jobs"}
    assert listed["total"] == 1 and listed["jobs"][0]["job_id"] == job_id
    error(client.get("/fine-tunes", params={"page_size": 101}), 400, "InvalidParameter")


def test_model_can_be_an_earlier_output(emu: RunningEmulator, client: httpx.Client) -> None:
    file_id = upload(client)
    first = create(client, file_id)
    future_output = f"qwen3-8b-{first['job_id']}"
    error(
        client.post("/fine-tunes", json={"model": future_output, "training_file_ids": [file_id]}),
        400,
        "InvalidParameter",
    )  # not SUCCEEDED yet
    emu.advance(10)
    output = client.get(f"/fine-tunes/{first['job_id']}").json()["output"]["finetuned_output"]
    assert output == future_output
    second = create(client, file_id, model=output)
    assert second["model"] == output and second["base_model"] == "qwen3-8b"


def test_one_running_job_others_queue(emu: RunningEmulator, client: httpx.Client) -> None:
    file_id = upload(client)
    ids = [create(client, file_id)["job_id"] for _ in range(3)]
    emu.advance(1.5)
    statuses = [client.get(f"/fine-tunes/{i}").json()["output"]["status"] for i in ids]
    assert statuses == ["RUNNING", "QUEUING", "QUEUING"]
    emu.advance(4)
    statuses = [client.get(f"/fine-tunes/{i}").json()["output"]["status"] for i in ids]
    assert statuses == ["SUCCEEDED", "RUNNING", "QUEUING"]


def test_unsupported_pair_fails_with_code(emu: RunningEmulator, client: httpx.Client) -> None:
    job_id = create(client, upload(client), training_type="cpt")["job_id"]
    emu.advance(2)
    job = client.get(f"/fine-tunes/{job_id}").json()["output"]
    assert job["status"] == "FAILED" and job["code"] and "cpt" in job["message"]


def test_twenty_jobs_then_429(client: httpx.Client) -> None:
    file_id = upload(client)
    for _ in range(20):
        create(client, file_id)
    r = client.post("/fine-tunes", json={"model": "qwen3-8b", "training_file_ids": [file_id]})
    # error-code.md, 429-Throttling: "Too many fine-tune job in running, please retry later."
    assert error(r, 429, "Throttling") == "Too many fine-tune job in running, please retry later."


def test_cancel_and_delete(emu: RunningEmulator, client: httpx.Client) -> None:
    job_id = create(client, upload(client))["job_id"]
    msg = error(client.delete(f"/fine-tunes/{job_id}"), 400, "UnsupportedOperation")
    assert msg.startswith("The fine-tune job can not be deleted because")
    r = client.post(f"/fine-tunes/{job_id}/cancel")
    assert r.json()["output"] == {"status": "success"}
    assert client.get(f"/fine-tunes/{job_id}").json()["output"]["status"] == "CANCELING"
    emu.advance(2)
    job = client.get(f"/fine-tunes/{job_id}").json()["output"]
    assert job["status"] == "CANCELED" and "end_time" in job
    assert (job["code"], job["usage"]) == ("1", 0)
    error(client.post(f"/fine-tunes/{job_id}/cancel"), 400, "UnsupportedOperation")
    assert client.delete(f"/fine-tunes/{job_id}").json()["output"] == {"status": "success"}
    assert error(client.get(f"/fine-tunes/{job_id}"), 404, "NotFound") == "Not Found!"
    error(client.post("/fine-tunes/ft-000000000000-0000/cancel"), 404, "NotFound")
    error(client.delete("/fine-tunes/ft-000000000000-0000"), 404, "NotFound")


def test_logs_grow_and_paginate(emu: RunningEmulator, client: httpx.Client) -> None:
    job_id = create(client, upload(client))["job_id"]
    emu.advance(2)
    early = client.get(f"/fine-tunes/{job_id}/logs").json()["output"]
    emu.advance(5)
    late = client.get(f"/fine-tunes/{job_id}/logs", params={"offset": 0, "line": 1000})
    out = late.json()["output"]
    assert set(out) == {"total", "logs"} and out["total"] > early["total"]
    assert any("step" in line and "epoch" in line and "loss" in line for line in out["logs"])
    one = client.get(f"/fine-tunes/{job_id}/logs", params={"offset": 1, "line": 2}).json()
    assert one["output"]["logs"] == out["logs"][1:3] and one["output"]["total"] == out["total"]


def test_checkpoints_and_export(emu: RunningEmulator, client: httpx.Client) -> None:
    job = create(client, upload(client), hyper_parameters={"n_epochs": 2, "batch_size": 8})
    job_id = job["job_id"]
    assert client.get(f"/fine-tunes/{job_id}/checkpoints").json()["output"] == []
    emu.advance(3.5)  # past the first epoch
    running = client.get(f"/fine-tunes/{job_id}/checkpoints").json()["output"]
    assert [c["checkpoint"] for c in running] == ["checkpoint-5"]
    assert running[0]["status"] == "PENDING"
    error(
        client.get(f"/fine-tunes/{job_id}/export/checkpoint-5", params={"model_name": "x"}),
        400,
        "UnsupportedOperation",
    )
    emu.advance(5)
    items = client.get(f"/fine-tunes/{job_id}/checkpoints").json()["output"]
    assert [c["step"] for c in items] == [10, 5]
    keys = {
        "create_time",
        "full_name",
        "job_id",
        "checkpoint",
        "model_name",
        "status",
        "checkpoint_id",
        "step",
    }
    assert all(set(c) == keys for c in items)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", items[0]["create_time"])
    assert items[0]["full_name"] == f"{job_id}-checkpoint-10"
    done = client.get(f"/fine-tunes/{job_id}").json()["output"]
    assert items[0]["model_name"] == done["finetuned_output"] and items[0]["status"] == "SUCCEEDED"
    assert done["output_cnt"] == 2
    r = client.get(f"/fine-tunes/{job_id}/export/checkpoint-5", params={"model_name": "my-ckpt"})
    assert r.json()["output"] is True
    seen = []
    for _ in range(3):
        ckpt = client.get(f"/fine-tunes/{job_id}/checkpoints").json()["output"][1]
        seen.append(ckpt["status"])
        assert ckpt["model_name"] == "my-ckpt"
        emu.advance(0.9)
    assert seen == ["PENDING", "PROCESSING", "PROCESSING"]
    emu.advance(1)
    assert client.get(f"/fine-tunes/{job_id}/checkpoints").json()["output"][1]["status"] == (
        "SUCCEEDED"
    )
    error(
        client.get(f"/fine-tunes/{job_id}/export/checkpoint-99", params={"model_name": "x"}),
        404,
        "NotFound",
    )


def test_no_checkpoints_for_dpo(emu: RunningEmulator, client: httpx.Client) -> None:
    job = create(client, upload(client), training_type="dpo_full")
    assert "max_output_cnt" not in job
    emu.advance(10)
    assert client.get(f"/fine-tunes/{job['job_id']}").json()["output"]["status"] == "SUCCEEDED"
    assert client.get(f"/fine-tunes/{job['job_id']}/checkpoints").json()["output"] == []


def test_unknown_path_and_bad_json(client: httpx.Client) -> None:
    error(client.get("/no-such-thing"), 404, "NotFound")
    r = client.post(
        "/fine-tunes", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    error(r, 400, "InvalidParameter")
