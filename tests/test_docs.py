"""The documentation site: it builds in strict mode (a broken link, anchor or API reference
fails), its copy-paste DAGs parse, and it covers every connection field, option and class."""

from __future__ import annotations

import ast
import dataclasses
import os
import re
import runpy
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

import airflow_dashscope.operators as operators
import airflow_dashscope.sensors as sensors
from airflow_dashscope.client.config import REGION_ALIASES, REGION_ROOTS
from airflow_dashscope.emulator.runner import RunningEmulator
from airflow_dashscope.emulator.settings import Settings
from airflow_dashscope.get_provider_info import CONFIG, CONN_FIELDS
from airflow_dashscope.lineage import assets

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
MKDOCS = Path(sys.executable).parent / "mkdocs"

needs_mkdocs = pytest.mark.skipif(not MKDOCS.exists(), reason="the docs extra is not installed")


def build(config: Path, site: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(MKDOCS), "build", "--strict", "--config-file", str(config), "--site-dir", str(site)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        timeout=600,
    )


@needs_mkdocs
def test_the_site_builds_in_strict_mode(tmp_path: Path) -> None:
    done = build(ROOT / "mkdocs.yml", tmp_path / "site")
    assert done.returncode == 0, done.stderr[-4000:]
    reference = (tmp_path / "site" / "reference" / "operators.html").read_text()
    # The API reference is generated from the docstrings.
    assert "Start a fine-tune job on Model Studio" in reference
    # Every link between pages names a file, so the site works opened from disk (file://).
    index = (tmp_path / "site" / "index.html").read_text()
    links = re.findall(r'href="([^"#:]+)"', index)
    pages = [link for link in links if not link.endswith((".css", ".js", ".png", ".svg", "/."))]
    assert "quickstart.html" in pages
    for link in pages:
        assert not link.endswith("/"), f"{link} would open a directory listing from disk"
        assert (tmp_path / "site" / link).is_file(), link


@needs_mkdocs
@pytest.mark.slow
def test_a_broken_link_fails_the_build(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    shutil.copytree(DOCS, docs)
    with (docs / "index.md").open("a") as page:
        page.write("\nSee [the missing page](missing.md).\n")
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text())
    config["docs_dir"] = str(docs)
    config["plugins"][1]["mkdocstrings"]["handlers"]["python"]["paths"] = [str(ROOT)]
    config["markdown_extensions"][-1]["pymdownx.snippets"]["base_path"] = [str(ROOT)]
    broken = tmp_path / "mkdocs.yml"
    broken.write_text(yaml.safe_dump(config))
    done = build(broken, tmp_path / "site")
    assert done.returncode != 0
    assert "missing.md" in done.stderr


def dag_examples() -> list[tuple[str, str]]:
    found = []
    for page in sorted(DOCS.rglob("*.md")):
        for block in re.findall(r"```python\n(.*?)```", page.read_text(), flags=re.S):
            if "with DAG(" in block:
                found.append((str(page.relative_to(DOCS)), block))
    return found


@pytest.mark.parametrize(("page", "source"), dag_examples(), ids=lambda v: str(v)[:30])
def test_copy_paste_dags_parse(page: str, source: str, tmp_path: Path) -> None:
    path = tmp_path / "example.py"
    path.write_text(source)
    dag = runpy.run_path(str(path))["dag"]
    assert dag.task_ids, page


def python_blocks() -> list[tuple[str, str]]:
    pages = [*sorted(DOCS.rglob("*.md")), ROOT / "README.md"]
    return [
        (str(page.relative_to(ROOT)), block)
        for page in pages
        for block in re.findall(r"```python\n(.*?)```", page.read_text(), flags=re.S)
    ]


@pytest.mark.parametrize(("page", "source"), python_blocks(), ids=lambda v: str(v)[:30])
def test_every_python_snippet_parses(page: str, source: str) -> None:
    ast.parse(source, filename=page)


