"""Each rendered project works: its own tests pass, it exports its documents, ruff is clean."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from helpers.postgres import PostgresServer
from helpers.rendering import MODES, package_of, project_env, render_template
from helpers.repos import REPO_ROOT
from packaging.requirements import Requirement


def run_project_tests(
    project: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """The project's own suite in a subprocess, with `env` added to its environment."""
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o", "addopts=-ra"],
        cwd=project,
        env={**project_env(project), **(env or {})},
        capture_output=True,
        text=True,
        timeout=600,
    )


def assert_suite_passed(done: subprocess.CompletedProcess[str]) -> None:
    summary = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""
    assert done.returncode == 0, done.stdout[-5000:] + done.stderr[-2000:]
    assert re.search(r"\d+ passed", summary), summary
    assert "skipped" not in summary and "xfail" not in summary, summary


# `-ra` lists each skip as "SKIPPED [count] file:line: reason".
SKIP_LINE = re.compile(r"^SKIPPED \[(\d+)\] ([^:]+):\d+: (.*)$", re.MULTILINE)


def assert_passed_skipping_only_sqlite_tests(done: subprocess.CompletedProcess[str]) -> None:
    """Everything passed but the tests about the SQLite file, each skipped saying so."""
    output = done.stdout[-5000:] + done.stderr[-2000:]
    summary = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""
    assert done.returncode == 0, output
    assert re.search(r"\d+ passed", summary), summary
    assert not re.search(r"failed|error|xfail|xpass", summary), summary
    skips = SKIP_LINE.findall(done.stdout)
    # The SQLite-only tests exist in every mode (the file's mode 0600, WAL), so some are skipped.
    assert skips, f"no test was skipped as SQLite-only, so TEST_DATABASE_URL was ignored:\n{output}"
    assert all("sqlite" in reason.lower() for _, _, reason in skips), skips
    skipped = re.search(r"(\d+) skipped", summary)
    assert skipped and int(skipped.group(1)) == sum(int(n) for n, _, _ in skips), summary


@pytest.mark.parametrize("mode", MODES)
def test_the_projects_own_tests_pass(rendered_project, mode: str) -> None:
    assert_suite_passed(run_project_tests(rendered_project(mode)))


# Each variant's own suite runs once: each auth mode's default project on SQLite (above), and
# the other variants below, some of them on PostgreSQL. Every mode runs on PostgreSQL once, as
# one of its variants: the database code is the same in every variant of a mode, and a suite
# run costs about a minute, so running every variant on both engines would double the time for
# nothing the single runs miss.
POSTGRESQL_VARIANTS = {
    "none-without-mcp": {"name": "Plain Todo", "auth": "none", "mcp": False},
    "service_http-without-mcp": {"name": "Plain Todo", "auth": "service_http", "mcp": False},
    "user_http-basic": {"name": "Basic Keys", "auth": "user_http", "authorization_type": "basic"},
    "oauth-https-several-scopes": {
        "name": "Remote Todo",
        "auth": "oauth",
        "domain": "todo.example.com",
        "oauth_scope": "todos:read todos:write",
    },
}
SQLITE_VARIANTS = {
    "user_http-without-mcp": {"name": "Plain Todo", "auth": "user_http", "mcp": False},
    "oauth-without-mcp": {"name": "Plain Todo", "auth": "oauth", "mcp": False},
}


def test_every_mode_runs_on_postgresql_and_every_variant_runs() -> None:
    """The variant tables above keep their promise: no mode misses PostgreSQL, none runs twice."""
    assert sorted(v["auth"] for v in POSTGRESQL_VARIANTS.values()) == sorted(MODES)
    without_mcp = [
        v["auth"]
        for v in (*POSTGRESQL_VARIANTS.values(), *SQLITE_VARIANTS.values())
        if v.get("mcp") is False
    ]
    assert sorted(without_mcp) == sorted(MODES)


@pytest.mark.parametrize("variant", POSTGRESQL_VARIANTS)
def test_the_projects_own_tests_pass_on_postgresql(
    template_snapshot: Path, tmp_path: Path, postgres: PostgresServer, variant: str
) -> None:
    project = render_template(
        tmp_path / "project", src=template_snapshot, **POSTGRESQL_VARIANTS[variant]
    )
    database = postgres.create_database()

    done = run_project_tests(project, {"TEST_DATABASE_URL": postgres.url(database)})

    assert_passed_skipping_only_sqlite_tests(done)
    commits = postgres.psql(
        f"SELECT xact_commit FROM pg_stat_database WHERE datname = '{database}'"
    )
    assert int(commits) > 0, "the suite never committed anything in its PostgreSQL database"
    postgres.drop_database(database)


