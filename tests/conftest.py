"""Shared fixtures: the template rendered once per session for each auth mode."""

from __future__ import annotations

import shutil
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent
MODES = ("none", "service_http", "user_http", "oauth")


def render_template(destination: Path, src: Path | str = REPO, **answers: Any) -> Path:
    """Render the template with `answers` (plus defaults) into `destination` using copier.

    From a git checkout the working tree is rendered (vcs_ref HEAD), uncommitted changes
    included, so the tests always see the template as it is on disk.
    """
    import copier

    vcs_ref = "HEAD" if (Path(src) / ".git").exists() else None
    with warnings.catch_warnings():
        # copier warns that uncommitted template changes are included: that is the point here.
        warnings.simplefilter("ignore")
        copier.run_copy(
            str(src),
            destination,
            data=answers,
            defaults=True,
            quiet=True,
            vcs_ref=vcs_ref,
            unsafe=False,
        )
    return destination


def answers_for(mode: str) -> dict[str, str]:
    """The answers of the session's project of `mode`: defaults except the name and auth."""
    return {"name": f"Todo {mode}"[:20], "auth": mode}


@pytest.fixture(scope="session")
def template_snapshot(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """copier.yml and template/ copied outside git: fast to render many times."""
    root = tmp_path_factory.mktemp("template-snapshot")
    shutil.copy2(REPO / "copier.yml", root / "copier.yml")
    shutil.copytree(REPO / "template", root / "template")
    return root


@pytest.fixture(scope="session")
def rendered_project(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """rendered_project(mode) -> the project rendered for `mode`, once per session.

    Projects use the default domain (localhost:5003); treat them as read-only.
    """
    cache: dict[str, Path] = {}

    def get(mode: str) -> Path:
        if mode not in MODES:
            raise ValueError(f"unknown auth mode {mode!r}; expected one of {MODES}")
        if mode not in cache:
            destination = tmp_path_factory.mktemp(f"rendered-{mode}") / "project"
            cache[mode] = render_template(destination, **answers_for(mode))
        return cache[mode]

    return get


@pytest.fixture(scope="session")
def rendered_projects(rendered_project: Callable[[str], Path]) -> dict[str, Path]:
    """{mode: project directory} for the four auth modes, rendered once per session."""
    return {mode: rendered_project(mode) for mode in MODES}
