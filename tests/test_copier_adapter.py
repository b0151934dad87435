"""generator/_copier.py: the one door to Copier's internals, its version range and its fallbacks."""

from __future__ import annotations

import ast
import os
import sys
import tomllib
from pathlib import Path

import pytest
from helpers.commands import run
from helpers.repos import REPO_ROOT, copy_real_template, git
from helpers.trees import tree_snapshot
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import Version
from typer.testing import CliRunner

from generator import _copier
from generator.cli import app

FLOOR_DIR = Path(sys.prefix) / "copier-floor"


def plugin_new(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["new", *args])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stderr


def copier_internals_imported_by(path: Path) -> set[str]:
    """Copier's private modules (`copier._x`) that the Python file `path` imports."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        else:
            continue
        found |= {name for name in names if name.startswith("copier._")}
    return found


def test_only_the_adapter_imports_copier_internals() -> None:
    generator = REPO_ROOT / "generator"
    importers = {
        path.relative_to(generator).as_posix(): copier_internals_imported_by(path)
        for path in generator.rglob("*.py")
    }
    assert importers.pop("_copier.py")  # the adapter itself does
    assert {path: names for path, names in importers.items() if names} == {}


def test_the_declared_copier_range_is_the_adapters() -> None:
    pyproject = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    copier = next(
        Requirement(line)
        for line in pyproject["project"]["dependencies"]
        if Requirement(line).name == "copier"
    )
    assert copier.specifier == SpecifierSet(_copier.SUPPORTED)
    assert _copier.installed_version() in copier.specifier


@pytest.mark.parametrize("version", ["9.6.0", "10.0.0"])
def test_a_copier_outside_the_range_is_refused_in_one_sentence(
    tmp_path: Path, template_repo: Path, monkeypatch: pytest.MonkeyPatch, version: str
) -> None:
    monkeypatch.setattr(_copier, "installed_version", lambda: version)
    code, err = plugin_new(str(tmp_path / "todo"), "--template", str(template_repo), "-y")
    assert code == 1
    assert err == (
        f"Error: Copier {version} is installed, but plugin needs copier>=9.7,<10: "
        "run pip install 'copier>=9.7,<10'.\n"
    )
    assert not (tmp_path / "todo").exists()


def test_the_public_run_copy_fallback_renders_the_same_project(
    tmp_path: Path, template_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    git(template_repo, "tag", "v1.0.0")
    answers = ["--name", "Fallback", "--auth", "oauth", "--domain", "todo.example.com", "--no-git"]
    assert plugin_new(str(tmp_path / "seeded"), "--template", str(template_repo), *answers) == (
        0,
        "",
    )
    monkeypatch.setattr(_copier, "can_seed", lambda: False)
    assert plugin_new(str(tmp_path / "public"), "--template", str(template_repo), *answers) == (
        0,
        "",
    )
    seeded = tree_snapshot(tmp_path / "seeded")
    assert seeded == tree_snapshot(tmp_path / "public")
    assert "_commit: v1.0.0" in seeded[".copier-answers.yml"]


def floor_version() -> Version:
    """The oldest Copier the adapter (and so pyproject.toml) admits."""
    (low,) = [spec for spec in SpecifierSet(_copier.SUPPORTED) if spec.operator == ">="]
    return Version(low.version)


def test_plugin_new_on_the_oldest_supported_copier_equals_its_copier_copy(
    tmp_path: Path, git_home: Path
) -> None:
    """The floor of the range, for real: Copier 9.7 (installed by make beside .venv) renders."""
    floor = floor_version()
    installed = [Version(p.name[7:-10]) for p in FLOOR_DIR.glob("copier-*.dist-info")]
    assert installed == [floor], f"Copier {floor} is not in {FLOOR_DIR}: run make .venv/.installed"
    env = {**os.environ, "PYTHONPATH": str(FLOOR_DIR)}
    origin = copy_real_template(tmp_path / "template")
    # A tag, and no --vcs-ref: before Copier 9.14, Copier itself picks the tag after cloning.
    git(origin, "tag", "v0.1.0")
    answers = ["--data", "name=Floor Todo", "--data", "auth=service_http"]
    version = run(
        sys.executable, "-c", "import importlib.metadata as m; print(m.version('copier'))",
        cwd=tmp_path, env=env,
    )  # fmt: skip
    ours = run(
        sys.executable, "-m", "generator", "new", str(tmp_path / "ours"), "--template",
        str(origin), "--no-git", "--quiet", *answers,
        cwd=tmp_path, env=env,
    )  # fmt: skip
    theirs = run(
        sys.executable, "-m", "copier", "copy", "--quiet", "--defaults", *answers, str(origin),
        str(tmp_path / "theirs"),
        cwd=tmp_path, env=env,
    )  # fmt: skip
    assert Version(version.stdout.strip()) == floor
    assert (ours.returncode, ours.stderr) == (0, "")
    assert theirs.returncode == 0, theirs.stderr
    snapshot = tree_snapshot(tmp_path / "ours")
    assert snapshot == tree_snapshot(tmp_path / "theirs")
    assert "_commit: v0.1.0" in snapshot[".copier-answers.yml"]
