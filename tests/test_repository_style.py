"""The generator's own code is as clean as the projects it renders: ruff, and no dead code."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from helpers.rendering import MODES, package_of
from helpers.repos import REPO_ROOT

SOURCES = ["generator", "tests", "bench", "hatch_build.py"]
#: Used by a framework, not by our code: typer's root callback, an enum member reached by value.
VULTURE_FRAMEWORK_NAMES = "_root,gpt_action,chatgpt_app"
#: Dead code in rendered projects that the template still has to lose, one per line:
#: `MODE PATH: MESSAGE`. Delete a line when its finding is fixed; never add one.
DEAD_CODE_BASELINE = REPO_ROOT / "tests" / "data" / "dead_code_baseline.txt"


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=cwd, capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize(
    "args", [["check", "--no-cache"], ["format", "--no-cache", "--check"]], ids=["lint", "format"]
)
def test_ruff_is_clean(args: list[str]) -> None:
    done = run("ruff", *args, *SOURCES, cwd=REPO_ROOT)

    assert done.returncode == 0, done.stdout + done.stderr


def test_the_generator_has_no_dead_code_and_no_unused_argument() -> None:
    vulture = run(
        "vulture", "generator", "--min-confidence", "60",
        "--ignore-names", VULTURE_FRAMEWORK_NAMES,
        cwd=REPO_ROOT,
    )  # fmt: skip
    arguments = run("ruff", "check", "--no-cache", "--select", "ARG", "generator", cwd=REPO_ROOT)

    assert vulture.returncode == 0, vulture.stdout + vulture.stderr
    assert arguments.returncode == 0, arguments.stdout + arguments.stderr


def dead_code(project: Path) -> set[str]:
    """vulture's certain findings and ruff's unused arguments, without line numbers."""
    package = package_of(project)
    vulture = run("vulture", "src", "tests", "--min-confidence", "100", cwd=project)
    assert vulture.returncode in (0, 3), vulture.stderr  # 3: dead code was found
    found = set()
    for line in vulture.stdout.splitlines():
        path, _line, message = line.split(":", 2)
        found.add(f"{path}: {message.strip().removesuffix(' (100% confidence)')}")
    ruff = run(
        "ruff", "check", "--no-cache", "--select", "ARG", "--output-format", "json", "src", "tests",
        cwd=project,
    )  # fmt: skip
    for finding in json.loads(ruff.stdout):
        path = Path(finding["filename"]).relative_to(project).as_posix()
        found.add(f"{path}: {finding['code']} {finding['message']}")
    return {finding.replace(f"src/{package}/", "src/<package>/") for finding in found}


def baseline(mode: str) -> set[str]:
    lines = DEAD_CODE_BASELINE.read_text(encoding="utf-8").splitlines()
    return {line.partition(" ")[2] for line in lines if line.startswith(f"{mode} ")}


@pytest.mark.parametrize("mode", MODES)
def test_rendered_projects_lose_their_dead_code(
    rendered_project: Callable[[str], Path], mode: str
) -> None:
    """No new dead code or unused argument in a rendered project; the baseline only shrinks."""
    found = dead_code(rendered_project(mode))
    known = baseline(mode)

    assert found - known == set(), "new dead code or unused arguments"
    assert known - found == set(), f"fixed: delete these lines from {DEAD_CODE_BASELINE.name}"
