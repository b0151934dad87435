"""A rendered project started the documented way, `python -m <package>`, serves the plugin."""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from helpers.rendering import package_of, project_env
from helpers.servers import free_port, serving


def test_none_mode_serves_on_the_default_port_layout(rendered_project, tmp_path: Path) -> None:
    port = free_port()
    with serving(rendered_project("none"), tmp_path, port) as process:
        base = f"http://127.0.0.1:{port}"
        manifest = httpx.get(f"{base}/.well-known/ai-plugin.json").json()
        added = httpx.post(f"{base}/todos", json={"todo": "served"})
        listed = httpx.get(f"{base}/todos").json()
    output = process.stdout.read() if process.stdout else ""

    assert manifest["auth"] == {"type": "none"}
    assert added.status_code == 201
    assert listed == {"todos": [added.json()]}
    assert (tmp_path / "data" / "plugin.db").exists()
    assert not (tmp_path / ".env").exists()
    assert "https domain" not in output


def test_the_default_local_base_url_follows_the_served_port(
    rendered_project, tmp_path: Path
) -> None:
    port = free_port()
    with serving(rendered_project("none"), tmp_path, port):
        manifest = httpx.get(f"http://127.0.0.1:{port}/.well-known/ai-plugin.json").json()

    assert port != 5003
    assert manifest["api"]["url"] == f"http://localhost:{port}/openapi.yaml"
    assert manifest["logo_url"] == f"http://localhost:{port}/logo.png"


def test_export_follows_the_port_setting_too(rendered_project, tmp_path: Path) -> None:
    project = rendered_project("none")
    done = subprocess.run(
        [sys.executable, "-m", package_of(project), "export", str(tmp_path / "out")],
        cwd=tmp_path,
        env={**project_env(project), "PORT": "5013"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    manifest = json.loads((tmp_path / "out/.well-known/ai-plugin.json").read_text())

    assert done.returncode == 0, done.stderr
    assert manifest["api"]["url"] == "http://localhost:5013/openapi.yaml"


def test_a_configured_base_url_is_kept_whatever_the_port(rendered_project, tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("BASE_URL=https://todo.example.com\n")
    port = free_port()
    with serving(rendered_project("none"), tmp_path, port):
        manifest = httpx.get(f"http://127.0.0.1:{port}/.well-known/ai-plugin.json").json()

    assert manifest["api"]["url"] == "https://todo.example.com/openapi.yaml"


@pytest.mark.parametrize("options", [(), ("--no-access-log",)], ids=["logged", "quiet"])
def test_access_log_can_be_turned_off(
    rendered_project, tmp_path: Path, options: tuple[str, ...]
) -> None:
    port = free_port()
    with serving(rendered_project("none"), tmp_path, port, *options) as process:
        httpx.get(f"http://127.0.0.1:{port}/todos")
    output = process.stdout.read() if process.stdout else ""

    assert ('"GET /todos HTTP/1.1" 200' in output) is (not options), output


def test_service_http_creates_its_secret_and_warns_about_localhost(
    rendered_project, tmp_path: Path
) -> None:
    port = free_port()
    with serving(rendered_project("service_http"), tmp_path, port) as process:
        env_file = tmp_path / ".env"
        token = env_file.read_text().split("SERVICE_TOKEN=", 1)[1].split()[0]
        base = f"http://127.0.0.1:{port}"
        good = httpx.get(f"{base}/todos", headers={"Authorization": f"Bearer {token}"})
        bad = httpx.get(f"{base}/todos", headers={"Authorization": f"Bearer {token}x"})
    output = process.stdout.read() if process.stdout else ""

    assert good.status_code == 200
    assert bad.status_code == 401
    assert stat.S_IMODE(os.stat(env_file).st_mode) == 0o600
    assert "ChatGPT accepts the service_http auth mode only on an https domain" in output


@pytest.mark.parametrize("mode", ["user_http", "oauth"])
def test_a_user_made_by_create_user_is_known_to_the_server(
    rendered_project, tmp_path: Path, mode: str
) -> None:
    project = rendered_project(mode)
    argv = [sys.executable, "-m", package_of(project), "create-user", "dana"]
    if mode == "oauth":
        argv += ["--password", "long enough password"]

    created = subprocess.run(
        argv, cwd=tmp_path, env=project_env(project), capture_output=True, text=True, timeout=60
    )

    assert created.returncode == 0, created.stderr
    port = free_port()
    with serving(project, tmp_path, port):
        anonymous = httpx.get(f"http://127.0.0.1:{port}/todos")
        if mode == "user_http":
            key = created.stdout.strip().splitlines()[-1]
            headers = {"Authorization": f"Bearer {key}"}
            assert httpx.get(f"http://127.0.0.1:{port}/todos", headers=headers).status_code == 200
        else:
            page = httpx.get(f"http://127.0.0.1:{port}/oauth/authorize")
            assert page.status_code == 400
    assert anonymous.status_code == 401


def test_serve_on_a_busy_port_says_so_in_one_sentence(rendered_project, tmp_path: Path) -> None:
    project = rendered_project("none")
    package = package_of(project)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", package, "serve", "--port", str(port)],
            cwd=tmp_path,
            env=project_env(project),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        f"Error: Port {port} on 127.0.0.1 is already in use: stop what listens there, or serve "
        f"on another port, e.g. PORT={port + 1} make run, or python -m {package} --port "
        f"{port + 1}."
    ]
