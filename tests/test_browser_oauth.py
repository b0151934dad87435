"""The OAuth sign-in page of a generated project, in a real headless Chromium.

The oauth project runs with its own start command (`python -m <package>`) on 127.0.0.1. A tiny
local site on another port plays ChatGPT: it owns the redirect URI and hosts a page that tries
to frame the sign-in page. Chromium is Debian's (/usr/bin/chromium), driven by Playwright;
no browser is downloaded. In CI (CI=true) a missing Chromium fails these tests; elsewhere they
are skipped with the reason.
"""

from __future__ import annotations

import contextlib
import html
import os
import secrets
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LOCAL = "127.0.0.1"
CLIENT_ID = "browser-test-client"
CLIENT_SECRET = "browser-test-client-secret-0123456789"
USER, PASSWORD = "alice", "correct horse battery staple"


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind((LOCAL, 0))
        return int(sock.getsockname()[1])


# -- the site that plays ChatGPT ---------------------------------------------------------------


class _ClientSite(BaseHTTPRequestHandler):
    """/callback answers with a plain page; /frame?src=URL&control=URL frames both URLs."""

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        query = parse_qs(url.query)
        if url.path == "/callback":
            body = "<!doctype html><title>callback</title><h1>Back at the client</h1>"
        elif url.path == "/frame":
            target = html.escape(query["src"][0])
            control = html.escape(query["control"][0])
            body = (
                "<!doctype html><title>framing</title>"
                f'<iframe name="target" src="{target}" width="600" height="400"></iframe>'
                f'<iframe name="control" src="{control}" width="600" height="400"></iframe>'
            )
        else:
            self.send_error(404)
            return
        data = body.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base's name
        pass  # keep the test output clean


@pytest.fixture(scope="module")
def client_site() -> Iterator[str]:
    """Base URL of the local page standing in for ChatGPT's callback and a framing page."""
    server = ThreadingHTTPServer((LOCAL, 0), _ClientSite)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://{LOCAL}:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


# -- the generated oauth project ---------------------------------------------------------------


@dataclass
class OAuthPlugin:
    """The running oauth project and the redirect URI it allows."""

    base_url: str
    redirect_uri: str
    package: str

    def authorize_url(self, state: str, scope: str = "todos") -> str:
        """The URL ChatGPT sends the user's browser to."""
        query = {
            "response_type": "code",
            "client_id": CLIENT_ID,
            "redirect_uri": self.redirect_uri,
            "scope": scope,
            "state": state,
        }
        return f"{self.base_url}/oauth/authorize?{urlencode(query)}"


