"""Models that learn (a deterministic simulation): loss curves in the log, sweeps, answers.

Over real HTTP with a manual clock: jobs train on small hand-written data, their outputs are
deployed, and the deployments are asked held-out prompts near the training examples.
"""

from __future__ import annotations

import ast
import json
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from airflow_dashscope.emulator import RunningEmulator, run_emulator
from airflow_dashscope.waiting.training_log import summarize

#: (training prompt, held-out paraphrase, answer)
FACTS = [
    (
        "What colour is the lantern in the catalogue?",
        "Which colour is the lantern in the catalogue?",
        "The lantern is bright red with brass trim.",
    ),
    (
        "How long is the warranty on the blender?",
        "How long does the warranty on the blender last?",
        "The blender carries a two year warranty.",
    ),
    (
        "Where do I return a damaged parcel?",
        "Where can I return a damaged parcel?",
        "Damaged parcels go back to the Hangzhou depot on Wensan Road.",
    ),
    (
        "When does the Sunday market open?",
        "What time does the Sunday market open?",
        "The Sunday market opens at seven thirty in the morning.",
    ),
    (
        "Who signs off on travel expenses?",
        "Who signs off travel expenses?",
        "Travel expenses are approved by your cost centre manager.",
    ),
    (
        "How many vacation days do new hires get?",
        "How many vacation days do new hires receive?",
        "New hires get fifteen vacation days per year.",
    ),
    (
        "Which port does the ferry leave from?",
        "From which port does the ferry leave?",
        "The ferry leaves from pier nine at the north harbour.",
    ),
    (
        "What is the wifi password in the library?",
        "What's the wifi password in the library?",
        "The library wifi password is printed on the reading desks.",
    ),
    (
        "How do I reset my badge PIN?",
        "How can I reset my badge PIN?",
        "Reset your badge PIN at any security kiosk with your ID card.",
    ),
    (
        "What is the fee for a late library book?",
        "What is the fee for a late library book please?",
        "A late library book costs twenty cents per day.",
    ),
]
SECOND = [
    (
        "Which floor is the canteen on?",
        "On which floor is the canteen?",
        "The canteen is on the fourth floor next to the gym.",
    ),
    (
        "How do I book a meeting room?",
        "How can I book a meeting room?",
        "Book meeting rooms in the calendar under Resources.",
    ),
]
GOOD = {"n_epochs": 2, "batch_size": 2}


def sft(facts: list[tuple[str, str, str]], noisy: bool = False) -> bytes:
    lines = []
    for i, (prompt, _, answer) in enumerate(facts):
        if noisy:  # the answer of another fact: wrong, but fluent
            answer = facts[(i + 3) % len(facts)][2]
        messages = [{"role": "user", "content": prompt}, {"role": "assistant", "content": answer}]
        lines.append(json.dumps({"messages": messages}))
    return ("\n".join(lines) + "\n").encode()


def f1(prediction: str, reference: str) -> float:
    pred = re.findall(r"\w+", prediction.lower())
    ref = re.findall(r"\w+", reference.lower())
    common = sum((Counter(pred) & Counter(ref)).values())
    if not common:
        return 0.0
    precision, recall = common / len(pred), common / len(ref)
    return 2 * precision * recall / (precision + recall)


@pytest.fixture(scope="module")
def server() -> Iterator[RunningEmulator]:
    with run_emulator(manual_clock=True, max_jobs=100) as running:
        yield running


def upload(client: httpx.Client, content: bytes) -> str:
    r = client.post("/files", files=[("files", ("data.jsonl", content))])
    return str(r.json()["data"]["uploaded_files"][0]["file_id"])


def train(
    emu: RunningEmulator,
    client: httpx.Client,
    content: bytes,
    model: str = "qwen3-8b",
    validation: bytes | None = None,
    training_type: str = "sft",
    **hyper: Any,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "model": model,
        "training_file_ids": [upload(client, content)],
        "training_type": training_type,
        "hyper_parameters": hyper,
    }
    if validation is not None:
        body["validation_file_ids"] = [upload(client, validation)]
    r = client.post("/fine-tunes", json=body)
    assert r.status_code == 200, r.text
    emu.advance(60)
    job = client.get(f"/fine-tunes/{r.json()['output']['job_id']}").json()["output"]
    assert job["status"] == "SUCCEEDED", job
    return dict(job)


def logs(client: httpx.Client, job_id: str) -> list[str]:
    out = client.get(f"/fine-tunes/{job_id}/logs", params={"line": 1000}).json()["output"]
    return list(out["logs"])


def curve(lines: list[str]) -> dict[int, dict[str, float]]:
    """Step -> {loss, eval_loss}, from the trainer's records (which carry their step)."""
    points: dict[int, dict[str, float]] = {}
    for line in lines:
        head = re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} - (INFO|ERROR) - ", line)
        assert head, f"not in the reference's log form: {line!r}"
        if "{" not in line or "train_loss" in line:
            continue
        record = ast.literal_eval(line[line.index("{") :])
        if "loss" in record:
            assert re.search(rf"- step {record['step']}/\d+ {{", line), line
        points.setdefault(record["step"], {}).update(
            {k: v for k, v in record.items() if k in ("loss", "eval_loss")}
        )
    return points


