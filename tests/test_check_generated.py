"""Every generated auth mode checks clean with `plugin check`, offline and against its server."""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from helpers.rendering import MODES, package_of, project_env, render_template
from typer.testing import CliRunner

from generator.cli import app as cli

# what a project on localhost may show: its auth mode needs an https domain in ChatGPT (U004),
# and the verification token is only known after registering (A004)
LOCAL_ALLOWED = {
    "none": set(),
    "service_http": {"U004", "A004"},
    "user_http": {"U004"},
    "oauth": {"U004", "A004"},
}
# what `export` writes besides the manifest and the OpenAPI document, as `plugin check` lists it
MCP_FILES = {
    "none": ["mcp/tools.json"],
    "service_http": ["mcp/tools.json"],
    "user_http": ["mcp/tools.json"],
    "oauth": [
        ".well-known/oauth-protected-resource.json",
        ".well-known/oauth-authorization-server.json",
        "mcp/tools.json",
    ],
}


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


@pytest.mark.parametrize(
    ("mode", "profile"),
    [
        *((mode, profile) for mode in MODES for profile in ("plugin", "gpt-action")),
        ("none", "chatgpt-app"),
        ("oauth", "chatgpt-app"),
    ],
)
def test_generated_project_checks_clean_offline(
    projects: dict[str, Path], mode: str, profile: str
) -> None:
    before = sorted(p.relative_to(projects[mode]) for p in projects[mode].rglob("*"))
    exit_code, report = check(str(projects[mode]), "--target", profile)
    package = package_of(projects[mode])
    exported = f"the files written by `python -m {package} export`"
    if profile == "chatgpt-app":
        # the app rules read only the MCP files: nothing there is wrong, even on localhost
        assert (exit_code, report["findings"]) == (0, [])
        assert report["checked"] == [exported, *MCP_FILES[mode]]
    else:
        assert found(report) <= LOCAL_ALLOWED[mode], report["findings"]
        assert report["summary"]["errors"] == 0 and exit_code == 0
        plugin_files = [".well-known/ai-plugin.json", "openapi.yaml"]
        assert report["checked"] == [exported, *plugin_files, *MCP_FILES[mode]]
    # the check exported into a temporary directory: the project is left as it was
    assert sorted(p.relative_to(projects[mode]) for p in projects[mode].rglob("*")) == before


def test_summary_says_what_was_checked_in_a_generated_project(
    projects: dict[str, Path],
) -> None:
    package = package_of(projects["none"])
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
    exit_code, report = check(str(project), "--target", "chatgpt-app")
    assert (exit_code, report["findings"]) == (0, [])


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
    package = package_of(project)
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


# -- live: the project served by its own command on loopback ----------------------------------

PUBLIC_HOST = "todo.example.com"
CALLBACK = "https://chatgpt.com/connector_platform_oauth_redirect"
USER, PASSWORD = "alice", "correct horse battery staple"
HIDDEN_INPUT = re.compile(r'<input type="hidden" name="([^"]*)" value="([^"]*)">')
# what the plugin target rightly reports live on loopback: U004 and A004 as offline, and for the
# fixed-credential modes the note that /mcp offers no OAuth discovery (README: "with a note")
LIVE_PLUGIN_FINDINGS = {
    "none": set(),
    "service_http": {"U004", "A004", "L009"},
    "user_http": {"U004", "L009"},
    "oauth": {"U004", "A004"},
}
NO_DISCOVERY_NOTE = (
    "the endpoint needs a token and offers no OAuth discovery, so the OAuth checks were skipped "
    "(MCP clients need a fixed Authorization header)"
)


