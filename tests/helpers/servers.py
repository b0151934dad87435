"""An ASGI application served for real by uvicorn on a free loopback port, for the live tests."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

import uvicorn


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
