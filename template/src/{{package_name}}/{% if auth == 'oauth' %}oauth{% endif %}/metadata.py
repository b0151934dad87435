"""Discovery documents: RFC 8414 authorization server metadata and the OpenAPI security scheme
of the same endpoints."""

from __future__ import annotations

from typing import Any

from oauthlib.oauth2.rfc6749.endpoints import (
    AuthorizationEndpoint,
    MetadataEndpoint,
    TokenEndpoint,
)
from oauthlib.oauth2.rfc6749.tokens import BearerToken
from sqlalchemy import create_engine

from ..settings import Settings
from .registration import AUTH_METHODS
from .validator import build_server

# The grants are only inspected, never run: their validator is given an empty in-memory database.
_UNUSED_DATABASE = create_engine("sqlite://")


def authorization_server_metadata(settings: Settings) -> dict[str, Any]:
    """The RFC 8414 document, built by oauthlib's MetadataEndpoint from the server's grants."""
    base = settings.base_url
    with _UNUSED_DATABASE.connect() as conn:
        server = build_server(settings, conn)
    bearer = BearerToken(server.auth_grant.request_validator)
    # The two endpoints alone: the server's revocation and introspection endpoints are not served.
    authorize = AuthorizationEndpoint("code", bearer, {"code": server.auth_grant})
    token = TokenEndpoint(
        "authorization_code",
        bearer,
        {"authorization_code": server.auth_grant, "refresh_token": server.refresh_grant},
    )
    claims = {
        # Byte for byte the base URL that clients discover it from (RFC 8414 3.3).
        "issuer": base,
        "authorization_endpoint": f"{base}/oauth/authorize",
        "token_endpoint": f"{base}/oauth/token",
        "registration_endpoint": f"{base}/oauth/register",
        "scopes_supported": settings.oauth_scope.split(),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": list(AUTH_METHODS),
        "client_id_metadata_document_supported": True,
        "authorization_response_iss_parameter_supported": True,
        "service_documentation": f"{base}/legal",
    }
    # oauthlib checks the claims (https issuer without query or fragment, URL fields) only for
    # an https base URL: a local http one would fail its check.
    endpoint = MetadataEndpoint(
        [authorize, token], claims, raise_errors=base.startswith("https://")
    )
    return dict(endpoint.claims)


def security_schemes(settings: Settings) -> dict[str, Any]:
    """OpenAPI components.securitySchemes describing this server's authorization code flow."""
    base_url = settings.base_url
    return {
        "oauth2": {
            "type": "oauth2",
            "description": "Sign in on this plugin's own authorization server.",
            "flows": {
                "authorizationCode": {
                    "authorizationUrl": f"{base_url}/oauth/authorize",
                    "tokenUrl": f"{base_url}/oauth/token",
                    "scopes": {
                        scope: f"Read and change your todos ({scope})"
                        for scope in settings.oauth_scope.split()
                    },
                }
            },
        }
    }
