"""Start and stop the servers under load: one process group each, bound to 127.0.0.1 only."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx

LOCAL_HOST = "127.0.0.1"


def free_port() -> int:
    """Ask the kernel for a loopback port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOCAL_HOST, 0))
        return int(sock.getsockname()[1])


@dataclass
class ServerSpec:
    """How to start one server: its command, environment, working directory and port."""

    name: str
    argv: list[str]
    port: int
    cwd: Path
    env: dict[str, str] = field(default_factory=dict)
    ready_path: str = "/todos"
    ready_headers: dict[str, str] = field(default_factory=dict)
    # False: `env` is the whole environment (no variable of ours leaks into the server).
    inherit_env: bool = True


@dataclass
class RunningServer:
    """A started server; its combined output is captured in `log_path`."""

    spec: ServerSpec
    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def base_url(self) -> str:
        """The loopback URL the load generator targets."""
        return f"http://{LOCAL_HOST}:{self.spec.port}"

    def log_text(self) -> str:
        """Everything the server printed so far."""
        return self.log_path.read_text(encoding="utf-8", errors="replace")


def wait_until_ready(server: RunningServer, timeout: float = 30.0) -> None:
    """Wait until the server answers its ready path with anything but a 5xx."""
    deadline = time.monotonic() + timeout
    url = server.base_url + server.spec.ready_path
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(
                f"{server.spec.name} exited with code {server.process.returncode} before "
                f"serving requests:\n{server.log_text()[-3000:]}"
            )
        with contextlib.suppress(httpx.HTTPError):
            response = httpx.get(url, headers=server.spec.ready_headers, timeout=1.0)
            if response.status_code < 500:
                return
        time.sleep(0.1)
    raise RuntimeError(f"{server.spec.name} did not answer on {url} within {timeout:.0f} s.")


def stop(server: RunningServer, grace: float = 5.0) -> None:
    """Stop the server's whole process group: SIGINT first, SIGKILL if it lingers."""
    if server.process.poll() is not None:
        return
    # The group holds reloaders and workers the server spawned; only our own group is signalled.
    pgid = os.getpgid(server.process.pid)
    os.killpg(pgid, signal.SIGINT)
    try:
        server.process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        os.killpg(pgid, signal.SIGKILL)
        server.process.wait(timeout=grace)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGKILL)


def start(spec: ServerSpec, log_dir: Path) -> RunningServer:
    """Start `spec` in its own session without waiting for it; stop it with `stop`."""
    log_path = log_dir / f"{spec.name}.log"
    env = {**(os.environ if spec.inherit_env else {}), "PYTHONUNBUFFERED": "1", **spec.env}
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            spec.argv,
            cwd=spec.cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return RunningServer(spec, process, log_path)


@contextlib.contextmanager
def running(spec: ServerSpec, log_dir: Path, timeout: float = 30.0) -> Iterator[RunningServer]:
    """Run `spec` for the duration of the block, in its own session, and always stop it."""
    server = start(spec, log_dir)
    try:
        wait_until_ready(server, timeout)
        yield server
    finally:
        stop(server)
