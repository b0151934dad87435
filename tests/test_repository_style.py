"""The generator's own code is as clean as the projects it renders."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
SOURCES = ["generator", "tests", "bench", "hatch_build.py"]


@pytest.mark.parametrize(
    "args", [["check", "--no-cache"], ["format", "--no-cache", "--check"]], ids=["lint", "format"]
)
def test_ruff_is_clean(args: list[str]) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "ruff", *args, *SOURCES],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert done.returncode == 0, done.stdout + done.stderr
