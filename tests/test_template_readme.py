"""A rendered project's README: its "Try it with curl" commands work as written.

Each mode's project is rendered for a loopback port, started as `make run` starts it
(`.venv/bin/python -m <package>` in the project's directory), and the README's shell blocks are
run by bash with the real curl. The one human step, signing in with a browser (oauth), is done
here over HTTP; the code it yields is typed into the README's `CODE=` line.
"""

from __future__ import annotations

import html
import re
import shutil
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from helpers.rendering import package_of, project_env, render_template

pytestmark = pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")

SECTION = "## Try it with curl"
FENCE = re.compile(r"^( *)```sh\n(.*?)^\1```$", re.MULTILINE | re.DOTALL)
HIDDEN_INPUT = re.compile(r'<input type="hidden" name="([^"]*)" value="([^"]*)">')
CODE_LINE = re.compile(r"^CODE='<[^>]*>'$", re.MULTILINE)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def curl_blocks(readme: str) -> list[str]:
    """The shell blocks of the README's curl section, in order, unindented."""
    start = readme.index(SECTION)
    end = readme.find("\n## ", start + len(SECTION))
    section = readme[start : end if end != -1 else None]
    return [textwrap.dedent(body) for _, body in FENCE.findall(section)]


def venv_like_make(project: Path) -> None:
    """`.venv/bin/python` as `make` leaves it: here this interpreter, which has the project's
    dependencies (the project itself comes from src/, on PYTHONPATH)."""
    python = project / ".venv" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
    python.chmod(0o755)


def bash(script: str, project: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@contextmanager
def make_run(project: Path, env: dict[str, str], base_url: str) -> Iterator[None]:
    """The server as `make run` starts it, until the block ends."""
    log = project / "server.log"
    with log.open("w") as output:
        server = subprocess.Popen(
            [".venv/bin/python", "-m", package_of(project)],
            cwd=project,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, log.read_text()
            try:
                httpx.get(f"{base_url}/legal", timeout=1)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "the server did not start"
                time.sleep(0.1)
        yield
    finally:
        server.terminate()
        server.wait(15)


def sign_in(authorize_url: str, user: str, password: str, base_url: str) -> str:
    """What the person does in the browser: sign in at the URL, allow; return the code."""
    with httpx.Client(timeout=10) as browser:
        page = browser.get(authorize_url)
        assert page.status_code == 200, page.text
        fields = {html.unescape(k): html.unescape(v) for k, v in HIDDEN_INPUT.findall(page.text)}
        cookie = page.headers["set-cookie"].split(";")[0]
        signed_in = browser.post(
            f"{base_url}/oauth/authorize",
            data={**fields, "username": user, "password": password, "decision": "allow"},
            headers={"Cookie": cookie, "Origin": base_url},
        )
    assert signed_in.status_code == 303, signed_in.text
    location = urlsplit(signed_in.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == (
        "http://localhost:8976/callback"
    ), "the README's callback URL"
    query = parse_qs(location.query)
    assert query["state"] == ["try-it"]
    return query["code"][0]


@pytest.mark.parametrize(
    ("auth", "extra"),
    [
        ("none", {}),
        ("service_http", {}),
        ("user_http", {"authorization_type": "basic"}),
        ("oauth", {}),
        ("oauth", {"mcp": False}),
    ],
)
def test_the_readmes_curl_commands_work_as_written(
    tmp_path: Path, auth: str, extra: dict[str, object]
) -> None:
    port = free_port()
    base_url = f"http://localhost:{port}"
    project = render_template(
        tmp_path / "project", name="Curl Todo", auth=auth, domain=f"localhost:{port}", **extra
    )
    venv_like_make(project)
    env = {**project_env(project), "SCRYPT_N": "1024"}  # a cheaper password hash (oauth)
    readme = (project / "README.md").read_text(encoding="utf-8")
    blocks = curl_blocks(readme)
    assert blocks, "the README has no curl section"
    assert "python -m" not in re.sub(r"\.venv/bin/python -m", "", "".join(blocks))

    # oauth: the block to run before `make run` (it allows the callback URL in .env)
    before = [block for block in blocks if "OAUTH_REDIRECT_URIS" in block]
    for block in before:
        done = bash(block, project, env)
        assert done.returncode == 0, done.stderr
    rest = "\n".join(block for block in blocks if block not in before)

    with make_run(project, env, base_url):
        if auth == "oauth":
            assert CODE_LINE.search(rest), "the README's placeholder for the code"
            script = CODE_LINE.sub("read -r CODE", rest)
            password = re.search(r"--password '([^']+)'", readme)
            assert password is not None
            process = subprocess.Popen(
                ["bash", "-euo", "pipefail", "-c", script],
                cwd=project,
                env=env,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            assert process.stdout is not None and process.stdin is not None
            url = process.stdout.readline().strip()
            assert url.startswith(f"{base_url}/oauth/authorize?"), url
            process.stdin.write(sign_in(url, "alice", password[1], base_url) + "\n")
            process.stdin.flush()
            out, err = process.communicate(timeout=120)
            returncode = process.returncode
        else:
            done = bash(rest, project, env)
            out, err, returncode = done.stdout, done.stderr, done.returncode
        assert returncode == 0, err
        if auth != "none":  # the credentials really are what lets the calls through
            refused = bash(f"curl -fsS {base_url}/todos", project, env)
            assert refused.returncode == 22 and "401" in refused.stderr

    assert '"openapi":' in out and "openapi: 3" in out  # openapi.json and openapi.yaml
    assert '"name_for_human":"Curl Todo"' in out.replace(": ", ":")
    assert out.count('{"id":1,"todo":"Buy milk"}') == 3, out  # added, listed, deleted
    assert '{"todos":[{"id":1,"todo":"Buy milk"}]}' in out
    if extra.get("mcp", True):
        assert '"name":"listTodos"' in out  # /mcp's tools/list
    else:
        assert "/mcp" not in readme
    assert (project / "logo.png").read_bytes().startswith(b"\x89PNG")
