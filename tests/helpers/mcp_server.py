"""An MCP server for the `plugin check` tests: the official SDK's `MCPServer` (streamable HTTP,
both protocol revisions) with OAuth discovery around it, served by uvicorn on 127.0.0.1.

It plays a ChatGPT app deployed at https://todo.example.test behind a proxy: every public URL
it publishes is on that host, the checker is pointed at the loopback port with
`--domain todo.example.test`. One fault at a time can be switched on; `FAULTS` says which codes
each must produce. Every request that reaches the server is recorded, and its tools record
every call, so the tests can prove what the checker sent.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from mcp.server.auth.provider import AccessToken
from mcp.server.auth.settings import AuthSettings
from mcp.server.mcpserver import MCPServer
from mcp.server.transport_security import TransportSecuritySettings
from mcp_types import ToolAnnotations
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response

from helpers.servers import served

# the SDK logs each session at INFO, into whatever stdout is (CliRunner's, during a check)
logging.getLogger("mcp").setLevel(logging.ERROR)

PUBLIC_HOST = "todo.example.test"
PUBLIC_URL = f"https://{PUBLIC_HOST}"
TOKEN = "test-access-token-0123456789"
CLIENT_ID, CLIENT_SECRET = "known-client", "known-client-secret"
CHALLENGE = "apps-challenge-0123456789"
SCOPE = "todos"
OAUTH2 = {"securitySchemes": [{"type": "oauth2", "scopes": [SCOPE]}]}

# fault -> the codes `plugin check --target chatgpt-app` must report for it, exactly
FAULTS: dict[str, set[str]] = {
    "initialize-error": {"P002"},
    "old-revision-only": {"P003"},
    "no-server-discover": {"P004"},
    "refuses-star-accept": {"P013"},
    "refuses-content-type-parameters": {"P013"},
    "get-not-found": {"P014"},
    "refuses-public-host": {"P015"},
    "tool-without-annotations": {"P007"},
    "basic-challenge": {"D001"},
    "no-challenge": {"D001"},
    "no-protected-resource-metadata": {"D002"},
    "wrong-issuer": {"D006"},
    "no-s256": {"D007"},
    "authorization-endpoint-missing": {"D010"},
    "token-endpoint-wrong-error": {"D011"},
    "challenge-as-html": {"D012"},
}

# variants that are no fault: what the checker must do with them is asserted test by test
# ("public-host-only": the host check accepts the public host alone, as a project whose BASE_URL
# is public does, so the loopback port's own Host gets 421)
VARIANTS = {"foreign-token-endpoint", "tools-list-needs-token", "public-host-only"}


@dataclass
class Received:
    """One HTTP request as the server saw it."""

    method: str
    path: str
    host: str
    rpc_methods: list[str]
    tool_names: list[str]
    body: bytes = b""
    auth_scheme: str = ""  # the Authorization header's scheme, if any


@dataclass
class Server:
    """A running test server."""

    base_url: str
    foreign_url: str  # another origin the metadata may point at; must never be contacted
    received: list[Received] = field(default_factory=list)
    foreign_received: list[Received] = field(default_factory=list)
    tool_calls: list[str] = field(default_factory=list)


class _Verifier:
    """Accepts exactly TOKEN, for the public MCP URL."""

    async def verify_token(self, token: str) -> AccessToken | None:
        if token != TOKEN:
            return None
        return AccessToken(
            token=token, client_id=CLIENT_ID, scopes=[SCOPE], resource=f"{PUBLIC_URL}/mcp"
        )


def build_mcp(fault: str | None, auth: bool, calls: list[str]) -> MCPServer:
    """The SDK server with the todo tools (and, for one fault, a tool without annotations)."""
    kwargs: dict[str, Any] = {}
    if auth:
        kwargs = {
            "auth": AuthSettings(
                issuer_url=PUBLIC_URL,
                resource_server_url=f"{PUBLIC_URL}/mcp",
                required_scopes=[SCOPE],
                validate_token_resource=True,
            ),
            "token_verifier": _Verifier(),
        }
    mcp = MCPServer("todo-check-test", log_level="WARNING", **kwargs)
    meta = OAUTH2 if auth else None

    @mcp.tool(
        description="List the user's todos.",
        annotations=ToolAnnotations(readOnlyHint=True, openWorldHint=False),
        meta=meta,
    )
    def list_todos() -> list[str]:
        calls.append("list_todos")
        return []

    @mcp.tool(
        description="Add a todo to the user's list.",
        annotations=ToolAnnotations(readOnlyHint=False, destructiveHint=False, openWorldHint=False),
        meta=meta,
    )
    def add_todo(text: str) -> str:
        calls.append("add_todo")
        return text

    @mcp.tool(
        description="Delete a todo from the user's list.",
        annotations=ToolAnnotations(readOnlyHint=False, destructiveHint=True, openWorldHint=False),
        meta=meta,
    )
    def delete_todo(index: int) -> str:
        calls.append("delete_todo")
        return str(index)

    if fault == "tool-without-annotations":

        @mcp.tool(description="Mark a todo as done.", meta=meta)
        def complete_todo(index: int) -> str:
            calls.append("complete_todo")
            return str(index)

    if auth:
        _oauth_routes(mcp, fault)
    return mcp


def _oauth_routes(mcp: MCPServer, fault: str | None) -> None:
    # the SDK's protected-resource metadata lists "https://todo.example.test": the classic
    # mistake is an issuer with a trailing slash, which clients refuse
    issuer = PUBLIC_URL + "/" if fault == "wrong-issuer" else PUBLIC_URL
    authorize_path = "/oauth/authorize"
    metadata = {
        "issuer": issuer,
        "authorization_endpoint": PUBLIC_URL
        + (
            authorize_path + "-moved"
            if fault == "authorization-endpoint-missing"
            else authorize_path
        ),
        "token_endpoint": PUBLIC_URL + "/oauth/token",
        "registration_endpoint": PUBLIC_URL + "/oauth/register",
        "response_types_supported": ["code"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "code_challenge_methods_supported": ["plain"] if fault == "no-s256" else ["S256"],
        "token_endpoint_auth_methods_supported": ["client_secret_post", "none"],
        "scopes_supported": [SCOPE],
        "client_id_metadata_document_supported": True,
        "authorization_response_iss_parameter_supported": True,
    }
    if fault == "foreign-token-endpoint":
        metadata["token_endpoint"] = "{foreign}/oauth/token"

    @mcp.custom_route("/.well-known/oauth-authorization-server", methods=["GET"])
    async def server_metadata(request: Request) -> Response:
        document = json.loads(
            json.dumps(metadata).replace("{foreign}", request.app.state.foreign_url)
        )
        return JSONResponse(document)

    @mcp.custom_route(authorize_path, methods=["GET"])
    async def authorize(request: Request) -> Response:
        query = request.query_params
        if (
            query.get("client_id") != CLIENT_ID
            or query.get("response_type") != "code"
            or query.get("code_challenge_method") != "S256"
            or not query.get("code_challenge")
            or query.get("resource") != f"{PUBLIC_URL}/mcp"
        ):
            return PlainTextResponse("invalid authorization request", status_code=400)
        return HTMLResponse("<form method=post><button>Sign in</button></form>")

    @mcp.custom_route("/oauth/token", methods=["POST"])
    async def token(request: Request) -> Response:
        form = await request.form()
        known = form.get("client_id") == CLIENT_ID and form.get("client_secret") == CLIENT_SECRET
        if fault == "token-endpoint-wrong-error":
            return JSONResponse({"error": "invalid_request"}, status_code=400)
        if not known:
            return JSONResponse({"error": "invalid_client"}, status_code=401)
        return JSONResponse({"error": "invalid_grant"}, status_code=400)

    @mcp.custom_route("/oauth/register", methods=["POST"])
    async def register(request: Request) -> Response:
        return JSONResponse({"client_id": "registered"}, status_code=201)


def _challenge_route(mcp: MCPServer, fault: str | None) -> None:
    @mcp.custom_route("/.well-known/openai-apps-challenge", methods=["GET"])
    async def challenge(request: Request) -> Response:
        if fault == "challenge-as-html":
            return HTMLResponse(f"<p>{CHALLENGE}</p>")
        return PlainTextResponse(CHALLENGE)


class _Front:
    """The outermost ASGI layer: records each request, and plays the faults the SDK cannot."""

    def __init__(self, app: Any, fault: str | None, log: list[Received]) -> None:
        self.app = app
        self.fault = fault
        self.log = log

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        body = b""
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        try:
            payload = json.loads(body) if body else None
        except ValueError:
            payload = None
        messages = payload if isinstance(payload, list) else [payload] if payload else []
        rpc = [m.get("method") for m in messages if isinstance(m, dict)]
        names = [
            m["params"].get("name")
            for m in messages
            if isinstance(m, dict) and isinstance(m.get("params"), dict)
        ]
        self.log.append(
            Received(
                scope["method"],
                scope["path"],
                headers.get("host", ""),
                rpc,
                names,
                body,
                headers.get("authorization", "").partition(" ")[0],
            )
        )
        answer = self._fault_answer(scope, headers, rpc, messages)
        if answer is not None:
            await answer(scope, receive, send)
            return
        if self.fault == "old-revision-only" and "initialize" in rpc:
            # a server that only speaks 2025-06-18: it answers initialize with that version
            body = body.replace(b'"2025-11-25"', b'"2025-06-18"')
        if self.fault == "no-protected-resource-metadata" and scope["path"].startswith(
            "/.well-known/oauth-protected-resource"
        ):
            await Response(status_code=404)(scope, receive, send)
            return
        replayed = False

        async def replay() -> dict:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        async def rewrite_challenge(message: dict) -> None:
            if message["type"] == "http.response.start" and message["status"] == 401:
                kept = [(k, v) for k, v in message["headers"] if k.lower() != b"www-authenticate"]
                value = {"basic-challenge": b'Basic realm="todo"', "no-challenge": None}.get(
                    self.fault, b"Bearer"
                )
                if value is not None:
                    kept.append((b"www-authenticate", value))
                message = {**message, "headers": kept}
            await send(message)

        rewrites = self.fault in (
            "basic-challenge",
            "no-challenge",
            "no-protected-resource-metadata",
        )
        await self.app(scope, replay, rewrite_challenge if rewrites else send)

    def _fault_answer(self, scope: dict, headers: dict[str, str], rpc: list, messages: list) -> Any:
        on_mcp = scope["path"] == "/mcp"
        if self.fault == "basic-challenge" and headers.get("authorization") == f"Basic {TOKEN}":
            # a server that challenges with Basic takes the key that way
            scope["headers"] = [
                (k, v) for k, v in scope["headers"] if k.lower() != b"authorization"
            ] + [(b"authorization", f"Bearer {TOKEN}".encode())]
            headers["authorization"] = f"Bearer {TOKEN}"
        authorized = headers.get("authorization") == f"Bearer {TOKEN}"
        if not on_mcp:
            return None
        if self.fault == "initialize-error" and "initialize" in rpc and authorized:
            request_id = messages[0].get("id")
            return JSONResponse(
                {"jsonrpc": "2.0", "id": request_id, "error": {"code": -32603, "message": "broken"}}
            )
        if self.fault == "no-server-discover" and headers.get("mcp-protocol-version") == (
            "2026-07-28"
        ):
            return JSONResponse(
                {
                    "jsonrpc": "2.0",
                    "id": None,
                    "error": {"code": -32600, "message": "Unsupported protocol version"},
                },
                status_code=400,
            )
        if self.fault == "refuses-star-accept" and "*/*" in headers.get("accept", ""):
            return PlainTextResponse("Not Acceptable", status_code=406)
        if (
            self.fault == "refuses-content-type-parameters"
            and scope["method"] == "POST"
            and headers.get("content-type") != "application/json"
        ):
            return PlainTextResponse("Unsupported Media Type", status_code=415)
        if self.fault == "get-not-found" and scope["method"] == "GET":
            return PlainTextResponse("Not Found", status_code=404)
        if self.fault == "tools-list-needs-token" and "tools/list" in rpc and not authorized:
            return JSONResponse(
                {"error": "invalid_token"},
                status_code=401,
                headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
            )
        return None


def _foreign_app(log: list[Received]) -> Any:
    async def app(scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
            log.append(Received(scope["method"], scope["path"], headers.get("host", ""), [], []))
            await PlainTextResponse("foreign", status_code=500)(scope, receive, send)

    return app


@contextmanager
def serve(
    fault: str | None = None,
    *,
    auth: bool = True,
    stateless: bool = False,
    json_response: bool = False,
) -> Iterator[Server]:
    """Serve the test app (and the foreign origin) on loopback; yield both and their logs.

    `stateless` and `json_response` are the SDK's `stateless_http` and `json_response` modes.
    """
    if fault is not None and fault not in {*FAULTS, *VARIANTS}:
        raise ValueError(f"unknown fault {fault!r}")
    foreign_log: list[Received] = []
    with served(_foreign_app(foreign_log), "off") as foreign_url:
        server = Server(base_url="", foreign_url=foreign_url, foreign_received=foreign_log)
        mcp = build_mcp(fault, auth, server.tool_calls)
        _challenge_route(mcp, fault)
        hosts = {
            "refuses-public-host": ["127.0.0.1:*"],
            "public-host-only": [PUBLIC_HOST],
        }.get(fault or "", ["127.0.0.1:*", PUBLIC_HOST])
        app = mcp.streamable_http_app(
            streamable_http_path="/mcp",
            stateless_http=stateless,
            json_response=json_response,
            transport_security=TransportSecuritySettings(
                enable_dns_rebinding_protection=True, allowed_hosts=hosts
            ),
        )
        app.state.foreign_url = foreign_url
        with served(_Front(app, fault, server.received), "on") as base_url:
            server.base_url = base_url
            yield server
