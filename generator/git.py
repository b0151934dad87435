"""The one place that runs git.

Every git command of the generator goes through `run`, so a missing git, a failing command and
its message are handled once. `run(..., check=False)` returns the result for callers that read
the exit status themselves (for example `git cat-file -e`).
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping
from pathlib import Path

from generator.errors import UserError

NOT_INSTALLED = (
    "git is not installed: plugin reads its template from git (even with --no-git); "
    "install git and try again."
)


def run(
    *args: str,
    cwd: Path | str | None = None,
    check: bool = True,
    env: Mapping[str, str] | None = None,
    what: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run `git ARGS` in `cwd` and capture its output as text.

    With `check`, a non-zero exit raises UserError naming the command (`what`, default the git
    subcommand) and git's last line of stderr. `env` is added to the current environment.
    """
    try:
        result = subprocess.run(
            ["git", *args],
            cwd=cwd,
            env={**os.environ, **env} if env else None,
            capture_output=True,
            text=True,
            check=False,
        )
    except FileNotFoundError:
        raise UserError(NOT_INSTALLED) from None
    if check and result.returncode != 0:
        place = f" in {cwd}" if cwd is not None else ""
        raise UserError(
            f"{what or 'git ' + _subcommand(args)} failed{place}: {last_line(result.stderr)}"
        )
    return result


def output(*args: str, cwd: Path | str | None = None) -> str | None:
    """Stripped stdout of `git ARGS`, or None when git fails or is missing."""
    try:
        result = run(*args, cwd=cwd, check=False)
    except UserError:
        return None
    return result.stdout.strip() if result.returncode == 0 else None


def last_line(text: str) -> str:
    """The last non-blank line of git's output: where git says what went wrong."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "no message from git"


def _subcommand(args: tuple[str, ...]) -> str:
    """The subcommand of `args`, skipping global options such as `-C DIR` and `-c KEY=VALUE`."""
    rest = list(args)
    while rest and rest[0] in ("-C", "-c"):
        rest = rest[2:]
    return rest[0] if rest else "git"