@pytest.fixture(scope="module")
def oauth_plugin(
    rendered_project: Callable[[str], Path],
    client_site: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[OAuthPlugin]:
    """The oauth project served by `python -m <package>` on a free loopback port, one user."""
    project = rendered_project("oauth")
    (package,) = [p.name for p in (project / "src").iterdir() if (p / "__init__.py").is_file()]
    # Run outside the shared rendered project, so that nothing (.env, data/) is written into it.
    workdir = tmp_path_factory.mktemp("browser-oauth")
    port = _free_port()
    base_url = f"http://{LOCAL}:{port}"
    redirect_uri = f"{client_site}/callback"
    env = {
        **os.environ,
        "PYTHONPATH": str(project / "src"),
        "HOST": LOCAL,
        "PORT": str(port),
        "BASE_URL": base_url,
        "DATABASE_PATH": str(workdir / "plugin.db"),
        "OAUTH_CLIENT_ID": CLIENT_ID,
        "OAUTH_CLIENT_SECRET": CLIENT_SECRET,
        "SECRET_KEY": secrets.token_urlsafe(32),
        "OAUTH_REDIRECT_URIS": redirect_uri,
    }
    run = {"cwd": workdir, "env": env, "stdin": subprocess.DEVNULL}
    created = subprocess.run(
        [sys.executable, "-m", package, "create-user", USER, "--password", PASSWORD],
        capture_output=True, text=True, timeout=60, check=False, **run,
    )  # fmt: skip
    assert created.returncode == 0, created.stderr
    log = (workdir / "server.log").open("wb")
    server = subprocess.Popen(
        [sys.executable, "-m", package], stdout=log, stderr=subprocess.STDOUT, **run
    )
    try:
        _wait_for(f"{base_url}/.well-known/ai-plugin.json", server, workdir / "server.log")
        yield OAuthPlugin(base_url, redirect_uri, package)
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


def _wait_for(url: str, server: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"the plugin exited early:\n{log.read_text(errors='replace')}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=1).status_code == 200:
                return
        time.sleep(0.1)
    pytest.fail(f"the plugin did not answer {url} within 30 s")


# -- the browser -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's Chromium, headless, driven by Playwright."""
    if not (Path(CHROMIUM).is_file() or shutil.which(CHROMIUM)):
        message = f"Chromium is not installed at {CHROMIUM}: apt-get install -y chromium"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh page in its own context: no cookies carried from one test to the next."""
    context = browser.new_context()
    context.set_default_timeout(15_000)
    try:
        yield context.new_page()
    finally:
        context.close()


# -- the tests ---------------------------------------------------------------------------------


def test_signing_in_redirects_with_a_code_and_the_original_state(
    page: Any, oauth_plugin: OAuthPlugin
) -> None:
    state = secrets.token_urlsafe(16)
    page.goto(oauth_plugin.authorize_url(state))
    assert page.title().startswith("Sign in to")
    page.fill("#username", USER)
    page.fill("#password", PASSWORD)
    with page.expect_navigation(url=f"{oauth_plugin.redirect_uri}?*"):
        page.click("button[value=allow]")

    assert page.inner_text("h1") == "Back at the client"
    landed = urlsplit(page.url)
    assert f"{landed.scheme}://{landed.netloc}{landed.path}" == oauth_plugin.redirect_uri
    params = parse_qs(landed.query)
    assert params["state"] == [state]
    (code,) = params["code"]
    # The code is real: ChatGPT's exchange turns it into a token that reads the user's todos.
    token = httpx.post(
        f"{oauth_plugin.base_url}/oauth/token",
        json={
            "grant_type": "authorization_code",
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "code": code,
            "redirect_uri": oauth_plugin.redirect_uri,
        },
        timeout=10,
    )
    assert token.status_code == 200, token.text
    access = token.json()["access_token"]
    todos = httpx.get(
        f"{oauth_plugin.base_url}/todos",
        headers={"Authorization": f"Bearer {access}"},
        timeout=10,
    )
    assert todos.status_code == 200, todos.text


def test_a_wrong_password_shows_an_error_and_stays_on_the_page(
    page: Any, oauth_plugin: OAuthPlugin
) -> None:
    page.goto(oauth_plugin.authorize_url(secrets.token_urlsafe(16)))
    page.fill("#username", USER)
    page.fill("#password", "not the password")
    with page.expect_navigation():
        page.click("button[value=allow]")

    assert urlsplit(page.url).path == "/oauth/authorize"
    error = page.locator("[role=alert]")
    assert error.is_visible()
    assert "password" in error.inner_text().lower()
    # The name stays filled in, the password does not.
    assert page.input_value("#username") == USER
    assert page.input_value("#password") == ""


def test_the_sign_in_page_refuses_to_be_framed(
    page: Any, oauth_plugin: OAuthPlugin, client_site: str
) -> None:
    authorize = oauth_plugin.authorize_url(secrets.token_urlsafe(16))
    response = page.goto(authorize)
    headers = response.headers
    assert headers["x-frame-options"].upper() == "DENY"
    assert "frame-ancestors 'none'" in headers["content-security-policy"]

    refusals: list[str] = []
    page.on("console", lambda message: refusals.append(message.text))
    # The plugin's legal page carries no anti-framing headers: it shows that framing works here.
    control = f"{oauth_plugin.base_url}/legal"
    page.goto(f"{client_site}/frame?{urlencode({'src': authorize, 'control': control})}")
    page.wait_for_load_state("load")

    control_frame = page.frame(name="control")
    assert control_frame is not None
    control_frame.wait_for_selector("h1")
    target_frame = page.frame(name="target")
    assert target_frame is not None
    assert target_frame.locator("#username").count() == 0, "the sign-in form was framed"
    # Chromium replaces a frame it refuses to show with its own error document.
    assert target_frame.url.startswith("chrome-error://"), target_frame.url
    deadline = time.monotonic() + 5
    while not any("frame-ancestors 'none'" in text for text in refusals):
        assert time.monotonic() < deadline, f"no framing refusal was reported: {refusals}"
        page.wait_for_timeout(100)
