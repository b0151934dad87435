"""The plugin's own OAuth 2 authorization server (RFC 6749, RFC 9700), built for ChatGPT.

One module per concern, each importing only those listed before it:

- storage.py: the tables (SCHEMA) and every query on them;
- fetch.py: the SSRF-guarded fetch of a client ID metadata document;
- registration.py: the clients: pre-registered, registered (RFC 7591), metadata documents;
- resource.py: the resource-side check of access tokens (RFC 8707 audiences, RFC 6750);
- validator.py: oauthlib's RequestValidator and the server built on it;
- metadata.py: RFC 8414 and RFC 9728 documents, the OpenAPI security scheme;
- endpoints.py: the routes.
"""

from .endpoints import router
from .metadata import security_schemes, tool_security_schemes
from .resource import (
    authenticate_mcp,
    check_access_token,
    current_user,
    mcp_resource,
    mcp_token_check,
    scope_challenge,
)

__all__ = [
    "authenticate_mcp",
    "check_access_token",
    "current_user",
    "mcp_resource",
    "mcp_token_check",
    "router",
    "scope_challenge",
    "security_schemes",
    "tool_security_schemes",
]
