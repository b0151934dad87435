"""The routes of the authorization server: authorize, token, register, and discovery.

- GET/POST /oauth/authorize: the sign-in and consent page (the manifest's client_url);
- POST /oauth/token: the token endpoint (the manifest's authorization_url), JSON or form body;
- POST /oauth/register: Dynamic Client Registration (RFC 7591);
- /.well-known/oauth-authorization-server (RFC 8414).

Every redirect back to a client carries `iss` (RFC 9207), on success and on error.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import (
    HTMLResponse,
    JSONResponse,
    RedirectResponse,
    Response,
)
from oauthlib.common import add_params_to_uri
from oauthlib.oauth2 import WebApplicationServer
from oauthlib.oauth2.rfc6749 import errors
from sqlalchemy import Connection
from starlette.concurrency import run_in_threadpool

from .. import plugin_info
from ..pages import render_page
from ..settings import Settings
from ..users import verify_password
from . import storage
from .metadata import authorization_server_metadata
from .registration import METADATA_DOCUMENT, PRE_REGISTERED, Client, register_client
from .validator import InvalidTargetError, build_server

T = TypeVar("T")
router = APIRouter(tags=["oauth"])

# The parameters of an authorization request that the consent form carries back unchanged.
AUTHORIZATION_PARAMS = (
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "code_challenge",
    "code_challenge_method",
    "resource",
)
CSRF_COOKIE = "oauth_csrf"
# Over https the __Host- prefix keeps sibling subdomains from planting a nonce of their own.
SECURE_CSRF_COOKIE = "__Host-oauth_csrf"
CSRF_MAX_AGE = 3600
MAX_REGISTRATION_BYTES = 16 * 1024
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
# Discovery documents are public and read by browser-based clients too.
PUBLIC_DOCUMENT = {"Access-Control-Allow-Origin": "*", "Cache-Control": "max-age=300"}
_PACKAGE = __name__.split(".")[0]


# -- page helpers ------------------------------------------------------------------------------


def new_nonce() -> str:
    """Return a fresh value for the Content-Security-Policy nonce of one page."""
    return secrets.token_urlsafe(16)


def page_headers(nonce: str, form_targets: tuple[str, ...] = ()) -> dict[str, str]:
    """Security headers of every authorization page: never framed, cached or referred.

    `form_targets` are the origins the form may end up at: browsers apply form-action to the
    redirect that follows a submission, so the client's callback origin must be listed.
    """
    form_action = " ".join(("'self'", *form_targets))
    policy = (
        f"default-src 'none'; style-src 'nonce-{nonce}'; form-action {form_action}; "
        "frame-ancestors 'none'; base-uri 'none'"
    )
    return {
        "Content-Security-Policy": policy,
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "no-referrer",
        "X-Content-Type-Options": "nosniff",
        **NO_STORE,
    }


def origin_of(url: str) -> str:
    """Return scheme://host[:port] of an absolute URL, the form CSP source lists expect."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _redirect(location: str, status: int = 302) -> RedirectResponse:
    response = RedirectResponse(location, status_code=status)
    response.headers.update(page_headers(new_nonce()))
    return response


def _back_to_client(settings: Settings, uri: str, params: list[tuple[str, str]]) -> str:
    # RFC 9207: the issuer tells the client which server answered (mix-up attacks).
    return add_params_to_uri(uri, [*params, ("iss", settings.base_url)])


def _error_page(
    title: str, message: str, details: dict[str, str], status: int = 400
) -> HTMLResponse:
    nonce = new_nonce()
    body = render_page(
        "oauth_error.html", nonce=nonce, title=title, message=message, details=details
    )
    return HTMLResponse(body, status_code=status, headers=page_headers(nonce))


# -- the token endpoint ------------------------------------------------------------------------


def _token_error(error: str, description: str, status: int = 400) -> JSONResponse:
    return JSONResponse(
        {"error": error, "error_description": description}, status_code=status, headers=NO_STORE
    )


class _JSONPairs(list[tuple[str, Any]]):
    """A JSON object's members in order, repeated names included."""


