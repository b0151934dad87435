"""`plugin check URL`: live checks against real servers on 127.0.0.1, well and badly configured.

Each server is a small Starlette app built from the good plugin of the corpus, served by
uvicorn in a thread on a port the kernel picked; its flags switch one misbehaviour on at a time.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from helpers.servers import served_at_its_url
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route
from typer.testing import CliRunner

from generator.cli import app as cli

GOOD = Path(__file__).parent / "data" / "check" / "good"
ORIGINS = ("https://chat.openai.com", "https://chatgpt.com")
CLIENT_ID, CLIENT_SECRET = "test-client", "test-secret-value"
# the smallest valid PNG header is enough: the checker looks at the Content-Type only
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgYGD4DwABBAEAwS2OUAAAAABJRU5ErkJggg=="
)


@dataclass
class Behaviour:
    """How the test server behaves; the defaults are a plugin that does everything right."""

    cors: bool = True
    private_network: bool = True
    protect: bool = True
    manifest: bool = True
    manifest_type: str = "application/json"
    logo: bool = True
    logo_url: str | None = None
    oversized_spec: bool = False
    authorize_page: bool = True
    token_refuses_bad_code: bool = True
    token_error_type: str = "application/json"
    requests: list[str] = field(default_factory=list)


def plugin_app(base_url: str, behaviour: Behaviour) -> Starlette:
    """The good corpus plugin served from `base_url`, misbehaving as `behaviour` says."""
    manifest = json.loads((GOOD / ".well-known" / "ai-plugin.json").read_text())
    manifest = json.loads(json.dumps(manifest).replace("https://todo.example.com", base_url))
    if behaviour.logo_url:
        manifest["logo_url"] = behaviour.logo_url
    spec = (GOOD / "openapi.yaml").read_text().replace("https://todo.example.com", base_url)
    if behaviour.oversized_spec:
        spec = spec.replace(
            "  description: Keep a todo list in ChatGPT.",
            "  description: " + "Keep a todo list in ChatGPT. " * 3500,
        )

    async def get_manifest(request: Request) -> Response:
        if not behaviour.manifest:
            return Response(status_code=404)
        return Response(json.dumps(manifest), media_type=behaviour.manifest_type)

    async def get_spec(request: Request) -> Response:
        return Response(spec, media_type="application/yaml")

    async def get_logo(request: Request) -> Response:
        return (
            Response(PNG, media_type="image/png") if behaviour.logo else Response(status_code=404)
        )

    async def list_todos(request: Request) -> Response:
        if behaviour.protect and not request.headers.get("authorization"):
            return JSONResponse(
                {"detail": "Not authenticated"},
                status_code=401,
                headers={"WWW-Authenticate": "Bearer"},
            )
        return JSONResponse([])

    async def authorize(request: Request) -> Response:
        if request.query_params.get("client_id") != CLIENT_ID:
            return HTMLResponse("<p>Unknown client.</p>", status_code=400)
        return HTMLResponse("<form method=post>Sign in</form>")

    async def token(request: Request) -> Response:
        body = await request.json()
        if not behaviour.token_refuses_bad_code:
            return JSONResponse({"access_token": "granted", "token_type": "bearer"})
        if (body.get("client_id"), body.get("client_secret")) != (CLIENT_ID, CLIENT_SECRET):
            return JSONResponse({"error": "invalid_client"}, status_code=401)
        return Response(
            json.dumps({"error": "invalid_grant"}),
            status_code=400,
            media_type=behaviour.token_error_type,
        )

    routes = [
        Route("/.well-known/ai-plugin.json", get_manifest),
        Route("/openapi.yaml", get_spec),
        Route("/logo.png", get_logo),
        Route("/todos", list_todos),
        Route("/oauth/token", token, methods=["POST"]),
    ]
    if behaviour.authorize_page:
        routes.append(Route("/oauth/authorize", authorize))

    async def cors_and_log(request: Request, call_next: Callable) -> Response:  # type: ignore[type-arg]
        behaviour.requests.append(f"{request.method} {request.url.path}")
        origin = request.headers.get("origin")
        if behaviour.cors and origin in ORIGINS:
            headers = {"Access-Control-Allow-Origin": origin, "Vary": "Origin"}
            if request.method == "OPTIONS":
                headers["Access-Control-Allow-Methods"] = "GET, POST, DELETE"
                headers["Access-Control-Allow-Headers"] = "Authorization, Content-Type"
                if behaviour.private_network:
                    headers["Access-Control-Allow-Private-Network"] = "true"
                return Response(status_code=200, headers=headers)
            response = await call_next(request)
            response.headers.update(headers)
            return response
        return await call_next(request)

    return Starlette(
        routes=routes, middleware=[Middleware(BaseHTTPMiddleware, dispatch=cors_and_log)]
    )


def serve(behaviour: Behaviour) -> AbstractContextManager[str]:
    """Serve the plugin app on a free 127.0.0.1 port; the block gets its base URL."""
    return served_at_its_url(lambda base_url: plugin_app(base_url, behaviour))


def check(*args: str) -> tuple[int, dict]:
    result = CliRunner().invoke(cli, ["check", *args, "--json", "--timeout", "5"])
    return result.exit_code, json.loads(result.output)


def codes(report: dict, severity: str | None = None) -> set[str]:
    return {f["code"] for f in report["findings"] if severity in (None, f["severity"])}


def test_well_configured_server_passes_every_live_check() -> None:
    with serve(Behaviour()) as base_url:
        exit_code, report = check(
            base_url, "--client-id", CLIENT_ID, "--client-secret", CLIENT_SECRET
        )
    # oauth on localhost is only warned about: ChatGPT needs an https domain for it
    assert codes(report) == {"U004"}
    assert exit_code == 0
    assert report["checked"] == [
        f"{base_url}/.well-known/ai-plugin.json",
        f"{base_url}/openapi.yaml",
        f"{base_url}/logo.png",
    ]


def test_without_client_credentials_invalid_client_is_accepted_with_a_note() -> None:
    with serve(Behaviour()) as base_url:
        exit_code, report = check(base_url)
    notes = [f for f in report["findings"] if f["code"] == "L009"]
    assert [f["place"] for f in notes] == [f"{base_url}/oauth/token"]
    assert "invalid_client" in notes[0]["message"]
    assert exit_code == 0


def test_server_without_cors_and_with_an_open_protected_route_reports_both() -> None:
    with serve(Behaviour(cors=False, protect=False)) as base_url:
        exit_code, report = check(
            base_url, "--client-id", CLIENT_ID, "--client-secret", CLIENT_SECRET
        )
    assert exit_code == 1
    assert codes(report, "error") == {"L004", "L006"}
    cors = sorted(f["place"] for f in report["findings"] if f["code"] == "L004")
    assert cors == sorted(
        [f"{base_url}/.well-known/ai-plugin.json", f"{base_url}/openapi.yaml", f"{base_url}/todos"]
    )
    assert all(
        origin in f["message"]
        for f in report["findings"]
        if f["code"] == "L004"
        for origin in ORIGINS
    )
    (open_route,) = [f for f in report["findings"] if f["code"] == "L006"]
    assert open_route["place"] == f"{base_url}/todos"
    assert "HTTP 200" in open_route["message"]


def test_broken_fetches_content_types_sizes_and_oauth_endpoints_are_reported() -> None:
    behaviour = Behaviour(
        logo=False,
        manifest_type="text/plain",
        oversized_spec=True,
        authorize_page=False,
        token_refuses_bad_code=False,
    )
    with serve(behaviour) as base_url:
        exit_code, report = check(
            base_url, "--client-id", CLIENT_ID, "--client-secret", CLIENT_SECRET
        )
    assert exit_code == 1
    places = {(f["code"], f["place"]) for f in report["findings"]}
    assert places >= {
        ("L001", f"{base_url}/logo.png"),
        ("L002", f"{base_url}/.well-known/ai-plugin.json"),
        ("L003", f"{base_url}/openapi.yaml"),
        ("O015", f"{base_url}/openapi.yaml"),
        ("L007", f"{base_url}/oauth/authorize"),
        ("L008", f"{base_url}/oauth/token"),
    }
    assert codes(report, "error") == {"L001", "L002", "L003", "O015", "L007", "L008"}


def test_localhost_preflight_must_allow_private_network_access() -> None:
    with serve(Behaviour(private_network=False)) as base_url:
        exit_code, report = check(
            base_url, "--client-id", CLIENT_ID, "--client-secret", CLIENT_SECRET
        )
    assert codes(report) == {"U004", "L005"}
    assert exit_code == 0  # a warning: remote plugins do not need the header


def test_urls_on_another_host_are_reported_and_never_fetched() -> None:
    elsewhere = Behaviour()
    with serve(elsewhere) as other_url, serve(Behaviour(logo_url=f"{other_url}/logo.png")) as base:
        exit_code, report = check(base, "--client-id", CLIENT_ID, "--client-secret", CLIENT_SECRET)
    assert elsewhere.requests == []
    manifest_url = f"{base}/.well-known/ai-plugin.json"
    assert ("U002", f"{manifest_url}#/logo_url") in {
        (f["code"], f["place"]) for f in report["findings"]
    }
    assert ("L009", f"{other_url}/logo.png") in {
        (f["code"], f["place"]) for f in report["findings"]
    }
    assert exit_code == 1


def test_gpt_action_target_needs_no_manifest() -> None:
    behaviour = Behaviour(manifest=False)
    with serve(behaviour) as base_url:
        exit_code, report = check(base_url, "--target", "gpt-action")
    assert report["checked"] == [
        f"{base_url}/.well-known/ai-plugin.json",
        f"{base_url}/openapi.yaml",
    ]
    assert codes(report, "error") == set()
    assert exit_code == 0
    # the same server as a plugin lacks its manifest
    with serve(Behaviour(manifest=False)) as base_url:
        exit_code, report = check(base_url)
    assert "M001" in codes(report, "error") and exit_code == 1


def test_live_checks_send_nothing_that_changes_data() -> None:
    behaviour = Behaviour()
    with serve(behaviour) as base_url:
        check(base_url)
    unsafe = [r for r in behaviour.requests if r.split()[0] not in ("GET", "OPTIONS")]
    assert unsafe == ["POST /oauth/token"]  # carrying a code that cannot exist


@pytest.mark.parametrize("profile", ["plugin", "gpt-action"])
def test_findings_of_fetched_documents_name_the_url(profile: str) -> None:
    with serve(Behaviour(oversized_spec=True)) as base_url:
        _, report = check(base_url, "--target", profile)
    (too_large,) = [f for f in report["findings"] if f["code"] == "O015"]
    assert too_large["source"] == f"{base_url}/openapi.yaml"


def test_token_endpoint_errors_must_be_json_documents() -> None:
    with serve(Behaviour(token_error_type="text/html")) as base_url:
        exit_code, report = check(
            base_url, "--client-id", CLIENT_ID, "--client-secret", CLIENT_SECRET
        )
    assert {(f["code"], f["place"]) for f in report["findings"]} == {
        ("U004", f"{base_url}/.well-known/ai-plugin.json#/auth/type"),
        ("L002", f"{base_url}/oauth/token"),
    }
    assert exit_code == 1


def test_wrong_client_credentials_are_named_as_the_reason() -> None:
    with serve(Behaviour()) as base_url:
        exit_code, report = check(base_url, "--client-id", CLIENT_ID, "--client-secret", "nope")
    (finding,) = [f for f in report["findings"] if f["code"] == "L008"]
    assert "--client-id and --client-secret" in finding["message"]
    assert exit_code == 1
