"""`git init` and the first commit of a new project, so that `copier update` can work on it."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from generator import git
from generator.errors import UserError

#: Used for whichever of name and e-mail git's configuration lacks.
FALLBACK_AUTHOR = ("plugin new", "plugin@localhost")


def require_git() -> None:
    """Fail early, before anything is asked or written, when git is not installed."""
    if shutil.which("git") is None:
        raise UserError(
            "git is not installed: install git, or pass --no-git to create the project "
            "without a repository."
        )


def commit_project(path: Path, message: str) -> None:
    """Make `path` a git repository whose first commit holds every file in it."""
    _run(path, "init", "--quiet")
    _run(path, "add", "--all")
    # useConfigOnly: fail instead of inventing an identity like root@hostname.(none).
    attempt = _commit(path, message, extra_env={})
    if attempt.returncode != 0 and _lacks_identity(attempt.stderr):
        attempt = _commit(path, message, extra_env=_fallback_identity(path))
    if attempt.returncode != 0:
        raise UserError(f"git commit failed in the new project: {git.last_line(attempt.stderr)}")


def _commit(
    path: Path, message: str, extra_env: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    return git.run(
        "-c", "user.useConfigOnly=true", "-c", "commit.gpgsign=false",
        "commit", "--quiet", "--no-verify", "--message", message,
        cwd=path, env=extra_env, check=False,
    )  # fmt: skip


def _lacks_identity(stderr: str) -> bool:
    lowered = stderr.lower()
    return (
        "auto-detection is disabled" in lowered
        or "tell me who you are" in lowered
        or ("empty ident" in lowered)
    )


def _fallback_identity(path: Path) -> dict[str, str]:
    """Environment that fills in only the parts of the identity git's configuration lacks."""
    name = os.environ.get("GIT_AUTHOR_NAME") or _config(path, "user.name") or FALLBACK_AUTHOR[0]
    email = os.environ.get("GIT_AUTHOR_EMAIL") or _config(path, "user.email") or FALLBACK_AUTHOR[1]
    return {
        "GIT_AUTHOR_NAME": name,
        "GIT_AUTHOR_EMAIL": email,
        "GIT_COMMITTER_NAME": os.environ.get("GIT_COMMITTER_NAME") or name,
        "GIT_COMMITTER_EMAIL": os.environ.get("GIT_COMMITTER_EMAIL") or email,
    }


def _config(path: Path, key: str) -> str:
    return git.output("config", "--get", key, cwd=path) or ""


def _run(path: Path, *args: str) -> None:
    result = git.run(*args, cwd=path, check=False)
    if result.returncode != 0:
        raise UserError(f"git {args[0]} failed in the new project: {git.last_line(result.stderr)}")
