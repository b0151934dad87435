"""Servers on free loopback ports for the live tests: an ASGI app in a thread, or a project by
its own command."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from helpers.rendering import package_of, project_env


def served(app: Any, lifespan: str = "off") -> AbstractContextManager[str]:
    """Serve `app` on 127.0.0.1 in a thread until the block ends; the block gets its base URL."""
    return served_at_its_url(lambda _base_url: app, lifespan)


@contextmanager
def served_at_its_url(make_app: Callable[[str], Any], lifespan: str = "off") -> Iterator[str]:
    """Serve the app `make_app(base_url)` builds for its own URL; yield that base URL."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    base_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    server = uvicorn.Server(
        uvicorn.Config(make_app(base_url), log_level="warning", lifespan=lifespan)
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "the test server did not start"
        time.sleep(0.02)
    try:
        yield base_url
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serving(
    project: Path, workdir: Path, port: int, *options: str, env: dict[str, str] | None = None
) -> Iterator[subprocess.Popen[str]]:
    """Run the project's server (`python -m <package>`) in `workdir` until the block ends.

    `env` adds settings to the project's environment (which has none of the plugin's own).
    """
    process = subprocess.Popen(
        [sys.executable, "-m", package_of(project), "--port", str(port), *options],
        cwd=workdir,
        env={**project_env(project), **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"http://127.0.0.1:{port}/.well-known/ai-plugin.json", timeout=1)
                break
            except httpx.TransportError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(process.communicate()[0]) from None
                time.sleep(0.1)
        yield process
    finally:
        process.terminate()
        process.wait(timeout=15)
