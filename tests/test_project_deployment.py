"""What a rendered project ships for deployment: compose.yaml (PostgreSQL and two instances),
and a wheel that carries the migrations. Docker itself is not needed: the compose file is
checked as the YAML document Compose reads."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import yaml
from helpers.rendering import MODES, package_of


@pytest.mark.parametrize("mode", MODES)
def test_compose_runs_postgresql_and_two_instances_on_it(rendered_project, mode: str) -> None:
    project = rendered_project(mode)
    compose = yaml.safe_load((project / "compose.yaml").read_text(encoding="utf-8"))

    services = compose["services"]
    assert set(services) == {"db", "plugin-1", "plugin-2"}
    db = services["db"]
    assert db["image"] == "postgres:17"
    assert "pg_isready" in " ".join(db["healthcheck"]["test"])
    assert db["volumes"] == ["db-data:/var/lib/postgresql/data"]
    assert set(compose["volumes"]) == {"db-data"}
    host_ports = set()
    for name in ("plugin-1", "plugin-2"):
        plugin = services[name]
        assert plugin["build"] == "."
        assert plugin["env_file"] == [{"path": ".env", "required": False}]
        url = plugin["environment"]["DATABASE_URL"]
        assert url.startswith("postgresql://plugin:${POSTGRES_PASSWORD:?")
        assert url.endswith("@db:5432/plugin")
        assert plugin["environment"]["HOST"] == "0.0.0.0"
        assert plugin["depends_on"] == {"db": {"condition": "service_healthy"}}
        (published,) = plugin["ports"]
        assert published.startswith("127.0.0.1:") and published.endswith(":5003")
        host_ports.add(published.split(":")[1])
    assert host_ports == {"5003", "5004"}
    assert (project / "Dockerfile").is_file()


def test_the_wheel_carries_the_migrations(rendered_project, tmp_path: Path) -> None:
    # A copy: the session's rendered projects stay as they were rendered.
    project = shutil.copytree(rendered_project("user_http"), tmp_path / "project")
    package = package_of(project)

    built = subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", "dist"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=300,
    )

    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    (wheel,) = (project / "dist").glob("*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    migrations = f"{package}/migrations"
    assert {
        f"{migrations}/__init__.py",
        f"{migrations}/env.py",
        f"{migrations}/script.py.mako",
        f"{migrations}/versions/0001_initial.py",
    } <= names
