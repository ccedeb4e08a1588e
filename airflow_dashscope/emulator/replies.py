"""What a model answers (no HTTP here): which model serves a call, the reply text, token
estimates, and the SSE frame format.

The base reply is deterministic, names the model that answered and echoes the last user
message, so a test can tell which deployment served it. Base models of the region's catalog
(and the model-unit list) answer directly; a deployment answers only while RUNNING, in its
scope. A deployment of a fine-tuned model answers prompts near its training data with what it
learned (:mod:`.recall`), and everything else as above; a base model asked to compare two
answers judges them (:mod:`.judging`). Decoding is deterministic whatever
``temperature``, ``top_p`` or ``seed`` say (they are accepted and change nothing).
"""

from __future__ import annotations

import json
from typing import Any

from . import catalog
from .clock import estimate_tokens
from .judging import verdict
from .recall import recalled
from .state import JobRecord, Store


def served_base(store: Store, scope: tuple[str, str], model: Any) -> str | None:
    """The base model behind ``model`` if it answers calls in ``scope``, else None."""
    if not isinstance(model, str) or not model:
        return None
    if catalog.serves(scope[0], model):
        return model
    dep = store.deployments.get(model)
    if dep and (dep.region, dep.workspace_id) == scope and dep.status == "RUNNING":
        return dep.base_model
    return None


def serving_job(store: Store, scope: tuple[str, str], model: Any) -> JobRecord | None:
    """The SUCCEEDED job behind a RUNNING deployment ``model`` in ``scope`` (its output or an
    exported checkpoint of it), else None."""
    dep = store.deployments.get(model) if isinstance(model, str) else None
    if dep is None or (dep.region, dep.workspace_id) != scope or dep.status != "RUNNING":
        return None
    job = store.jobs.get(store.models.get(dep.model_name, ""))
    return job if job is not None and job.status == "SUCCEEDED" else None


def answer(store: Store, scope: tuple[str, str], model: str, last_user: str) -> str:
    """What ``model`` says to ``last_user``: a learned answer, else the base reply."""
    with store.lock:
        job = serving_job(store, scope, model)
        learned = recalled(store, job, last_user) if job is not None else None
    if learned is not None:
        return learned
    judged = verdict(model, last_user)
    return judged if judged is not None else reply_for(model, last_user)


def text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(
            str(part.get("text", "")) for part in content if isinstance(part, dict)
        ).strip()
    return "" if content is None else str(content)


def prompt_of(messages: list[Any] | None, prompt: Any) -> tuple[str, int]:
    """(last user text, input token estimate)."""
    if messages:
        dicts = [m for m in messages if isinstance(m, dict)]
        texts = [text_of(m.get("content")) for m in dicts]
        users = [text_of(m.get("content")) for m in dicts if m.get("role") == "user"]
        last = users[-1] if users else (texts[-1] if texts else "")
        return last, sum(estimate_tokens(len(t)) for t in texts) or 1
    text = text_of(prompt)
    return text, estimate_tokens(len(text)) or 1


def reply_for(model: str, last_user: str) -> str:
    echo = last_user.strip().replace("\n", " ")
    if len(echo) > 200:
        echo = echo[:200] + "..."
    return f"Hello from {model} (DashScope emulator). You said: {echo}"


def chunks(text: str, parts: int = 4) -> list[str]:
    """Split into at least ``parts`` pieces (fewer only for very short text)."""
    size = max(1, -(-len(text) // parts))
    return [text[i : i + size] for i in range(0, len(text), size)]


def sse(n: int, payload: dict[str, Any], event: str = "result", status: int = 200) -> str:
    data = json.dumps(payload, ensure_ascii=False)
    return f"id:{n}\nevent:{event}\n:HTTP_STATUS/{status}\ndata:{data}\n\n"
