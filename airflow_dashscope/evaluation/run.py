"""One evaluation pass: every example answered by every model (and judged), as records.

An example already in the results file (same inputs digest) is taken from it, not asked
again; the rest are asked with bounded concurrency. Records are plain dicts, the lines of
the results file.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import Any

from airflow_dashscope.evaluation.calls import Caller, bounded
from airflow_dashscope.evaluation.examples import Example, Source, iter_examples
from airflow_dashscope.evaluation.judge import JUDGE_PARAMETERS, judge_pair
from airflow_dashscope.evaluation.progress import Progress


class Evaluation:
    """Asks ``models`` (name -> id, in order) about each example of ``source``.

    :param judge: ``(judge model id, the name judged against)``, or None.
    """

    def __init__(
        self,
        caller: Caller,
        models: Mapping[str, str],
        *,
        judge: tuple[str, str] | None = None,
        stored: Mapping[int, dict[str, Any]] | None = None,
    ) -> None:
        self.caller = caller
        self.models = dict(models)
        self.judge = judge
        self.stored = dict(stored or {})
        self.records: dict[int, dict[str, Any]] = {}
        self.reused = 0

    async def run(
        self, source: Source, total: int, limit: int, log: Callable[..., None]
    ) -> list[dict[str, Any]]:
        """Every example's record, in line order (``self.records`` keeps what finished, so
        a failure part way can still write them for the next try)."""
        progress = Progress(total, log)
        async for record in bounded(iter_examples(source), self._record, limit):
            self.records[record["line"]] = record
            progress.advance()
        return [self.records[line] for line in sorted(self.records)]

    async def _record(self, example: Example) -> dict[str, Any]:
        kept = self.stored.get(example.line)
        if kept is not None and self._complete(kept, example):
            self.reused += 1
            return kept
        names = list(self.models)
        answers = await asyncio.gather(
            *(self.caller.answer(self.models[name], example.prompt) for name in names)
        )
        record: dict[str, Any] = {
            "line": example.line,
            "prompt": example.prompt,
            "question": example.question,
            "reference": example.reference,
            "answers": {name: answer.text for name, answer in zip(names, answers, strict=True)},
            "tokens": {
                name: {"input": answer.input_tokens, "output": answer.output_tokens}
                for name, answer in zip(names, answers, strict=True)
            },
            "judge": None,
        }
        if self.judge is not None:
            record["judge"] = await self._judged(example, record["answers"])
        return record

    async def _judged(self, example: Example, answers: Mapping[str, str]) -> dict[str, Any]:
        assert self.judge is not None
        judge_model, against = self.judge
        first = next(iter(self.models))

        async def ask(text: str) -> str:
            prompt = [{"role": "user", "content": text}]
            return (await self.caller.answer(judge_model, prompt, JUDGE_PARAMETERS)).text

        verdict = await judge_pair(
            ask, example.question, example.reference, answers[first], answers[against]
        )
        return {"model": judge_model, "against": against, **verdict}

    def _complete(self, record: Mapping[str, Any], example: Example) -> bool:
        answers = record.get("answers") or {}
        judged = self.judge is None or bool(record.get("judge"))
        return (
            record.get("reference") == example.reference
            and all(name in answers for name in self.models)
            and judged
        )
