"""A bare MCPServer with one tool that returns a constant: the SDK's own ceiling here.

uvicorn --host 127.0.0.1 --port 5003 bench.baselines.mcp_constant:app
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from mcp.server import MCPServer
from mcp.server.transport_security import TransportSecuritySettings
from starlette.applications import Starlette
from starlette.routing import Mount

server = MCPServer("bare")


@server.tool(name="listTodos")
async def list_todos() -> dict[str, list[dict[str, object]]]:
    """Answer with a constant: no storage, no auth, only the protocol and serialisation."""
    return {"todos": []}


# The same transport settings as the generated project's /mcp: JSON answers, localhost only.
_mcp_app = server.streamable_http_app(
    json_response=True,
    transport_security=TransportSecuritySettings(
        allowed_hosts=["127.0.0.1:*", "localhost:*"], allowed_origins=[]
    ),
)


@asynccontextmanager
async def _lifespan(_app: Starlette) -> AsyncIterator[None]:
    async with server.session_manager.run():
        yield


app = Starlette(routes=[Mount("/", app=_mcp_app)], lifespan=_lifespan)
