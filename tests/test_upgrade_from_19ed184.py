"""The upgrade path: a project rendered from commit 19ed184 (the template before /mcp and the
per-mode modules) takes today's template with `plugin update`, keeps its owner's edit, and
passes its own, new, test suite.

Both template versions come from this repository: 19ed184 from its history (`git archive`),
today's from the working tree, each committed and tagged in a local origin.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
from helpers.commands import copier_cli
from helpers.repos import commit_all, init_repo
from typer.testing import CliRunner

from generator.cli import app

REPO = Path(__file__).resolve().parent.parent
OLD_COMMIT = "19ed184"
PACKAGE = "todo_plus"
OWNER_DEPENDENCY = '    "rich>=13",\n'
OWNER_NOTES = "\n## Our deployment\n\nServed by the ACME team.\n"


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


def project_tests(project: Path) -> subprocess.CompletedProcess[str]:
    plugin_settings = {"BASE_URL", "HOST", "PORT", "DATABASE_PATH", "SERVICE_TOKEN", "SECRET_KEY"}
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in plugin_settings and not key.startswith("OAUTH_")
    }
    env.update(PYTHONPATH=str(project / "src"), PYTHONDONTWRITEBYTECODE="1")
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o", "addopts=-ra"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.mark.parametrize("auth", ["none", "oauth"])
def test_a_19ed184_project_takes_the_update_and_passes_its_tests(
    tmp_path: Path, git_home: Path, auth: str
) -> None:
    origin = old_template(tmp_path / "origin")
    project = tmp_path / "todo-plus"
    made = copier_cli(
        tmp_path, "copy", "--defaults", "--data", "name=Todo Plus", "--data", f"auth={auth}",
        str(origin), str(project),
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    init_repo(project)
    commit_all(project, "Generate the project")
    assert not (project / f"src/{PACKAGE}/mcp_server.py").exists()
    pyproject, readme = project / "pyproject.toml", project / "README.md"
    pyproject.write_text(
        pyproject.read_text().replace(
            "dependencies = [\n", "dependencies = [\n" + OWNER_DEPENDENCY
        ),
        encoding="utf-8",
    )
    readme.write_text(readme.read_text() + OWNER_NOTES, encoding="utf-8")
    commit_all(project, "Owner edits: a dependency, a README section")
    todays_template(origin)

    result = CliRunner().invoke(app, ["update", str(project), "--defaults"])

    assert result.exit_code == 0, result.output
    assert OWNER_DEPENDENCY in pyproject.read_text()
    assert '"mcp>=' in pyproject.read_text()
    assert readme.read_text().endswith(OWNER_NOTES)
    assert "## Connect to ChatGPT as an app" in readme.read_text()
    assert (project / f"src/{PACKAGE}/mcp_server.py").is_file()
    assert (project / "tests/test_mcp.py").is_file()
    assert "_commit: v2.0.0" in (project / ".copier-answers.yml").read_text()
    done = project_tests(project)
    summary = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""
    assert done.returncode == 0, done.stdout[-5000:] + done.stderr[-2000:]
    assert "passed" in summary and "skipped" not in summary, summary
