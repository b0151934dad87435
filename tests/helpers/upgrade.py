"""The template at commit 19ed184 (before /mcp and the SQLAlchemy store) as a project's origin,
for the upgrade tests: a project generated from it, then today's template over it."""

from __future__ import annotations

import io
import shutil
import subprocess
import tarfile
from pathlib import Path

from helpers.commands import copier_cli
from helpers.repos import commit_all, init_repo

REPO = Path(__file__).resolve().parent.parent.parent
OLD_COMMIT = "19ed184"
PACKAGE = "todo_plus"


def old_template(origin: Path) -> Path:
    """copier.yml and template/ as they were at OLD_COMMIT, committed and tagged v1.0.0."""
    init_repo(origin)
    archive = subprocess.run(
        ["git", "archive", "--format=tar", OLD_COMMIT, "copier.yml", "template"],
        cwd=REPO,
        capture_output=True,
        check=False,
    )
    assert archive.returncode == 0, archive.stderr.decode()
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(origin, filter="data")
    commit_all(origin, f"Template at {OLD_COMMIT}", tag="v1.0.0")
    return origin


def todays_template(origin: Path) -> None:
    """Replace the origin's template by the working tree's, committed and tagged v2.0.0."""
    shutil.rmtree(origin / "template")
    shutil.copy2(REPO / "copier.yml", origin / "copier.yml")
    shutil.copytree(
        REPO / "template",
        origin / "template",
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache", ".ruff_cache"),
    )
    commit_all(origin, "Today's template", tag="v2.0.0")


def old_project(tmp_path: Path, auth: str) -> tuple[Path, Path]:
    """(origin, project): "Todo Plus" in mode `auth` generated at OLD_COMMIT, committed."""
    origin = old_template(tmp_path / "origin")
    project = tmp_path / "todo-plus"
    made = copier_cli(
        tmp_path, "copy", "--defaults", "--data", "name=Todo Plus", "--data", f"auth={auth}",
        str(origin), str(project),
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    init_repo(project)
    commit_all(project, "Generate the project")
    return origin, project
