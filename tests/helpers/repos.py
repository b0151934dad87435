"""Git repositories for tests: real templates and projects, built in temporary directories."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]

#: A small template tree: the answers file and the package directory, like the real template.
MINIMAL_TREE = {
    "{{ _copier_conf.answers_file }}.jinja": (
        "# Changes here will be overwritten by Copier\n{{ _copier_answers|to_nice_yaml -}}\n"
    ),
    "src/{{ package_name }}/__init__.py.jinja": '"""{{ description }}"""\n',
    "README.md.jinja": "# {{ name }}\n\nServed at {{ base_url }} with auth {{ auth }}.\n",
    "{% if auth == 'oauth' %}oauth.txt{% endif %}.jinja": "scope={{ oauth_scope }}\n",
}


def git(cwd: Path, *args: str) -> str:
    """Run git in `cwd`, fail the test on a non-zero exit, return stdout."""
    result = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)
    assert result.returncode == 0, f"git {' '.join(args)} failed: {result.stderr}"
    return result.stdout


def write_tree(root: Path, files: dict[str, str]) -> None:
    """Create each relative path under `root` with the given text."""
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def init_repo(path: Path) -> Path:
    """An empty git repository on branch main."""
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "--quiet", "--initial-branch=main")
    return path


def commit_all(repo: Path, message: str, tag: str | None = None) -> str:
    """Commit everything in `repo` (optionally tagged); return the commit's hash."""
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "--no-verify", "-m", message)
    if tag:
        git(repo, "tag", tag)
    return git(repo, "rev-parse", "HEAD").strip()


def make_template(root: Path, tree: dict[str, str] | None = None) -> Path:
    """A committed template repository: the real copier.yml and `tree` (default: minimal)."""
    init_repo(root)
    shutil.copy2(REPO_ROOT / "copier.yml", root / "copier.yml")
    write_tree(root / "template", MINIMAL_TREE if tree is None else tree)
    commit_all(root, "Template")
    return root


def copy_real_template(
    root: Path, *, edit: Callable[[Path], None] | None = None, commit: bool = True
) -> Path:
    """A git repository holding the real copier.yml and template/ (committed unless `commit`).

    `edit(root)` runs before the commit, to change the copy (make it slow, add a broken file).
    """
    init_repo(root)
    shutil.copy2(REPO_ROOT / "copier.yml", root / "copier.yml")
    shutil.copytree(
        REPO_ROOT / "template",
        root / "template",
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache", ".ruff_cache"),
    )
    if edit is not None:
        edit(root)
    if commit:
        commit_all(root, "Template")
    return root
