"""The generator's own code is as clean as the projects it renders: ruff, and no dead code."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from helpers.rendering import MODES, answers_for, render_template
from helpers.repos import REPO_ROOT

SOURCES = ["generator", "tests", "bench", "hatch_build.py"]
#: Used by a framework, not by our code: typer's root callback, an enum member reached by value.
VULTURE_FRAMEWORK_NAMES = "_root,gpt_action,chatgpt_app"


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


def _variants() -> dict[str, dict[str, object]]:
    """{id: answers} of every kind of rendered project: each auth mode (user_http with both ways
    of sending the key), with the MCP endpoint and without it."""
    variants = {}
    for mode in MODES:
        for authorization_type in ("bearer", "basic") if mode == "user_http" else (None,):
            for mcp in (True, False):
                answers: dict[str, object] = {**answers_for(mode), "mcp": mcp}
                kind = [mode, "mcp" if mcp else "no-mcp"]
                if authorization_type is not None:
                    answers["authorization_type"] = authorization_type
                    kind.insert(1, authorization_type)
                variants["-".join(kind)] = answers
    return variants


VARIANTS = _variants()


@pytest.mark.parametrize("answers", VARIANTS.values(), ids=VARIANTS.keys())
def test_rendered_projects_have_no_dead_code_and_no_unused_argument(
    template_snapshot: Path, tmp_path: Path, answers: dict[str, object]
) -> None:
    project = render_template(tmp_path / "project", template_snapshot, **answers)

    vulture = run("vulture", "src", "tests", "--min-confidence", "100", cwd=project)
    arguments = run(
        "ruff", "check", "--no-cache", "--select", "ARG", "--output-format", "concise",
        "src", "tests",
        cwd=project,
    )  # fmt: skip

    assert vulture.returncode == 0, vulture.stdout + vulture.stderr
    assert arguments.returncode == 0, arguments.stdout + arguments.stderr