@pytest.mark.parametrize("variant", SQLITE_VARIANTS)
def test_the_projects_own_tests_pass_in_other_variants(
    template_snapshot: Path, tmp_path: Path, variant: str
) -> None:
    project = render_template(
        tmp_path / "project", src=template_snapshot, **SQLITE_VARIANTS[variant]
    )

    assert_suite_passed(run_project_tests(project))


@pytest.mark.parametrize("mode", MODES)
def test_a_project_without_mcp_is_ruff_clean(
    template_snapshot: Path, tmp_path: Path, mode: str
) -> None:
    project = render_template(
        tmp_path / "plain", src=template_snapshot, name="Plain Todo", auth=mode, mcp=False
    )

    assert_ruff_clean(project)


@pytest.mark.parametrize("mode", MODES)
def test_export_writes_the_documents(rendered_project, mode: str, tmp_path: Path) -> None:
    project = rendered_project(mode)
    before = sorted(project.rglob("*"))

    done = subprocess.run(
        [sys.executable, "-m", package_of(project), "export", str(tmp_path / "out")],
        cwd=project,
        env=project_env(project),
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert done.returncode == 0, done.stderr
    out = tmp_path / "out"
    manifest = json.loads((out / ".well-known" / "ai-plugin.json").read_text(encoding="utf-8"))
    assert manifest["auth"]["type"] == mode
    assert manifest["api"]["url"] == "http://localhost:5003/openapi.yaml"
    assert json.loads((out / "openapi.json").read_text())["servers"] == [
        {"url": "http://localhost:5003"}
    ]
    assert (out / "openapi.yaml").read_text().startswith("openapi: 3.")
    assert (out / "logo.png").read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    # Exporting writes neither secrets nor a database into the project.
    assert sorted(project.rglob("*")) == before


def assert_ruff_clean(project: Path) -> None:
    """ruff finds nothing to report and nothing to reformat in `project`."""
    for args in (["check", "--no-cache", "."], ["format", "--no-cache", "--check", "."]):
        done = subprocess.run(
            [sys.executable, "-m", "ruff", *args],
            cwd=project,
            capture_output=True,
            text=True,
            timeout=120,
        )

        assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("mode", MODES)
def test_ruff_is_clean(rendered_project, mode: str) -> None:
    project = rendered_project(mode)
    assert_ruff_clean(project)


@pytest.mark.parametrize("package", ["aardvark", "bench_todo", "zulu"])
def test_ruff_orders_the_imports_of_any_package_name(
    template_snapshot: Path, tmp_path: Path, package: str
) -> None:
    # The tests import the package and tests/support.py: the order must not hang on the name.
    project = render_template(
        tmp_path / package, src=template_snapshot, name="Todo", auth="oauth", package_name=package
    )
    assert_ruff_clean(project)


@pytest.mark.parametrize("mode", MODES)
def test_ruff_is_clean_with_the_longest_answers(
    template_snapshot: Path, tmp_path: Path, mode: str
) -> None:
    project = render_template(
        tmp_path / "long",
        src=template_snapshot,
        name="N" * 20,
        auth=mode,
        domain="a-rather-long-subdomain.of-an-example-domain.example.com:65535",
        model_name="m" * 50,
        package_name="p" * 50,
        description="d" * 100,
        model_description="x" * 8000,
        contact_email="someone.with.a.long.name@a-rather-long-subdomain.example.com",
    )
    assert_ruff_clean(project)


def _names(requirements: list[str]) -> set[str]:
    return {re.sub(r"[-_.]+", "-", Requirement(r).name).lower() for r in requirements}


def test_the_test_extra_holds_every_rendered_dependency(rendered_projects) -> None:
    root = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    test_extra = _names(root["project"]["optional-dependencies"]["test"])

    for mode, project in rendered_projects.items():
        meta = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))["project"]
        needed = _names(meta["dependencies"]) | _names(meta["optional-dependencies"]["dev"])

        assert needed - test_extra == set(), f"{mode}: add these to the [test] extra"