@dataclass
class Served:
    """A generated project running under its own start command."""

    project: Path
    env: dict[str, str]
    base_url: str  # where it listens
    public_url: str  # its BASE_URL

    def command(self, *args: str) -> str:
        """Run one of the project's own commands (with the server's settings); its stdout."""
        result = subprocess.run(
            [sys.executable, "-m", package_of(self.project), *args],
            cwd=self.project,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        return result.stdout

    def secret(self, name: str) -> str:
        """A secret the project created in its .env on first start."""
        for line in (self.project / ".env").read_text().splitlines():
            key, _, value = line.partition("=")
            if key == name:
                return value
        raise AssertionError(f"{name} is not in the project's .env")


@contextmanager
def running(project: Path, tmp_path: Path, public_url: str | None = None) -> Iterator[Served]:
    """Start the project with its own command on a free loopback port.

    BASE_URL is the loopback URL itself, or `public_url` for a project deployed behind a proxy.
    The project creates its own secrets in .env, as on any first start.
    """
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = {
        **project_env(project),
        "BASE_URL": public_url or base_url,
        "DATABASE_PATH": str(tmp_path / "plugin.db"),
        # the operator adds ChatGPT's callback, as `credentials` says (oauth only)
        "OAUTH_REDIRECT_URIS": CALLBACK,
        # a cheaper password hash than OWASP's, for create-user and the sign-in (oauth only)
        "SCRYPT_N": "1024",
    }
    log_path = tmp_path / "server.log"
    with log_path.open("w") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", package_of(project), "--host", "127.0.0.1", "--port", str(port)],
            cwd=project,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 60
            while True:
                assert server.poll() is None, log_path.read_text()
                try:
                    httpx.get(f"{base_url}/legal", timeout=1)
                    break
                except httpx.TransportError:
                    assert time.monotonic() < deadline, "the generated server did not start"
                    time.sleep(0.1)
            yield Served(project, env, base_url, public_url or base_url)
        finally:
            server.terminate()
            server.wait(10)


def oauth_access_token(served: Served) -> str:
    """An access token for /mcp, got as ChatGPT gets one: the project's sign-in page, then its
    token endpoint, with the pre-registered client of .env, PKCE and `resource`.

    Requests go to the loopback port and carry BASE_URL's host, as a proxy forwards them; the
    CSRF cookie (Secure on an https BASE_URL) is sent back by hand for the same reason.
    """
    served.command("create-user", USER, "--password", PASSWORD)
    client_id = served.secret("OAUTH_CLIENT_ID")
    client_secret = served.secret("OAUTH_CLIENT_SECRET")
    resource = served.public_url + "/mcp"
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    challenge = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    state = secrets.token_urlsafe(12)
    host = {"Host": urlsplit(served.public_url).netloc}
    with httpx.Client(base_url=served.base_url, headers=host, timeout=10) as browser:
        page = browser.get(
            "/oauth/authorize",
            params={
                "response_type": "code",
                "client_id": client_id,
                "redirect_uri": CALLBACK,
                "scope": "todos",
                "state": state,
                "code_challenge": challenge,
                "code_challenge_method": "S256",
                "resource": resource,
            },
        )
        assert page.status_code == 200, page.text
        fields = {html.unescape(k): html.unescape(v) for k, v in HIDDEN_INPUT.findall(page.text)}
        cookie = page.headers["set-cookie"].split(";")[0]
        signed_in = browser.post(
            "/oauth/authorize",
            data={**fields, "username": USER, "password": PASSWORD, "decision": "allow"},
            headers={"Cookie": cookie, "Origin": served.public_url},
        )
        assert signed_in.status_code == 303, signed_in.text
        callback = parse_qs(urlsplit(signed_in.headers["location"]).query)
        assert callback["state"] == [state] and callback["iss"] == [served.public_url]
        answer = browser.post(
            "/oauth/token",
            data={
                "grant_type": "authorization_code",
                "code": callback["code"][0],
                "redirect_uri": CALLBACK,
                "client_id": client_id,
                "client_secret": client_secret,
                "code_verifier": verifier,
                "resource": resource,
            },
        )
    assert answer.status_code == 200, answer.text
    return answer.json()["access_token"]


def credentials_for(mode: str, served: Served) -> list[str]:
    """The `plugin check` options a live check of `mode` needs: a token for /mcp, the client."""
    if mode == "none":
        return []
    if mode == "service_http":
        return ["--mcp-token", served.secret("SERVICE_TOKEN")]
    if mode == "user_http":
        key = served.command("create-user", USER).strip().splitlines()[-1]
        return ["--mcp-token", key]
    client = ["--client-id", served.secret("OAUTH_CLIENT_ID")]
    client += ["--client-secret", served.secret("OAUTH_CLIENT_SECRET")]
    return [*client, "--mcp-token", oauth_access_token(served)]


def discovery_urls(base_url: str) -> list[str]:
    return [
        f"{base_url}/.well-known/oauth-protected-resource/mcp",
        f"{base_url}/.well-known/oauth-authorization-server",
    ]


@pytest.mark.parametrize("mode", MODES)
def test_generated_server_checks_clean_live(
    projects: dict[str, Path], mode: str, tmp_path: Path
) -> None:
    # a copy: starting the server writes the project's .env, and the rendering is shared
    project = shutil.copytree(projects[mode], tmp_path / "project")
    with running(project, tmp_path) as served:
        options = credentials_for(mode, served)
        base_url = served.base_url
        plugin_exit, plugin_report = check(base_url, *options)
        app_exit, app_report = check(base_url, "--target", "chatgpt-app", *options)

    assert found(plugin_report) == LIVE_PLUGIN_FINDINGS[mode], plugin_report["findings"]
    assert plugin_report["summary"]["errors"] == 0 and plugin_exit == 0
    notes = [f["message"] for f in plugin_report["findings"] if f["code"] == "L009"]
    assert all(message == NO_DISCOVERY_NOTE for message in notes), notes
    oauth_urls = discovery_urls(base_url) if mode == "oauth" else []
    assert plugin_report["checked"] == [
        f"{base_url}/.well-known/ai-plugin.json",
        f"{base_url}/openapi.yaml",
        f"{base_url}/logo.png",
        f"{base_url}/mcp",
        *oauth_urls,
    ]
    if mode in ("none", "oauth"):
        assert (app_exit, app_report["findings"]) == (0, [])
    else:
        # ChatGPT signs in to apps only with OAuth: a fixed credential is D002, and only that
        assert [f["code"] for f in app_report["findings"]] == ["D002"]
        assert app_exit == 1
    assert app_report["checked"] == [f"{base_url}/mcp", *oauth_urls]


@pytest.mark.parametrize("mode", ["none", "oauth"])
def test_generated_server_behind_a_proxy_checks_clean_as_a_chatgpt_app(
    projects: dict[str, Path], mode: str, tmp_path: Path
) -> None:
    # deployed: BASE_URL is the public https address, and the checker reaches the loopback port
    # as the proxy does, told the public host with --domain
    project = shutil.copytree(projects[mode], tmp_path / "project")
    with running(project, tmp_path, public_url=f"https://{PUBLIC_HOST}") as served:
        options = credentials_for(mode, served)
        exit_code, report = check(
            served.base_url, "--target", "chatgpt-app", "--domain", PUBLIC_HOST, *options
        )
    assert (exit_code, report["findings"]) == (0, [])
    oauth_urls = discovery_urls(f"https://{PUBLIC_HOST}") if mode == "oauth" else []
    assert report["checked"] == [f"{served.base_url}/mcp", *oauth_urls]


def test_generated_server_with_basic_user_keys_checks_clean_live(tmp_path: Path) -> None:
    # user_http's other way of sending the key: Authorization: Basic <key>
    project = render_template(
        tmp_path / "basic", name="Todo basic", auth="user_http", authorization_type="basic"
    )
    with running(project, tmp_path) as served:
        options = credentials_for("user_http", served)
        exit_code, report = check(served.base_url, *options)
        _, app_report = check(served.base_url, "--target", "chatgpt-app", *options)
    assert found(report) == LIVE_PLUGIN_FINDINGS["user_http"], report["findings"]
    assert exit_code == 0 and f"{served.base_url}/mcp" in report["checked"]
    # as the README says: a Basic challenge is no Bearer one (D001) and leads to no OAuth (D002)
    assert [f["code"] for f in app_report["findings"]] == ["D001", "D002"]
