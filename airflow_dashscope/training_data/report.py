"""The outcome of validating one training file: problems found and statistics gathered.

Problems carry file, 1-based line and a field path so a task log points straight at the
offending spot. They are written where to look first, then what is wrong, then (when known)
how to fix it on a line of its own: Airflow's log viewer does not wrap, so the end of one long
line is what a reader never sees. Only the first ``max_problems`` are kept (a broken 300 MB
file must not produce a 300 MB report), but every problem is counted.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

from airflow_dashscope.training_data.tokens import TokenEstimate

Severity = Literal["error", "warning"]

#: How many problems ``TrainingDataError`` lists in its message.
PROBLEMS_IN_EXCEPTION = 10
#: A hint's indent under its problem (itself indented by two in a summary).
HINT_INDENT = "    "


@dataclass(frozen=True, slots=True)
class Problem:
    """One finding. ``line`` is None for file-level findings (e.g. a missing ``data.jsonl``)."""

    file: str
    line: int | None
    field: str
    message: str
    severity: Severity = "error"
    #: How to fix it, when the validator knows ("" otherwise).
    hint: str = ""

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        prefix = "" if self.severity == "error" else "warning: "
        text = f"{where}: {self.field or '<line>'}: {prefix}{self.message}"
        return f"{text}\n{HINT_INDENT}fix: {self.hint}" if self.hint else text

    def to_dict(self) -> dict[str, Any]:
        """The JSON form; ``hint`` only when there is one (the older shape otherwise)."""
        data = asdict(self)
        if not self.hint:
            del data["hint"]
        return data


@dataclass(frozen=True, slots=True)
class DatasetStats:
    """Figures that help predict cost; tokens are an estimate (see ``tokens.py``)."""

    examples: int
    turns: int
    characters: int
    estimated_tokens: int
    max_example_tokens: int
    bytes_read: int
    n_epochs: int | None
    estimated_billed_tokens: int | None
    #: What counted the tokens: Qwen's tokenizer, or the heuristic without it (``tokens.py``).
    counted_by: str = "heuristic"


@dataclass(frozen=True, slots=True)
class ValidationReport:
    file: str
    training_type: str
    problems: tuple[Problem, ...]
    error_count: int
    warning_count: int
    stats: DatasetStats

    @property
    def ok(self) -> bool:
        """True when there are no errors (warnings do not block a job)."""
        return self.error_count == 0

    @property
    def problem_count(self) -> int:
        return self.error_count + self.warning_count

    @property
    def truncated(self) -> bool:
        return self.problem_count > len(self.problems)

    @property
    def errors(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity == "error")

    @property
    def warnings(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity == "warning")

    def raise_if_invalid(self) -> None:
        if not self.ok:
            raise TrainingDataError(self)

    def summary(self) -> str:
        """Lines for a task log: the verdict, the kept problems (what to fix), then figures."""
        s = self.stats
        verdict = "OK" if self.ok else "INVALID"
        lines = [
            f"{self.file} ({self.training_type}): {verdict}, {self.error_count} error(s), "
            f"{self.warning_count} warning(s)",
            *(_indented(p) for p in self.problems),
        ]
        if self.truncated:
            lines.append(f"  ... {self.problem_count - len(self.problems)} more problem(s)")
        lines.append(f"  examples={s.examples} turns={s.turns} characters={s.characters}")
        tokens = (
            f"  estimated_tokens~{s.estimated_tokens} max_example_tokens~{s.max_example_tokens}"
        )
        if s.estimated_billed_tokens is not None:
            tokens += f" billed_tokens~{s.estimated_billed_tokens} (x{s.n_epochs} epochs)"
        lines += [tokens, f"  tokens counted by: {s.counted_by}"]
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["problems"] = [p.to_dict() for p in self.problems]
        data["ok"] = self.ok
        data["problem_count"] = self.problem_count
        return data


def _indented(problem: Problem) -> str:
    """A problem as a summary or an exception lists it: each of its lines indented by two."""
    return "\n".join(f"  {line}" for line in str(problem).splitlines())


class TrainingDataError(ValueError):
    """Raised by ``ValidationReport.raise_if_invalid``; keeps the report for callers."""

    def __init__(self, report: ValidationReport) -> None:
        self.report = report
        shown = report.errors[:PROBLEMS_IN_EXCEPTION]
        lines = [
            f"{report.file}: {report.error_count} error(s) in {report.training_type} "
            f"training data (showing {len(shown)}):"
        ]
        lines.extend(_indented(p) for p in shown)
        super().__init__("\n".join(lines))


class ProblemCollector:
    """Accumulates problems for one file while it streams; the validators write here.

    The current line is held as state (``at_line``) so the per-field checks stay short and
    cheap: they run once per message of a file that may hold millions of them.
    """

    def __init__(self, file: str, max_problems: int) -> None:
        self.name = file
        self.file = file
        self.max_problems = max(0, max_problems)
        self.line: int | None = None
        self.kept: list[Problem] = []
        self.error_count = 0
        self.warning_count = 0

    def at_line(self, line: int | None) -> None:
        self.line = line

    def in_file(self, file: str) -> None:
        """Switch the file named in later problems (a member of a ZIP package)."""
        self.file = file
        self.line = None

    def error(self, field: str, message: str, *, hint: str = "") -> None:
        self.error_count += 1
        self._keep(field, message, "error", hint)

    def warning(self, field: str, message: str, *, hint: str = "") -> None:
        self.warning_count += 1
        self._keep(field, message, "warning", hint)

    def _keep(self, field: str, message: str, severity: Severity, hint: str) -> None:
        if len(self.kept) < self.max_problems:
            self.kept.append(Problem(self.file, self.line, field, message, severity, hint))

    def build(
        self, training_type: str, estimate: TokenEstimate, n_epochs: int | None
    ) -> ValidationReport:
        stats = DatasetStats(
            examples=estimate.examples,
            turns=estimate.turns,
            characters=estimate.characters,
            estimated_tokens=estimate.tokens,
            max_example_tokens=estimate.max_example_tokens,
            bytes_read=estimate.bytes_read,
            n_epochs=n_epochs,
            estimated_billed_tokens=None if n_epochs is None else estimate.tokens * n_epochs,
            counted_by=estimate.counted_by,
        )
        return ValidationReport(
            file=self.name,
            training_type=training_type,
            problems=tuple(self.kept),
            error_count=self.error_count,
            warning_count=self.warning_count,
            stats=stats,
        )


__all__ = [
    "DatasetStats",
    "Problem",
    "ProblemCollector",
    "Severity",
    "TrainingDataError",
    "ValidationReport",
]