def deploy(emu: RunningEmulator, client: httpx.Client, model: str, suffix: str = "") -> str:
    body = {"model_name": model, **({"suffix": suffix} if suffix else {})}
    r = client.post("/deployments", json=body)
    assert r.status_code == 200, r.text
    emu.advance(10)
    return str(r.json()["output"]["deployed_model"])


def ask(client: httpx.Client, model: str, prompt: str, **params: Any) -> str:
    body = {
        "model": model,
        "input": {"messages": [{"role": "user", "content": prompt}]},
        "parameters": {"result_format": "message", **params},
    }
    r = client.post("/services/aigc/text-generation/generation", json=body)
    assert r.status_code == 200, r.text
    return str(r.json()["output"]["choices"][0]["message"]["content"])


def held_out_f1(client: httpx.Client, model: str, facts: list[tuple[str, str, str]]) -> float:
    return sum(f1(ask(client, model, held), answer) for _, held, answer in facts) / len(facts)


# ------------------------------------------------------------------------------ the log
def test_log_lines_parse_into_steps_loss_and_eval_loss(
    emu: RunningEmulator, client: httpx.Client
) -> None:
    job = train(emu, client, sft(FACTS), validation=sft(SECOND), eval_steps=2, **GOOD)
    lines = logs(client, job["job_id"])
    points = curve(lines)
    total = GOOD["n_epochs"] * len(FACTS) // GOOD["batch_size"]
    assert sorted(points) == list(range(1, total + 1))  # logging_steps 1 for a small job
    assert all("loss" in p for p in points.values())
    assert sorted(s for s, p in points.items() if "eval_loss" in p) == list(range(2, total + 1, 2))
    assert points[total]["loss"] < points[1]["loss"]
    # The project's own reader of job logs gets the same curve.
    read = summarize(lines)
    assert [p.step for p in read.points] == sorted(points) and read.total_steps == total
    assert [p.val_loss for p in read.points] == [points[s].get("eval_loss") for s in points]
    summary = next(line for line in lines if "'train_loss'" in line)
    assert set(ast.literal_eval(summary[summary.index("{") :])) == {
        "train_runtime",
        "train_samples_per_second",
        "train_steps_per_second",
        "train_loss",
        "epoch",
    }


def test_steps_between_logged_steps_keep_their_numbers(
    emu: RunningEmulator, client: httpx.Client
) -> None:
    job = train(
        emu, client, sft(FACTS * 4), split=0.9, batch_size=1, logging_steps=5, eval_steps=10
    )
    points = curve(logs(client, job["job_id"]))
    assert sorted(points) == list(range(5, 121, 5))
    assert sorted(s for s, p in points.items() if "eval_loss" in p) == list(range(10, 121, 10))
    read = summarize(logs(client, job["job_id"]))
    assert read.best_val_step in range(10, 121, 10) and not read.steps_counted


def test_validation_loss_only_with_validation_data(
    emu: RunningEmulator, client: httpx.Client
) -> None:
    without = train(emu, client, sft(FACTS), **GOOD)
    assert not any("eval_loss" in line for line in logs(client, without["job_id"]))
    split = train(emu, client, sft(FACTS), split=0.8, **GOOD)
    assert any("eval_loss" in line for line in logs(client, split["job_id"]))


def test_a_sweep_ranks_its_settings_for_readable_reasons(
    emu: RunningEmulator, client: httpx.Client
) -> None:
    """The optimum, too high a learning rate (unstable), too few steps, too many epochs."""
    settings = {
        "good": GOOD,
        "lr far too high": {**GOOD, "learning_rate": 1e-3},
        "too few steps": {"n_epochs": 1, "batch_size": 16},
        "overfitted": {**GOOD, "n_epochs": 12},
    }
    final, best = {}, {}
    for name, hyper in settings.items():
        job = train(emu, client, sft(FACTS), validation=sft(FACTS), **hyper)
        points = curve(logs(client, job["job_id"]))
        final[name] = points[max(points)]["eval_loss"]
        best[name] = min(p["eval_loss"] for p in points.values())
    assert min(final, key=final.__getitem__) == "good", final
    assert len({round(v, 2) for v in final.values()}) == 4, final
    # Overfitting: the validation loss fell, then rose past the optimum.
    assert final["overfitted"] > best["overfitted"] + 0.3, (final, best)
    # Far too high a learning rate never gets near the others.
    assert best["lr far too high"] > max(best[n] for n in ("good", "overfitted")) + 1


