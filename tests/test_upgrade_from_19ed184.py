"""The upgrade path: a project rendered from commit 19ed184 (the template before /mcp and the
per-mode modules) takes today's template with `plugin update`, keeps its owner's edit, and
passes its own, new, tests.

After the update the project is today's fresh render of the same answers, file for file, but
for the owner's edits. So the suite of the fresh render, which test_generated_projects.py runs
for every mode, is the updated project's suite too; here the tests of what the update brought
(MCP, the database and its migrations, the todos) run in the updated project itself.

Both template versions come from this repository: 19ed184 from its history (`git archive`),
today's from the working tree, each committed and tagged in a local origin.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpers.commands import copier_cli
from helpers.repos import commit_all
from helpers.trees import tree_snapshot
from helpers.upgrade import PACKAGE, old_project, todays_template
from typer.testing import CliRunner

from generator.cli import app

OWNER_DEPENDENCY = '    "rich>=13",\n'
OWNER_NOTES = "\n## Our deployment\n\nServed by the ACME team.\n"


# The updated project's tests of what the update brought.
UPDATED_TESTS = ("tests/test_mcp.py", "tests/test_db.py", "tests/test_todos.py")


def project_tests(project: Path) -> subprocess.CompletedProcess[str]:
    plugin_settings = {"BASE_URL", "HOST", "PORT", "DATABASE_PATH", "SERVICE_TOKEN", "SECRET_KEY"}
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in plugin_settings and not key.startswith("OAUTH_")
    }
    env.update(PYTHONPATH=str(project / "src"), PYTHONDONTWRITEBYTECODE="1")
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o", "addopts=-ra"]
        + list(UPDATED_TESTS),
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
    origin, project = old_project(tmp_path, auth)
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
    fresh = tmp_path / "fresh"
    made = copier_cli(
        tmp_path, "copy", "--defaults", "--vcs-ref", "v2.0.0", "--data", "name=Todo Plus",
        "--data", f"auth={auth}", str(origin), str(fresh),
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    updated, expected = tree_snapshot(project), tree_snapshot(fresh)
    differ = sorted(
        n for n in updated.keys() | expected.keys() if updated.get(n) != expected.get(n)
    )
    assert differ == ["README.md", "pyproject.toml"], differ
    assert readme.read_text() == (fresh / "README.md").read_text() + OWNER_NOTES
    assert pyproject.read_text() == (fresh / "pyproject.toml").read_text().replace(
        "dependencies = [\n", "dependencies = [\n" + OWNER_DEPENDENCY
    )
    done = project_tests(project)
    summary = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""
    assert done.returncode == 0, done.stdout[-5000:] + done.stderr[-2000:]
    assert "passed" in summary and "skipped" not in summary, summary