async def _token_params(request: Request) -> list[tuple[str, str]]:
    """The token request's parameters, from a JSON object or a form-urlencoded body."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    raw = await request.body()
    if content_type == "application/json":
        try:
            # Pairs, not a dict: a dict would silently keep only the last of a repeated name.
            data = json.loads(raw, object_pairs_hook=_JSONPairs)
        except (UnicodeDecodeError, ValueError, RecursionError):
            raise ValueError("The JSON body could not be parsed.") from None
        if not isinstance(data, _JSONPairs) or not all(isinstance(v, str) for _, v in data):
            raise ValueError("The JSON body must be an object whose values are strings.")
        return list(data)
    if content_type == "application/x-www-form-urlencoded":
        try:
            return parse_qsl(raw.decode(), keep_blank_values=True, strict_parsing=bool(raw))
        except (UnicodeDecodeError, ValueError):
            raise ValueError("The form body could not be parsed.") from None
    raise ValueError(
        "Send the token request as application/x-www-form-urlencoded or application/json."
    )


def _exchange(
    settings: Settings, conn: Connection, params: list[tuple[str, str]], authorization: str
) -> tuple[dict[str, Any], int]:
    server = build_server(settings, conn)
    headers = {"Authorization": authorization} if authorization else {}
    try:
        _, body, status = server.create_token_response(
            f"{settings.base_url}/oauth/token", "POST", body=dict(params), headers=headers
        )
    except errors.OAuth2Error as error:
        body, status = error.json, error.status_code
    return json.loads(body), status


async def _in_thread_pool(request: Request, work: Callable[[Connection], T]) -> T:
    """Run `work` on a pooled connection in the thread pool: oauthlib and the driver block."""
    db = request.app.state.db

    def on_a_connection() -> T:
        with db.connect() as conn:
            return work(conn)

    return await run_in_threadpool(on_a_connection)


@router.post("/oauth/token", include_in_schema=False)
async def token(request: Request) -> Response:
    """Exchange an authorization code or a refresh token for new tokens (RFC 6749 4.1.3, 6)."""
    settings: Settings = request.app.state.settings
    if request.url.query:
        return _token_error("invalid_request", "Send the parameters in the body, not in the URL.")
    try:
        params = await _token_params(request)
    except ValueError as error:
        return _token_error("invalid_request", str(error))
    names = [name for name, _ in params]
    duplicated = sorted({name for name in names if names.count(name) > 1})
    if duplicated:
        error = "invalid_target" if duplicated[0] == "resource" else "invalid_request"
        return _token_error(error, f"Parameter {duplicated[0]} is repeated.")
    if "grant_type" not in names:
        return _token_error("invalid_request", "Missing grant_type parameter.")
    authorization = request.headers.get("authorization", "")
    if authorization.partition(" ")[0].lower() == "basic" and "client_secret" in names:
        # RFC 6749 2.3: a client must not use more than one authentication method at once.
        return _token_error(
            "invalid_request", "Send the client secret in HTTP Basic or in the body, not both."
        )
    data, status = await _in_thread_pool(
        request, lambda conn: _exchange(settings, conn, params, authorization)
    )
    headers = dict(NO_STORE)
    if data.get("error") == "invalid_client":
        # RFC 6749 5.2: 401 with a challenge in the scheme the client can authenticate with.
        status = 401
        headers["WWW-Authenticate"] = 'Basic realm="oauth", charset="UTF-8"'
    if "access_token" in data:
        data["token_type"] = "bearer"
        data.setdefault("scope", "")
    return JSONResponse(data, status_code=status, headers=headers)


# -- the authorization endpoint ----------------------------------------------------------------


def _csrf_token(secret_key: str, nonce: str, issued: int, fields: dict[str, str]) -> str:
    # Signed double submit: the token binds the cookie's nonce to this exact request.
    message = "\n".join([nonce, str(issued), urlencode(sorted(fields.items()))])
    mac = hmac.new(secret_key.encode(), message.encode(), hashlib.sha256).hexdigest()
    return f"{issued}.{mac}"


def _csrf_holds(
    secret_key: str, nonce: str | None, token: str | None, fields: dict[str, str]
) -> bool:
    if not nonce or not token:
        return False
    issued, _, _ = token.partition(".")
    if not issued.isdigit() or storage.now() - int(issued) > CSRF_MAX_AGE:
        return False
    return hmac.compare_digest(token, _csrf_token(secret_key, nonce, int(issued), fields))


def _csrf_cookie(settings: Settings) -> tuple[str, str]:
    """The CSRF cookie's name and path; a __Host- cookie needs Secure and the path /."""
    if settings.base_url.startswith("https://"):
        return SECURE_CSRF_COOKIE, "/"
    return CSRF_COOKIE, "/oauth/authorize"


