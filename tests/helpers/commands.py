"""The real `plugin` and `copier` commands, run in subprocesses without a terminal."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

BIN_DIR = Path(sys.executable).parent
COPIER = str(BIN_DIR / "copier")
PLUGIN = str(BIN_DIR / "plugin")


def default_sigint() -> None:
    """A Popen `preexec_fn`: SIGINT as a terminal's child gets it. A test runner started in the
    background (`make test &`) ignores SIGINT, and its children would inherit that."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def run(
    *argv: str,
    cwd: Path,
    stdin: str | None = None,
    env: Mapping[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """A real subprocess with no terminal: stdin is empty (or `stdin`), output captured."""
    return subprocess.run(
        list(argv),
        cwd=cwd,
        input=stdin if stdin is not None else "",
        env=dict(env) if env is not None else None,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def copier_cli(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The real copier command line, in a subprocess."""
    return run(COPIER, *args, cwd=cwd)


def plugin(*args: str) -> tuple[int, str]:
    """Run `plugin` in-process; return the exit code and everything it printed."""
    from typer.testing import CliRunner

    from generator.cli import app

    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output
