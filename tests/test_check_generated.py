"""Every generated auth mode checks clean with `plugin check`, offline and against its server."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from helpers.rendering import MODES, render_template
from typer.testing import CliRunner

from generator.cli import app as cli

REPO = Path(__file__).resolve().parents[1]
# what a project on localhost may show: its auth mode needs an https domain in ChatGPT (U004),
# and the verification token is only known after registering (A004)
LOCAL_ALLOWED = {
    "none": set(),
    "service_http": {"U004", "A004"},
    "user_http": {"U004"},
    "oauth": {"U004", "A004"},
}
CLIENT_ID, CLIENT_SECRET = "check-client-id", "check-client-secret-value"


@pytest.fixture(scope="session")
def projects(rendered_projects: dict[str, Path]) -> dict[str, Path]:
    """The repository's projects, rendered once per session (tests/conftest.py)."""
    return rendered_projects


def check(*args: str) -> tuple[int, dict]:
    result = CliRunner().invoke(cli, ["check", *args, "--json"])
    assert result.exit_code in (0, 1), result.output
    return result.exit_code, json.loads(result.output)


def found(report: dict) -> set[str]:
    return {finding["code"] for finding in report["findings"]}


@pytest.mark.parametrize("profile", ["plugin", "gpt-action"])
@pytest.mark.parametrize("mode", MODES)
def test_generated_project_checks_clean_offline(
    projects: dict[str, Path], mode: str, profile: str
) -> None:
    before = sorted(p.relative_to(projects[mode]) for p in projects[mode].rglob("*"))
    exit_code, report = check(str(projects[mode]), "--target", profile)
    assert found(report) <= LOCAL_ALLOWED[mode], report["findings"]
    assert report["summary"]["errors"] == 0 and exit_code == 0
    assert len(report["checked"]) == 3  # the export, the manifest and the OpenAPI document
    # the check exported into a temporary directory: the project is left as it was
    assert sorted(p.relative_to(projects[mode]) for p in projects[mode].rglob("*")) == before


def test_summary_says_what_was_checked_in_a_generated_project(
    projects: dict[str, Path],
) -> None:
    package = next(
        p.name for p in (projects["none"] / "src").iterdir() if (p / "__init__.py").is_file()
    )
    result = CliRunner().invoke(cli, ["check", str(projects["none"])])
    assert result.output == (
        f"{projects['none']}: 0 errors, 0 warnings, 0 notes (plugin "
        f"rules, on what `python -m {package} export` writes).\n"
    )
    _, report = check(str(projects["none"]))
    assert report["exported_by"] == f"python -m {package} export"


def test_generated_project_on_an_https_domain_has_nothing_to_fix(tmp_path: Path) -> None:
    project = render_template(
        tmp_path / "remote", name="Remote Todo", auth="oauth", domain="todo.example.com"
    )
    exit_code, report = check(str(project))
    assert found(report) == {"A004"}  # the token ChatGPT shows after registration
    assert exit_code == 0


def _fake_venv(project: Path, *python_options: str) -> None:
    """Give `project` a .venv/bin/python that runs this interpreter with `python_options`."""
    python = project / ".venv" / "bin" / "python"
    python.parent.mkdir(parents=True)
    options = " ".join(python_options)
    python.write_text(f'#!/bin/sh\nexec "{sys.executable}" {options} "$@"\n')
    python.chmod(0o755)


def test_a_relative_project_path_finds_the_projects_venv(
    projects: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = shutil.copytree(projects["none"], tmp_path / "my-plugin")
    _fake_venv(project)
    monkeypatch.chdir(tmp_path)

    result = CliRunner().invoke(cli, ["check", "my-plugin"])

    assert result.exit_code == 0, result.output
    assert "my-plugin: 0 errors" in result.output


def test_missing_project_dependencies_say_how_to_install_them(
    projects: dict[str, Path], tmp_path: Path
) -> None:
    project = shutil.copytree(projects["none"], tmp_path / "my-plugin")
    _fake_venv(project, "-S")  # -S: no site-packages, so no fastapi

    result = CliRunner().invoke(cli, ["check", str(project)])

    assert result.exit_code == 2
    assert "needs the project's dependencies, which its .venv lacks" in result.output
    assert "run `make test` in" in result.output


def test_failing_export_is_a_usage_error(projects: dict[str, Path], tmp_path: Path) -> None:
    project = shutil.copytree(projects["none"], tmp_path / "broken")
    package = next(p.name for p in (project / "src").iterdir() if (p / "__init__.py").is_file())
    (project / "src" / package / "__main__.py").write_text(
        "import sys\nsys.exit('the export is broken')\n"
    )
    result = CliRunner().invoke(cli, ["check", str(project)])
    assert result.exit_code == 2
    assert result.output == (
        f"Error: `python -m {package} export` failed in {project}: the export is broken\n"
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def running(project: Path, tmp_path: Path) -> Iterator[str]:
    """Start the project with its own start command on a free port; yield its base URL."""
    package = next(p.name for p in (project / "src").iterdir() if (p / "__init__.py").is_file())
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "PYTHONPATH": str(project / "src"),
        "BASE_URL": base_url,
        "DATABASE_PATH": str(tmp_path / "plugin.db"),
        "OAUTH_CLIENT_ID": CLIENT_ID,
        "OAUTH_CLIENT_SECRET": CLIENT_SECRET,
        "OAUTH_REDIRECT_URIS": "https://chat.openai.com/aip/plugin-1/oauth/callback",
    }
    log = (tmp_path / "server.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", package, "--host", "127.0.0.1", "--port", str(port)],
        cwd=project,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            assert server.poll() is None, (tmp_path / "server.log").read_text()
            try:
                httpx.get(f"{base_url}/.well-known/ai-plugin.json", timeout=1)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "the generated server did not start"
                time.sleep(0.1)
        yield base_url
    finally:
        server.terminate()
        server.wait(10)
        log.close()


@pytest.mark.parametrize("mode", MODES)
def test_generated_server_checks_clean_live(
    projects: dict[str, Path], mode: str, tmp_path: Path
) -> None:
    # a copy: starting the server writes the project's .env, and the rendering is shared
    project = shutil.copytree(projects[mode], tmp_path / "project")
    with running(project, tmp_path) as base_url:
        exit_code, report = check(
            base_url, "--client-id", CLIENT_ID, "--client-secret", CLIENT_SECRET
        )
    assert found(report) <= LOCAL_ALLOWED[mode], report["findings"]
    assert exit_code == 0
    assert report["checked"] == [
        f"{base_url}/.well-known/ai-plugin.json",
        f"{base_url}/openapi.yaml",
        f"{base_url}/logo.png",
    ]
