"""The fixtures of the generator's tests; helpers (plain functions) live in tests/helpers/."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from helpers.commands import BIN_DIR
from helpers.postgres import PostgresNotInstalled, PostgresServer
from helpers.rendering import MODES, answers_for, render_template
from helpers.repos import REPO_ROOT, make_template
from helpers.small_template import generate, make_v1, make_v2, owner_edits

from generator.answers import Questionnaire


@pytest.fixture
def git_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A home of our own: a known git identity, no user or system git config, no copier settings.

    The per-user template store (~/.local/share/chatgpt-plugin-generator) is in this home too.
    """
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


@pytest.fixture
def questionnaire(template_repo: Path) -> Iterator[Questionnaire]:
    """The questions of `template_repo`, with `plugin new`'s flags named in its messages."""
    from generator.new import flag_hint
    from generator.render import open_template
    from generator.template_source import TemplateSource

    with open_template(TemplateSource(str(template_repo))) as opened:
        yield Questionnaire.from_worker(opened.worker(), hint=flag_hint)


@pytest.fixture(scope="session")
def template_snapshot(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """copier.yml and template/ copied outside git: fast to render many times."""
    root = tmp_path_factory.mktemp("template-snapshot")
    shutil.copy2(REPO_ROOT / "copier.yml", root / "copier.yml")
    shutil.copytree(REPO_ROOT / "template", root / "template")
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


@pytest.fixture
def edited_small_project(tmp_path: Path, git_home: Path) -> tuple[Path, Path]:
    """A project of the small v1 template with its owner's edits committed; origin at v2."""
    origin = make_v1(tmp_path / "origin")
    project = generate(origin, tmp_path / "project")
    owner_edits(project)
    make_v2(origin)
    return origin, project


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """A throwaway PostgreSQL server, one per test process (so one per xdist worker).

    Tests take a database of their own with `postgres.create_database()`. A test may stop or
    restart the server, and must leave it running. Without PostgreSQL installed this fails (CI
    installs it), it never skips.
    """
    try:
        server = PostgresServer()
    except PostgresNotInstalled as error:
        pytest.fail(str(error), pytrace=False)
    with server:
        yield server
