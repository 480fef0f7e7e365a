"""The import contracts in pyproject.toml hold on the source tree, and break on the mistakes
they exist for: a service importing the web framework, a service importing a route."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    """Run lint-imports on the tree under `root` (its pyproject.toml and src/)."""
    if not LINT_IMPORTS.exists():
        pytest.skip("lint-imports is not installed (pip install -e '.[test]')")
    env = {**os.environ, "PYTHONPATH": str(root / "src")}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--no-logo", str(root / "pyproject.toml")],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A copy of the package and its contracts, to break on purpose."""
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    shutil.copytree(
        ROOT / "src" / "hotline",
        tmp_path / "src" / "hotline",
        ignore=shutil.ignore_patterns("__pycache__", "static", "corpus", "*.json", "*.html"),
    )
    return tmp_path


def add_line(module: Path, line: str) -> None:
    module.write_text(module.read_text() + f"\n{line}\n")


def test_the_source_tree_keeps_every_contract() -> None:
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_case_module_importing_fastapi_breaks_the_contracts(tree: Path) -> None:
    # cases/timeline.py is a service module no contract used to name.
    add_line(tree / "src/hotline/cases/timeline.py", "import fastapi  # noqa")
    result = lint_imports(tree)
    assert result.returncode == 1
    assert "hotline.cases.timeline -> fastapi" in result.stdout


def test_a_service_importing_another_domains_route_breaks_the_contracts(tree: Path) -> None:
    add_line(tree / "src/hotline/cases/service.py", "import hotline.contacts.api  # noqa")
    result = lint_imports(tree)
    assert result.returncode == 1
    assert "hotline.cases.service -> hotline.contacts.api" in result.stdout
    # And, through the route, the framework: the chain is reported, not allowed.
    assert "Services, models, the phone line, the job worker and the CLI never load" in (
        result.stdout
    )


def test_a_new_module_importing_the_web_package_breaks_the_contracts(tree: Path) -> None:
    (tree / "src/hotline/cases/notes.py").write_text("from hotline.web.deps import get_state\n")
    result = lint_imports(tree)
    assert result.returncode == 1
    assert "hotline.cases.notes -> hotline.web.deps" in result.stdout


def test_the_phone_configuration_importing_the_line_breaks_the_contracts(tree: Path) -> None:
    add_line(tree / "src/hotline/phoneconfig/validate.py", "import hotline.telephony.hours  # noqa")
    result = lint_imports(tree)
    assert result.returncode == 1
    assert "hotline.phoneconfig.validate -> hotline.telephony.hours" in result.stdout


def test_contacts_importing_cases_breaks_the_contracts(tree: Path) -> None:
    add_line(tree / "src/hotline/contacts/service.py", "import hotline.cases.models  # noqa")
    result = lint_imports(tree)
    assert result.returncode == 1
    assert "hotline.contacts.service -> hotline.cases.models" in result.stdout
