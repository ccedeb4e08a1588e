"""The smoke test a promotion runs on the new deployment before it takes the slot, and what a
promotion reads from the evaluation that justified it. Pure, except :func:`run_smoke_test`
(which only calls the model)."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from airflow_dashscope.exceptions import DashScopeFatalError, InvalidRequestError

if TYPE_CHECKING:
    from airflow_dashscope.client import DashScopeClient

#: Deterministic decoding: the same deployment answers a prompt the same way every time, so a
#: failed check is the model's answer, not a dice roll (``temperature`` must be a float).
SMOKE_PARAMETERS: dict[str, Any] = {
    "result_format": "message",
    "temperature": 0.0,
    "top_k": 1,
    "seed": 1234,
    "max_tokens": 256,
}
#: How much of an answer a message or a result quotes.
QUOTE = 300

Expect = str | re.Pattern[str] | Callable[[str], bool] | None
Messages = list[dict[str, Any]]


def smoke_prompts(smoke_test: Any) -> list[Messages]:
    """The prompts to send: ``smoke_test`` is one prompt (a string, or a list of chat
    messages) or a list of prompts; errors name the prompt and the field to fix."""
    if isinstance(smoke_test, str) or (
        isinstance(smoke_test, Sequence)
        and smoke_test
        and all(isinstance(item, Mapping) for item in smoke_test)
    ):
        smoke_test = [smoke_test]
    if not isinstance(smoke_test, Sequence) or isinstance(smoke_test, str) or not smoke_test:
        raise InvalidRequestError(
            "smoke_test needs at least one prompt: a string, a list of chat messages "
            f'([{{"role": "user", "content": "..."}}]) or a list of those, got {smoke_test!r}'
        )
    return [_prompt(number, item) for number, item in enumerate(smoke_test, start=1)]


def _prompt(number: int, item: Any) -> Messages:
    if isinstance(item, str) and item.strip():
        return [{"role": "user", "content": item}]
    if not isinstance(item, Sequence) or isinstance(item, str) or not item:
        raise InvalidRequestError(
            f"smoke_test prompt {number}: give a non-empty string or a list of chat messages, "
            f"got {item!r}"
        )
    for index, message in enumerate(item):
        if (
            not isinstance(message, Mapping)
            or message.get("role") not in ("system", "user", "assistant")
            or not isinstance(message.get("content"), str)
        ):
            raise InvalidRequestError(
                f"smoke_test prompt {number}, message {index}: each message needs a role "
                f'(system, user or assistant) and a text content, e.g. {{"role": "user", '
                f'"content": "Hello?"}}; got {message!r}'
            )
    return [dict(message) for message in item]


def passes(expect: Expect, answer: str) -> bool:
    """Does ``answer`` pass the check? No check: any non-empty answer does."""
    if expect is None:
        return bool(answer.strip())
    if isinstance(expect, str):
        return expect in answer
    if isinstance(expect, re.Pattern):
        return expect.search(answer) is not None
    return bool(expect(answer))


def describe(expect: Expect) -> str:
    if expect is None:
        return "a non-empty answer"
    if isinstance(expect, str):
        return f"an answer containing {expect!r}"
    if isinstance(expect, re.Pattern):
        return f"an answer matching /{expect.pattern}/"
    return f"an answer accepted by {getattr(expect, '__name__', repr(expect))}"


@dataclass
class SmokeResult:
    """The answers so far, and the first failure (a prompt number and why)."""

    answers: list[str] = field(default_factory=list)
    failure: str | None = None
    #: The client error that ended the test, if one did (its ``retryable`` decides the task's).
    error: Exception | None = None

    @property
    def passed(self) -> bool:
        return self.failure is None

    def summary(self) -> dict[str, Any]:
        """The ``smoke_test`` of the task's return value (answers quoted, JSON-small)."""
        return {"passed": self.passed, "answers": [a[:QUOTE] for a in self.answers]}


def run_smoke_test(
    client: DashScopeClient,
    deployed_model: str,
    prompts: Sequence[Messages],
    expect: Expect,
    parameters: Mapping[str, Any] | None = None,
) -> SmokeResult:
    """Ask ``deployed_model`` each prompt in turn; stop at the first error or failed check."""
    from airflow_dashscope.client.errors import DashScopeError

    result = SmokeResult()
    asked = {**SMOKE_PARAMETERS, **(parameters or {})}
    for number, messages in enumerate(prompts, start=1):
        question = str(messages[-1].get("content", ""))[:QUOTE]
        try:
            answer = client.generate(deployed_model, messages=messages, parameters=asked).text
        except DashScopeError as error:
            result.failure = f"prompt {number} ({question!r}) failed: {error}"
            result.error = error
            return result
        result.answers.append(answer or "")
        if not passes(expect, answer or ""):
            result.failure = (
                f"prompt {number} ({question!r}) was answered {answer[:QUOTE]!r}, "
                f"expected {describe(expect)}"
            )
            return result
    return result


# --- the evaluation that justified the promotion ---------------------------------------------


def gate_failure(evaluation: Any) -> str | None:
    """Why the evaluation forbids the promotion (its gate did not pass), else None. An
    evaluation without a gate allows it; something that is no evaluation is an error."""
    if evaluation is None:
        return None
    if not isinstance(evaluation, Mapping):
        raise InvalidRequestError(
            "evaluation must be an evaluation task's return value (a dict with 'gate', "
            f"'scores'...), e.g. evaluation=evaluate.output; got {type(evaluation).__name__}"
        )
    gate = evaluation.get("gate")
    if isinstance(gate, Mapping) and gate.get("passed") is False:
        return str(gate.get("why") or gate.get("rule") or "the evaluation's gate did not pass")
    return None


def evaluation_extra(evaluation: Mapping[str, Any] | None) -> dict[str, Any]:
    """The evaluation's figures an asset event carries (JSON-small): the first model's
    scores, the comparison, the gate, the number of examples and where the results are."""
    if not evaluation:
        return {}
    scores = evaluation.get("scores") or {}
    models = evaluation.get("models")
    names = list(models) if isinstance(models, Mapping) else list(scores)
    first = names[0] if names else None
    return {
        "evaluated_as": first,
        "scores": scores.get(first) if first is not None else None,
        "comparison": evaluation.get("comparison"),
        "gate": evaluation.get("gate"),
        "examples": evaluation.get("examples"),
        "results_path": evaluation.get("results_path"),
    }


class SmokeTestFailedError(DashScopeFatalError):
    """The new deployment answered a smoke test prompt wrongly: decoding is deterministic,
    so the same model fails again (the message quotes the answer)."""
