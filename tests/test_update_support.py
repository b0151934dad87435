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