def test_the_pages_name_only_aliases_that_exist() -> None:
    text = "\n".join(p.read_text() for p in [*DOCS.rglob("*.md"), ROOT / "README.md"])
    for name in set(re.findall(r"\b([A-Z]+_ALIAS)\b", text)):
        assert hasattr(assets, name), (
            f"the docs name {name}, which airflow_dashscope.lineage.assets lacks"
        )
    for alias in (assets.TRAINED_ALIAS, assets.EXPORTED_ALIAS, assets.DEPLOYMENTS_ALIAS):
        assert f"`{alias.name}`" in (DOCS / "assets-lineage.md").read_text(), alias.name


def test_the_connection_page_lists_every_region() -> None:
    connection = (DOCS / "connection.md").read_text()
    for name in [*REGION_ROOTS.values(), *REGION_ALIASES]:
        assert f"`{name}`" in connection, name


def test_the_emulator_page_covers_every_setting_and_control() -> None:
    emulator = (DOCS / "emulator.md").read_text()
    for field in dataclasses.fields(Settings):
        assert f"`{field.name}`" in emulator, f"emulator setting {field.name} is undocumented"
    controls = {
        name
        for name, member in vars(RunningEmulator).items()
        if callable(member) and not name.startswith("_")
    }
    for name in controls:
        assert f"`{name}(" in emulator, f"RunningEmulator.{name} is undocumented"


def test_every_operator_family_has_a_page_with_an_example() -> None:
    pages = {page for page, _ in dag_examples()}
    for family in ("files", "fine-tune", "export", "deploy", "invoke", "cleanup"):
        assert f"operators/{family}.md" in pages
    examples = "\n".join(source for _, source in dag_examples())
    for name in operators.__all__:
        assert name in examples, f"{name} has no copy-paste example"


def test_connection_and_configuration_pages_cover_every_field_and_option() -> None:
    connection = (DOCS / "connection.md").read_text()
    for field in CONN_FIELDS:
        assert f"`{field}`" in connection, field
    configuration = (DOCS / "configuration.md").read_text()
    for option in CONFIG["dashscope"]["options"]:
        assert f"`{option}`" in configuration, option


def test_the_api_reference_covers_the_public_classes() -> None:
    reference = "\n".join(p.read_text() for p in (DOCS / "reference").glob("*.md"))
    documented = set(re.findall(r"^::: ([\w.]+)", reference, flags=re.M))
    names = {d.rsplit(".", 1)[-1] for d in documented} | {
        d.rsplit(".", 1)[0].rsplit(".", 1)[-1] for d in documented
    }
    assert "cleanup" in names  # the clean-up operators are documented as a module
    cleanup = {n for n in operators.__all__ if n.startswith(("DashScopeCancel", "DashScopeDelete"))}
    cleanup.add("DashScopeScaleDeploymentOperator")
    for name in set(operators.__all__) - cleanup:
        assert name in names, name
    for name in sensors.__all__:
        if name.endswith("Sensor"):
            assert name in names, name


def test_the_built_site_works_from_disk_and_names_the_real_repository() -> None:
    """Folder URLs show a directory listing under file://; the repository is the declared one."""
    import tomllib

    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text())
    assert config["use_directory_urls"] is False
    urls = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["urls"]
    assert config.get("repo_url") == urls["Source"]
    readme = (ROOT / "README.md").read_text()
    # Search needs a server: the README says how to get one.
    assert "python -m http.server -d site" in readme and "make docs-serve" in readme


def test_the_ui_page_names_the_paths_airflow_serves() -> None:
    """The UI mounts a plugin's views at ``/plugin/<url_route>``, its app at ``url_prefix``."""
    from airflow_dashscope.plugins.plugin import DASHSCOPE_PAGE, FINE_TUNING_TAB, DashScopePlugin

    ui = (DOCS / "ui.md").read_text()
    (app,) = DashScopePlugin.fastapi_apps
    prefix = app["url_prefix"]
    assert f"`/plugin/{DASHSCOPE_PAGE['url_route']}`" in ui
    assert f"/plugin/{FINE_TUNING_TAB['url_route']}`" in ui
    assert f"`{prefix}/{DASHSCOPE_PAGE['href'].removeprefix(prefix.strip('/') + '/')}`" in ui
    routes = {getattr(route, "path", "") for route in app["app"].routes}
    assert "/" not in routes  # the prefix alone is no page: the docs must not send users there
    assert f"under `{prefix}`;" not in ui and f"under `{prefix}`." not in ui