def _fatal_page(
    settings: Settings, server: WebApplicationServer, error: errors.OAuth2Error, fields: dict
) -> HTMLResponse:
    # RFC 6749 4.1.2.1: with an unknown client or redirect_uri, tell the user, never redirect.
    problem = getattr(server.auth_grant.request_validator, "last_client_problem", None)
    if problem is not None:
        return _error_page(
            "Client metadata document not usable",
            f"The app's client ID metadata document could not be used: {problem}",
            {"client_id sent": fields.get("client_id", "(none)")},
        )
    if isinstance(error, (errors.InvalidClientIdError, errors.MissingClientIdError)):
        return _error_page(
            "Unknown OAuth client",
            "This client_id is not the one this plugin issued: paste OAUTH_CLIENT_ID and "
            f"OAUTH_CLIENT_SECRET (shown by `python -m {_PACKAGE} credentials`) into ChatGPT.",
            {"client_id sent": fields.get("client_id", "(none)")},
        )
    redirect_errors = (
        errors.MismatchingRedirectURIError,
        errors.MissingRedirectURIError,
        errors.InvalidRedirectURIError,
    )
    if isinstance(error, redirect_errors):
        client = server.auth_grant.request_validator.client(fields.get("client_id"), _Holder())
        if client is not None and client.kind != PRE_REGISTERED:
            return _error_page(
                "Redirect URI not allowed",
                "This redirect_uri is not one the app registered: the app must send one of "
                "its own redirect URIs.",
                {
                    "redirect_uri sent": fields.get("redirect_uri", "(none)"),
                    "registered": ", ".join(client.redirect_uris),
                },
            )
        return _error_page(
            "Redirect URI not allowed",
            "This redirect_uri is not in the allowlist: add it exactly as shown to the "
            "comma-separated setting OAUTH_REDIRECT_URIS (in .env) and restart the plugin.",
            {
                "redirect_uri sent": fields.get("redirect_uri", "(none)"),
                "setting to add it to": "OAUTH_REDIRECT_URIS",
                "allowed now": ", ".join(settings.oauth_redirect_uris) or "(none)",
            },
        )
    return _error_page(
        "Invalid authorization request",
        f"The authorization request was rejected: {error.description}",
        {},
    )


class _Holder:
    """A stand-in for an oauthlib request where only a place for cached values is needed."""


def _check_request(
    server: WebApplicationServer, settings: Settings, pairs: list[tuple[str, str]]
) -> tuple[list[str], Client] | Response:
    """Validate an authorization request: its scopes and client, or the response that ends it."""
    fields = dict(pairs)
    uri = f"{settings.base_url}/oauth/authorize?{urlencode(pairs)}"
    try:
        scopes, info = server.validate_authorization_request(uri, "GET")
        if [name for name, _ in pairs].count("resource") > 1:
            raise InvalidTargetError(
                description="Name one resource only.", state=fields.get("state")
            )
    except errors.FatalClientError as error:
        return _fatal_page(settings, server, error, fields)
    except errors.OAuth2Error as error:
        # The client and redirect_uri are valid here, so the error goes back to the client.
        redirect_uri = error.redirect_uri or fields["redirect_uri"]
        return _redirect(_back_to_client(settings, redirect_uri, error.twotuples))
    return [scope for scope in scopes if scope], info["request"].oauth_client


def _client_display(client: Client) -> tuple[str, str]:
    if client.kind == PRE_REGISTERED:
        return "ChatGPT", ""
    if client.kind == METADATA_DOCUMENT:
        host = urlsplit(client.client_id).hostname or client.client_id
        return client.name or host, f"This app is identified by {host}."
    return (
        client.name or "An app",
        "This app registered itself with this plugin; its name is not verified.",
    )


