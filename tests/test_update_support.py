"""Helpers shared by the update tests: real git repositories as template origins.

Holds no tests. Every template origin is a local git repository built in a temporary directory,
so nothing needs the network.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

# The git and file-tree helpers are the ones the `plugin new` tests use.
from test_new_support import BIN_DIR, COPIER, REPO_ROOT, commit_all, git, write_tree
from typer.testing import CliRunner

from generator.cli import app

__all__ = ["BIN_DIR", "COPIER", "REPO_ROOT", "commit_all", "git", "write_tree"]


def init_repo(path: Path) -> Path:
    """An empty git repository on branch main."""
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "--quiet", "--initial-branch=main")
    return path


def copy_real_template(dest: Path) -> Path:
    """Copy the repository's copier.yml and template/ into a new git repository ``dest``."""
    init_repo(dest)
    shutil.copy2(REPO_ROOT / "copier.yml", dest / "copier.yml")
    shutil.copytree(
        REPO_ROOT / "template",
        dest / "template",
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache", ".ruff_cache"),
    )
    return dest


def copier_cli(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The real copier command line, in a subprocess."""
    return subprocess.run(
        [COPIER, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        stdin=subprocess.DEVNULL,
    )


def tree_snapshot(root: Path, skip_lines: tuple[str, ...] = ("_commit:",)) -> dict[str, str]:
    """Every file outside .git as text, minus lines starting with ``skip_lines``."""
    snapshot = {}
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if relative.parts[0] == ".git" or not path.is_file():
            continue
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
        snapshot[relative.as_posix()] = "\n".join(
            line for line in lines if not line.startswith(skip_lines)
        )
    return snapshot


@pytest.fixture
def isolated_git(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A home of our own: git identity, no user git config, per-test template store and cache."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for role in ("AUTHOR", "COMMITTER"):
        monkeypatch.setenv(f"GIT_{role}_NAME", "Template Tester")
        monkeypatch.setenv(f"GIT_{role}_EMAIL", "tester@example.com")
    monkeypatch.setenv("PATH", f"{BIN_DIR}{os.pathsep}{os.environ.get('PATH', '')}")
    return home


# -- a small template, fully controlled, so a test can name the exact lines each side changes --

ANSWERS_TEMPLATE = "{{ _copier_answers | to_nice_yaml -}}\n"

V1_FILES = {
    "copier.yml": (
        "_subdirectory: template\n"
        "_answers_file: .copier-answers.yml\n"
        "_templates_suffix: .jinja\n"
        "name:\n  type: str\n  default: Demo\n"
        "port:\n  type: int\n  default: 5003\n"
    ),
    "template/{{ _copier_conf.answers_file }}.jinja": ANSWERS_TEMPLATE,
    "template/README.md.jinja": (
        "# {{ name }}\n\nRun it with `make run`.\n\n"
        "## Configuration\n\nSet PORT (default {{ port }}).\n"
    ),
    "template/app.py.jinja": (
        '"""{{ name }} service."""\n\nROUTES = ["/todos"]\n\n\ndef todos():\n    return []\n'
    ),
    "template/settings.py.jinja": (
        '"""Settings."""\n\nPORT = {{ port }}\n\n# Logging\nDEBUG = False\n'
    ),
    "template/requirements.txt": "fastapi\nuvicorn\n",
    "template/obsolete.txt": "This file leaves the template in v2.\n",
}

OWNER_ROUTE = '\n\ndef stats():\n    """Owner\'s own route."""\n    return {"count": 0}\n'


def make_v1(origin: Path) -> Path:
    """The template repository at v1.0.0."""
    init_repo(origin)
    write_tree(origin, V1_FILES)
    commit_all(origin, "Template v1", tag="v1.0.0")
    return origin


def make_v2(origin: Path) -> None:
    """v2.0.0: a new file, changed files, a removed file and a new question with a default."""
    copier_yml = origin / "copier.yml"
    copier_yml.write_text(
        copier_yml.read_text() + "license:\n  type: str\n  default: MIT\n", encoding="utf-8"
    )
    readme = origin / "template/README.md.jinja"
    readme.write_text(
        readme.read_text().replace("make run", "make serve") + "\n## License\n\n{{ license }}\n",
        encoding="utf-8",
    )
    app_py = origin / "template/app.py.jinja"
    app_py.write_text(
        app_py.read_text().replace("service.", "service: a todo API."), encoding="utf-8"
    )
    write_tree(origin, {"template/CONTRIBUTING.md.jinja": "How to contribute to {{ name }}.\n"})
    (origin / "template/obsolete.txt").unlink()
    commit_all(origin, "Template v2", tag="v2.0.0")


def generate(origin: Path, dest: Path, *extra: str) -> Path:
    """Render with the real copier CLI, then commit the result as its owner would."""
    result = copier_cli(dest.parent, "copy", "--defaults", *extra, str(origin), str(dest))
    assert result.returncode == 0, result.stderr
    init_repo(dest)
    commit_all(dest, "Generate the project")
    return dest


def owner_edits(project: Path) -> None:
    """What an owner does after generating: a route, README, a setting, a dependency."""
    app_py = project / "app.py"
    app_py.write_text(app_py.read_text() + OWNER_ROUTE, encoding="utf-8")
    readme = project / "README.md"
    readme.write_text(readme.read_text().replace("make run", "make dev"), encoding="utf-8")
    settings = project / "settings.py"
    settings.write_text(
        settings.read_text().replace("PORT = 5003", "PORT = 8080"), encoding="utf-8"
    )
    requirements = project / "requirements.txt"
    requirements.write_text(requirements.read_text() + "httpx\n", encoding="utf-8")
    commit_all(project, "Owner edits")


def plugin(*args: str) -> tuple[int, str]:
    """Run `plugin` in-process; return the exit code and everything it printed."""
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output
