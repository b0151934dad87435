"""Helpers shared by the `plugin new` tests: real template repositories and a clean git home.

Holds no tests. Every template is a local git repository built in a temporary directory from
the repository's real copier.yml, so the questions are the real ones and nothing needs the
network.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
BIN_DIR = Path(sys.executable).parent
COPIER = str(BIN_DIR / "copier")
PLUGIN = str(BIN_DIR / "plugin")

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


def commit_all(repo: Path, message: str, tag: str | None = None) -> str:
    """Commit everything in `repo` (optionally tagged); return the commit's hash."""
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "--no-verify", "-m", message)
    if tag:
        git(repo, "tag", tag)
    return git(repo, "rev-parse", "HEAD").strip()


def make_template(root: Path, tree: dict[str, str] | None = None) -> Path:
    """A committed template repository: the real copier.yml and `tree` (default: minimal)."""
    root.mkdir(parents=True)
    git(root, "init", "--quiet", "--initial-branch=main")
    shutil.copy2(REPO_ROOT / "copier.yml", root / "copier.yml")
    write_tree(root / "template", MINIMAL_TREE if tree is None else tree)
    commit_all(root, "Template")
    return root


def copy_real_template(root: Path) -> Path:
    """A committed repository holding the real copier.yml and the real template/ tree."""
    root.mkdir(parents=True)
    git(root, "init", "--quiet", "--initial-branch=main")
    shutil.copy2(REPO_ROOT / "copier.yml", root / "copier.yml")
    shutil.copytree(
        REPO_ROOT / "template",
        root / "template",
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache", ".ruff_cache"),
    )
    commit_all(root, "Template")
    return root


def run(*argv: str, cwd: Path, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """A real subprocess with no terminal: stdin is empty (or `stdin`), output captured."""
    return subprocess.run(
        list(argv),
        cwd=cwd,
        input=stdin if stdin is not None else "",
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def tree_snapshot(root: Path, skip_prefixes: tuple[str, ...] = ()) -> dict[str, str | bytes]:
    """Every file outside .git, as text (minus lines starting with `skip_prefixes`) or bytes."""
    snapshot: dict[str, str | bytes] = {}
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if relative.parts[0] == ".git" or not path.is_file():
            continue
        data = path.read_bytes()
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            snapshot[relative.as_posix()] = data
            continue
        kept = [line for line in text.splitlines() if not line.startswith(skip_prefixes)]
        snapshot[relative.as_posix()] = "\n".join(kept)
    return snapshot


def leftovers(parent: Path) -> list[str]:
    """Names in `parent` that a failed render must not leave behind (staging directories)."""
    return sorted(p.name for p in parent.iterdir() if p.name.endswith(".plugin-new"))


@pytest.fixture
def git_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A home of our own: a known git identity, no user or system git config, no copier settings."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.delenv("COPIER_SETTINGS_PATH", raising=False)
    for role in ("AUTHOR", "COMMITTER"):
        monkeypatch.setenv(f"GIT_{role}_NAME", "Template Tester")
        monkeypatch.setenv(f"GIT_{role}_EMAIL", "tester@example.com")
    monkeypatch.setenv("PATH", f"{BIN_DIR}{os.pathsep}{os.environ.get('PATH', '')}")
    return home


@pytest.fixture
def template_repo(tmp_path: Path, git_home: Path) -> Path:
    """The minimal template with the real questions, committed in its own repository."""
    return make_template(tmp_path / "template-origin")
