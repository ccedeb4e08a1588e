"""The pages' Python snippets run, not only parse: what a reader copies must work.

Each ```python block runs unless the comment line right above it says otherwise:

- ``<!-- snippet: not run (why) -->``: it cannot run here (a sketch, the real service); the
  reason is required, so a reader sees it too. ``not run (an excerpt of path/to/file.py)``
  is a copy of code: it must still be in that file, verbatim (dedented, to parse alone).
- ``<!-- snippet: pytest ... -->``: one file of a test project, named by its first comment line
  (``# tests/conftest.py``). A page's files are written to a temp dir with the example
  pipeline in ``dags/`` and run by pytest in a fresh process, against the emulator.

Anything else runs as a script, in-process, from an empty directory.
"""

from __future__ import annotations

import os
import re
import runpy
import shutil
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [*sorted((ROOT / "docs").rglob("*.md")), ROOT / "README.md"]
BLOCK = re.compile(
    r"(?:^<!-- snippet: (?P<mark>[^\n]*) -->\n)?^```python\n(?P<source>.*?)^```", re.S | re.M
)
NOT_RUN = re.compile(r"not run \((?P<reason>.+)\)")
EXCERPT = re.compile(r"not run \(an excerpt of (?P<path>[\w/.-]+)\)")
FILE_NAME = re.compile(r"# (?P<name>[\w/.-]+\.py)\b")


@dataclass(frozen=True)
class Snippet:
    page: str
    index: int
    mark: str
    source: str

    @property
    def id(self) -> str:
        return f"{self.page}#{self.index}"


def snippets() -> list[Snippet]:
    return [
        Snippet(str(page.relative_to(ROOT)), index, match["mark"] or "", match["source"])
        for page in PAGES
        for index, match in enumerate(BLOCK.finditer(page.read_text()))
    ]


def scripts() -> list[Snippet]:
    return [s for s in snippets() if not s.mark]


def projects() -> dict[str, list[Snippet]]:
    found: dict[str, list[Snippet]] = {}
    for snippet in snippets():
        if snippet.mark.startswith("pytest"):
            found.setdefault(snippet.page, []).append(snippet)
    return found


def test_every_mark_is_known_and_says_why_a_snippet_does_not_run() -> None:
    for snippet in snippets():
        if snippet.mark.startswith("not run"):
            assert NOT_RUN.fullmatch(snippet.mark), f"{snippet.id}: say why it does not run"
        elif snippet.mark.startswith("pytest"):
            assert FILE_NAME.match(snippet.source), f"{snippet.id}: name the file on line 1"
        else:
            assert not snippet.mark, f"{snippet.id}: unknown mark {snippet.mark!r}"
    # The marks are read: most snippets run, and the test projects are found.
    assert len(scripts()) >= 10 and {"README.md", "docs/emulator.md"} <= set(projects())


@pytest.mark.parametrize(
    "snippet", [s for s in snippets() if EXCERPT.fullmatch(s.mark)], ids=lambda s: s.id
)
def test_an_excerpt_is_still_in_its_file(snippet: Snippet) -> None:
    match = EXCERPT.fullmatch(snippet.mark)
    assert match is not None
    code = (ROOT / match["path"]).read_text()
    # A method or a class attribute is shown dedented, so that it parses on its own.
    indented = [textwrap.indent(snippet.source, " " * n) for n in (0, 4, 8)]
    assert any(text in code for text in indented), (
        f"{snippet.id} no longer matches {match['path']}: update the page"
    )


@pytest.mark.parametrize("snippet", scripts(), ids=lambda s: s.id)
def test_a_python_snippet_runs(
    snippet: Snippet, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    script = tmp_path / "snippet.py"
    script.write_text(snippet.source)
    runpy.run_path(str(script), run_name="__main__")


def write_project(files: list[Snippet], root: Path) -> None:
    """The page's test files, and the example pipeline they test in ``dags/``."""
    dags = root / "dags"
    dags.mkdir(parents=True)
    shutil.copy(ROOT / "example_dags" / "example_dashscope_finetune.py", dags)
    shutil.copytree(ROOT / "example_dags" / "data", dags / "data")
    for snippet in files:
        match = FILE_NAME.match(snippet.source)
        assert match, snippet.id
        path = root / match["name"]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(snippet.source)


def fresh_shell_env() -> dict[str, str]:
    """This session's environment without its Airflow and DashScope settings: a new shell."""
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "DASHSCOPE", "PYTEST"))
    }
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return env


@pytest.mark.slow
@pytest.mark.parametrize("page", sorted(projects()))
def test_a_test_project_passes_under_pytest(page: str, tmp_path: Path) -> None:
    write_project(projects()[page], tmp_path)
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
        cwd=tmp_path,
        env=fresh_shell_env(),
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert " passed" in done.stdout and "failed" not in done.stdout
