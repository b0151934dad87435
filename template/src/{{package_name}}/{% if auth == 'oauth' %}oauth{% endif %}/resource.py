"""The resource side: which access tokens each resource of this server accepts.

There are two resources (RFC 8707 audiences):

- `<BASE_URL>/mcp`, the MCP endpoint: only tokens minted for it, i.e. requested with
  resource=<BASE_URL>/mcp, or by a registered or metadata-document client that named none;
- `<BASE_URL>`, the REST API (GPT Actions, the 2023 plugin): tokens requested with
  resource=<BASE_URL>, those of the pre-registered client that named no resource (GPT Actions
  send none, and tokens issued before resources were recorded have none), and tokens for /mcp:
  the REST API is the same service's other door, with the same operations on the same data.

`check_access_token` is the check; `current_user` is its FastAPI dependency for the REST API,
`mcp_token_check` the one-call form for the MCP endpoint. Their refusals carry the
WWW-Authenticate challenge of RFC 6750 3 (and, for /mcp, RFC 9728 5.1's resource_metadata).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from fastapi import HTTPException, Request

from ..settings import Settings
from . import storage
from .registration import PRE_REGISTERED, Client

MCP_PATH = "/mcp"


def mcp_resource(settings: Settings) -> str:
    """The canonical URL of the MCP endpoint: its RFC 8707 resource, no trailing slash."""
    return settings.base_url + MCP_PATH


def api_resource(settings: Settings) -> str:
    """The resource identifier of the REST API: the base URL."""
    return settings.base_url


def known_resources(settings: Settings) -> tuple[str, ...]:
    """The resources a client may ask tokens for."""
    return (mcp_resource(settings), api_resource(settings))


def default_resource(settings: Settings, client: Client | None) -> str | None:
    """The resource of a request that names none: /mcp for MCP clients, else the REST API."""
    if client is None or client.kind == PRE_REGISTERED:
        return None
    return mcp_resource(settings)


def resource_metadata_url(settings: Settings) -> str:
    """Where the RFC 9728 metadata of the MCP endpoint is served."""
    return f"{settings.base_url}/.well-known/oauth-protected-resource{MCP_PATH}"


@dataclass(frozen=True)
class AccessGrant:
    """What a valid access token stands for."""

    user_id: str
    client_id: str
    scopes: tuple[str, ...]
    resource: str | None
    expires_at: int


class TokenRejected(Exception):
    """A request's access token is missing, invalid, for another resource, or too narrow."""

    def __init__(self, status: int, detail: str, challenge: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.challenge = challenge

    @property
    def headers(self) -> dict[str, str]:
        """The WWW-Authenticate header of the refusal."""
        return {"WWW-Authenticate": self.challenge}


def challenge(
    settings: Settings, resource: str, error: str | None = None, description: str | None = None
) -> str:
    """The WWW-Authenticate value for a refusal at `resource`."""
    parts = []
    if error:
        parts.append(f'error="{error}"')
    if description and resource == mcp_resource(settings):
        parts.append(f'error_description="{description}"')
    scope = settings.oauth_scope
    if resource == mcp_resource(settings):
        # The client learns where to sign in (RFC 9728 5.1) and what to ask for.
        parts.append(f'resource_metadata="{resource_metadata_url(settings)}"')
        if scope:
            parts.append(f'scope="{scope}"')
    elif error == "insufficient_scope" and scope:
        parts.append(f'scope="{scope}"')
    return "Bearer" + (" " + ", ".join(parts) if parts else "")


def _audience_matches(settings: Settings, token_resource: str | None, resource: str) -> bool:
    if token_resource == resource:
        return True
    return resource == api_resource(settings) and token_resource in (None, mcp_resource(settings))


def check_access_token(
    conn: sqlite3.Connection,
    settings: Settings,
    authorization: str | None,
    resource: str,
    require_scope: bool = True,
) -> AccessGrant:
    """The grant of the bearer token in an Authorization header, valid at `resource`.

    Raises TokenRejected: 401 without a valid token for this resource, 403 without the scope
    (unless `require_scope` is False: then scope_challenge tells later).
    """
    if not authorization:
        raise TokenRejected(
            401, "Sign in: this API needs an OAuth access token.", challenge(settings, resource)
        )
    scheme, _, access_token = authorization.partition(" ")
    row = None
    if scheme.lower() == "bearer" and access_token.strip():
        row = storage.find_access_token(conn, access_token.strip())
    if row is None:
        detail = "The access token is invalid, expired or revoked."
        raise TokenRejected(401, detail, challenge(settings, resource, "invalid_token", detail))
    if not _audience_matches(settings, row["resource"], resource):
        # RFC 8707: a token minted for another resource is no token here (no passthrough).
        detail = "The access token was issued for another resource."
        raise TokenRejected(401, detail, challenge(settings, resource, "invalid_token", detail))
    grant = AccessGrant(
        user_id=str(row["user_id"]),
        client_id=row["client_id"],
        scopes=tuple(row["scope"].split()),
        resource=row["resource"],
        expires_at=int(row["access_expires_at"]),
    )
    missing = scope_challenge(settings, grant, resource)
    if require_scope and missing is not None:
        raise TokenRejected(403, _scope_detail(settings), missing)
    return grant


def _scope_detail(settings: Settings) -> str:
    return f"The access token lacks the scope {settings.oauth_scope!r}: sign in again."


def scope_challenge(settings: Settings, grant: AccessGrant, resource: str) -> str | None:
    """The 403 insufficient_scope challenge when `grant` lacks a needed scope, else None."""
    # The user consented to the token's scope only: a narrower grant reaches nothing here.
    if set(settings.oauth_scope.split()) <= set(grant.scopes):
        return None
    return challenge(settings, resource, "insufficient_scope", _scope_detail(settings))


def mcp_token_check(
    conn: sqlite3.Connection,
    settings: Settings,
    authorization: str | None,
    require_scope: bool = True,
) -> AccessGrant:
    """check_access_token for the MCP endpoint: only tokens minted for <BASE_URL>/mcp."""
    return check_access_token(conn, settings, authorization, mcp_resource(settings), require_scope)


async def authenticate_mcp(request: Request, settings: Settings, conn: sqlite3.Connection) -> str:
    """The MCP endpoint's check: the owner id of a token minted for <BASE_URL>/mcp.

    Raises HTTPException 401 with the RFC 9728 challenge. The scope is not required here, so
    that a client can still list the tools: each tool call checks it (scope_challenge) and
    answers an auth error result that carries the 403 challenge, as ChatGPT expects. The grant
    and that challenge (None when the scope is there) are kept in the request's state as
    `oauth_grant` and `oauth_scope_challenge`.
    """
    try:
        grant = mcp_token_check(
            conn, settings, request.headers.get("authorization"), require_scope=False
        )
    except TokenRejected as rejected:
        raise HTTPException(rejected.status, rejected.detail, headers=rejected.headers) from None
    state = request.scope.setdefault("state", {})
    state["oauth_grant"] = grant
    state["oauth_scope_challenge"] = scope_challenge(settings, grant, mcp_resource(settings))
    return grant.user_id


async def current_user(request: Request) -> str:
    """FastAPI dependency of the REST API: the owner id (user id as str) of the access token."""
    settings: Settings = request.app.state.settings
    conn = request.app.state.db.connection()
    header = request.headers.get("authorization")
    try:
        grant = check_access_token(conn, settings, header, api_resource(settings))
    except TokenRejected as rejected:
        raise HTTPException(rejected.status, rejected.detail, headers=rejected.headers) from None
    return grant.user_id