def _consent(
    settings: Settings,
    fields: dict[str, str],
    scopes: list[str],
    client: Client,
    username: str = "",
    error: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    nonce = new_nonce()
    csrf_nonce = secrets.token_urlsafe(32)
    csrf = _csrf_token(settings.secret_key, csrf_nonce, storage.now(), fields)
    client_name, client_note = _client_display(client)
    page = render_page(
        "oauth_sign_in.html",
        nonce=nonce,
        title=f"Sign in to {plugin_info.NAME}",
        plugin=plugin_info.NAME,
        client_name=client_name,
        client_note=client_note,
        scopes=scopes,
        destination=urlsplit(fields.get("redirect_uri", "")).netloc,
        error=error,
        hidden=[*fields.items(), ("csrf_token", csrf)],
        username=username,
    )
    target = origin_of(fields["redirect_uri"])
    response = HTMLResponse(page, status_code=status, headers=page_headers(nonce, (target,)))
    name, path = _csrf_cookie(settings)
    response.set_cookie(
        name,
        csrf_nonce,
        max_age=CSRF_MAX_AGE,
        path=path,
        secure=name == SECURE_CSRF_COOKIE,
        httponly=True,
        samesite="strict",
    )
    return response


def _authorization_fields(
    pairs: list[tuple[str, str]],
) -> tuple[list[tuple[str, str]], dict[str, str]]:
    kept = [(name, value) for name, value in pairs if name in AUTHORIZATION_PARAMS]
    return kept, dict(kept)


def _show_consent(settings: Settings, conn: Connection, query: str) -> Response:
    try:
        pairs = parse_qsl(query, keep_blank_values=True)
    except ValueError:
        pairs = []
    kept, fields = _authorization_fields(pairs)
    outcome = _check_request(build_server(settings, conn), settings, kept)
    if isinstance(outcome, Response):
        return outcome
    scopes, client = outcome
    return _consent(settings, fields, scopes, client)


@router.get("/oauth/authorize", include_in_schema=False)
async def authorize_page(request: Request) -> Response:
    """Show the sign-in and consent form for a valid authorization request (RFC 6749 4.1.1)."""
    settings: Settings = request.app.state.settings
    query = request.url.query
    return await _in_thread_pool(request, lambda conn: _show_consent(settings, conn, query))


def _decide(
    settings: Settings,
    conn: Connection,
    pairs: list[tuple[str, str]],
    csrf_nonce: str | None,
) -> Response:
    kept, fields = _authorization_fields(pairs)
    form = dict(pairs)
    if not _csrf_holds(settings.secret_key, csrf_nonce, form.get("csrf_token"), fields):
        return _error_page(
            "Sign-in form expired",
            "This form was not sent by this page or is too old: go back to ChatGPT "
            "and start signing in again.",
            {},
            status=403,
        )
    server = build_server(settings, conn)
    outcome = _check_request(server, settings, kept)
    if isinstance(outcome, Response):
        return outcome
    scopes, client = outcome
    if form.get("decision") != "allow":
        denied = errors.AccessDeniedError(state=fields.get("state"))
        return _redirect(_back_to_client(settings, fields["redirect_uri"], denied.twotuples), 303)
    username = form.get("username", "")
    name_hash = storage.digest(username.strip())
    if storage.sign_in_locked(conn, name_hash):
        # The same answer for every name, known or not, and no password check at all.
        minutes = storage.SIGN_IN_LOCK_SECONDS // 60
        message = f"Too many failed sign-ins for this name: wait {minutes} minutes and try again."
        return _consent(settings, fields, scopes, client, username, message, status=429)
    user_id = verify_password(conn, username, form.get("password", ""))
    storage.record_sign_in(conn, name_hash, user_id is not None)
    if user_id is None:
        return _consent(settings, fields, scopes, client, username, "Wrong user name or password.")
    uri = f"{settings.base_url}/oauth/authorize?{urlencode(kept)}"
    headers, _, _ = server.create_authorization_response(
        uri, "GET", scopes=scopes, credentials={"user": str(user_id)}
    )
    # 303: the browser follows a POST's redirect with a GET.
    response = _redirect(_back_to_client(settings, headers["Location"], []), 303)
    name, path = _csrf_cookie(settings)
    response.delete_cookie(name, path=path, secure=name == SECURE_CSRF_COOKIE, httponly=True)
    return response


@router.post("/oauth/authorize", include_in_schema=False)
async def authorize_decision(request: Request) -> Response:
    """Check the form's CSRF token and password; on Allow, redirect back with a code."""
    settings: Settings = request.app.state.settings
    form = await request.form()
    pairs = [(name, value) for name, value in form.multi_items() if isinstance(value, str)]
    csrf_nonce = request.cookies.get(_csrf_cookie(settings)[0])
    return await _in_thread_pool(request, lambda conn: _decide(settings, conn, pairs, csrf_nonce))


# -- registration and discovery ----------------------------------------------------------------


@router.post("/oauth/register", include_in_schema=False)
async def register(request: Request) -> Response:
    """Dynamic Client Registration (RFC 7591 3): JSON metadata in, client_id (and secret) out."""
    settings: Settings = request.app.state.settings
    raw = await request.body()
    if len(raw) > MAX_REGISTRATION_BYTES:
        return JSONResponse(
            {"error": "invalid_client_metadata", "error_description": "The body is too large."},
            status_code=413,
            headers=NO_STORE,
        )
    try:
        metadata = json.loads(raw)
    except (UnicodeDecodeError, ValueError, RecursionError):
        metadata = None
    address = request.client.host if request.client else "unknown"
    answer, status = await _in_thread_pool(
        request, lambda conn: register_client(settings, conn, metadata, address)
    )
    headers = dict(NO_STORE)
    if status == 429:
        headers["Retry-After"] = "3600"
    return JSONResponse(answer, status_code=status, headers=headers)


@router.get("/.well-known/oauth-authorization-server", include_in_schema=False)
async def authorization_server_document(request: Request) -> JSONResponse:
    """RFC 8414 metadata of this authorization server."""
    settings: Settings = request.app.state.settings
    document = authorization_server_metadata(settings)
    return JSONResponse(document, headers=PUBLIC_DOCUMENT)