def test_lora_rank_and_data_size_move_the_curve(emu: RunningEmulator, client: httpx.Client) -> None:
    def evals(content: bytes, **hyper: Any) -> list[float]:
        job = train(emu, client, content, validation=sft(FACTS), **hyper)
        points = curve(logs(client, job["job_id"]))
        return [points[s]["eval_loss"] for s in sorted(points)]

    lora = {"training_type": "efficient_sft", "learning_rate": 1e-4, **GOOD}
    assert evals(sft(FACTS), lora_rank=4, **lora)[-1] > evals(sft(FACTS), lora_rank=64, **lora)[-1]
    # "数据量 < 10,000, 3~5次; 数据量 > 10,000, 1~2次": 4 epochs suit 100 examples and
    # overfit 10,000 (the validation loss ends above its minimum).
    small, large = evals(sft(FACTS * 10), n_epochs=4), evals(sft(FACTS * 1000), n_epochs=4)
    assert small[-1] - min(small) < 0.01 and large[-1] - min(large) > 0.05, (small, large)


# ------------------------------------------------------------------------------ answers
def test_clean_data_beats_noisy_data_on_held_out_prompts(
    emu: RunningEmulator, client: httpx.Client
) -> None:
    clean = deploy(emu, client, train(emu, client, sft(FACTS), **GOOD)["finetuned_output"])
    noisy_job = train(emu, client, sft(FACTS, noisy=True), **GOOD)
    noisy = deploy(emu, client, noisy_job["finetuned_output"])
    clean_f1, noisy_f1 = held_out_f1(client, clean, FACTS), held_out_f1(client, noisy, FACTS)
    assert clean_f1 > 0.8 and clean_f1 > noisy_f1 + 0.3, (clean_f1, noisy_f1)
    # Far from every example: the base model's reply, as before fine-tuning.
    assert ask(client, clean, "Tell me a joke about penguins").startswith(f"Hello from {clean}")


def test_a_learning_rate_far_too_high_answers_worse(
    emu: RunningEmulator, client: httpx.Client
) -> None:
    good = deploy(emu, client, train(emu, client, sft(FACTS), **GOOD)["finetuned_output"])
    high_job = train(emu, client, sft(FACTS), learning_rate=1e-3, **GOOD)
    high = deploy(emu, client, high_job["finetuned_output"])
    assert held_out_f1(client, high, FACTS) < held_out_f1(client, good, FACTS) - 0.3
    # Deterministic decoding: the same prompt gets the same (corrupted) answer, seed or not.
    prompt = FACTS[0][1]
    assert ask(client, high, prompt) == ask(client, high, prompt, temperature=0, seed=7)


def test_a_continued_model_knows_its_lineage_and_its_exports_answer_the_same(
    emu: RunningEmulator, client: httpx.Client
) -> None:
    parent = train(emu, client, sft(FACTS), **GOOD)
    # 2 examples, batch 1, 3 epochs: 6 steps (a run under 10 steps learns in proportion).
    child_hyper = {"n_epochs": 3, "batch_size": 1}
    child = train(emu, client, sft(SECOND), model=parent["finetuned_output"], **child_hyper)
    deployed = deploy(emu, client, child["finetuned_output"])
    answers = {held: ask(client, deployed, held) for _, held, _ in FACTS + SECOND}
    right = [held for _, held, answer in FACTS + SECOND if answers[held] == answer]
    assert len(right) >= len(FACTS + SECOND) - 1, answers  # the parent's facts too
    assert all(answers[held] == answer for _, held, answer in SECOND)

    checkpoints = client.get(f"/fine-tunes/{child['job_id']}/checkpoints").json()["output"]
    name = checkpoints[-1]["checkpoint"]
    exported = client.get(
        f"/fine-tunes/{child['job_id']}/export/{name}", params={"model_name": "child-early"}
    )
    assert exported.status_code == 200, exported.text
    emu.advance(10)
    published = next(
        c["model_name"]
        for c in client.get(f"/fine-tunes/{child['job_id']}/checkpoints").json()["output"]
        if c["checkpoint"] == name
    )
    export_deployed = deploy(emu, client, published)
    assert {held: ask(client, export_deployed, held) for held in answers} == answers


def test_what_a_model_learned_survives_a_restart(tmp_path: Path) -> None:
    with run_emulator(manual_clock=True, state_dir=tmp_path) as emu:
        headers = {"Authorization": f"Bearer {emu.api_key}"}
        with httpx.Client(base_url=emu.base_url, headers=headers) as client:
            job = train(emu, client, sft(FACTS), **GOOD)
            deployed = deploy(emu, client, job["finetuned_output"])
            before = ask(client, deployed, FACTS[1][1])
    assert before == FACTS[1][2]
    with run_emulator(manual_clock=True, state_dir=tmp_path) as emu:
        headers = {"Authorization": f"Bearer {emu.api_key}"}
        with httpx.Client(base_url=emu.base_url, headers=headers) as client:
            assert ask(client, deployed, FACTS[1][1]) == before
