"""Every finding `plugin check` can report, keyed by its stable code.

The code of a rule never changes meaning once released: scripts filter on it. Prefixes:

    M  the manifest (/.well-known/ai-plugin.json) and its limits
    A  the manifest's auth block, for its auth type
    U  URLs and domains
    O  the OpenAPI document
    L  live checks against a running server
    P  the MCP endpoint (/mcp): handshake, transport and tools (ChatGPT apps, other MCP clients)
    D  discovery around the MCP endpoint: OAuth metadata, its endpoints, domain verification

Rules marked "(chatgpt-app)" in their title run only with `--target chatgpt-app`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning", "note"]


@dataclass(frozen=True)
class Rule:
    """One rule: its default severity, what it checks, and how to fix a finding."""

    code: str
    severity: Severity
    title: str
    fix: str


_RULES = [
    # Manifest
    Rule(
        "M001",
        "error",
        "No manifest at /.well-known/ai-plugin.json",
        "Serve the manifest at /.well-known/ai-plugin.json (in a directory: "
        ".well-known/ai-plugin.json).",
    ),
    Rule(
        "M002",
        "error",
        "Manifest is not a JSON object",
        "Fix the JSON syntax at the given line and column; the manifest must be one JSON object.",
    ),
    Rule(
        "M003",
        "error",
        "Required manifest field missing or empty",
        "Add the field; see the plugin manifest reference for its value.",
    ),
    Rule(
        "M004",
        "error",
        "Manifest field has the wrong JSON type",
        "Give the field the JSON type the manifest format expects.",
    ),
    Rule("M005", "error", 'schema_version is not "v1"', 'Set "schema_version": "v1".'),
    Rule(
        "M006",
        "error",
        "name_for_human longer than 20 characters",
        "Shorten name_for_human to 20 characters or fewer.",
    ),
    Rule(
        "M007",
        "error",
        "name_for_model longer than 50 characters",
        "Shorten name_for_model to 50 characters or fewer.",
    ),
    Rule(
        "M008",
        "error",
        "name_for_model has characters other than letters, digits and _",
        "Use only letters, digits and underscores in name_for_model, e.g. todo_plus.",
    ),
    Rule(
        "M009",
        "error",
        "description_for_human longer than 100 characters",
        "Shorten description_for_human to 100 characters or fewer.",
    ),
    Rule(
        "M010",
        "error",
        "description_for_model longer than 8,000 characters",
        "Shorten description_for_model to 8,000 characters or fewer.",
    ),
    Rule("M011", "error", 'api.type is not "openapi"', 'Set "api": {"type": "openapi", ...}.'),
    Rule(
        "M012",
        "error",
        "contact_email is not an e-mail address",
        "Set contact_email to an address such as support@example.com.",
    ),
    Rule(
        "M013",
        "warning",
        "Unknown manifest field (often a typo)",
        "Remove the field or correct its name; ChatGPT ignores unknown fields.",
    ),
    # Auth block
    Rule(
        "A001",
        "error",
        "auth.type missing or not none, service_http, user_http or oauth",
        'Set auth.type to one of "none", "service_http", "user_http", "oauth".',
    ),
    Rule(
        "A002",
        "error",
        "authorization_type missing or wrong for the auth type",
        'Set auth.authorization_type to "bearer" (service_http) or "bearer"/"basic" (user_http).',
    ),
    Rule(
        "A003",
        "error",
        "verification_tokens missing or not an object of strings",
        'Add "verification_tokens": {"openai": "<token ChatGPT shows after registration>"}.',
    ),
    Rule(
        "A004",
        "note",
        "verification_tokens.openai is empty",
        "After registering the plugin in ChatGPT, put the verification token it shows into "
        "verification_tokens.openai (in a generated project: OPENAI_VERIFICATION_TOKEN in .env).",
    ),
    Rule(
        "A005",
        "error",
        "oauth client_url missing",
        "Set auth.client_url to the absolute URL of your authorization (sign-in) page.",
    ),
    Rule(
        "A006",
        "error",
        "oauth authorization_url missing",
        "Set auth.authorization_url to the absolute URL of your token endpoint.",
    ),
    Rule(
        "A007",
        "error",
        "oauth authorization_content_type missing or unsupported",
        'Set auth.authorization_content_type to "application/json" or '
        '"application/x-www-form-urlencoded".',
    ),
    Rule(
        "A008",
        "warning",
        "oauth scope missing or not a string",
        'Add auth.scope as a string of space-separated scopes ("" for none).',
    ),
    Rule(
        "A009",
        "warning",
        "auth field that does not belong to this auth type",
        "Remove the field: ChatGPT ignores it for this auth type, and it misleads readers.",
    ),
    # URLs and domains
    Rule(
        "U001",
        "error",
        "URL is not an absolute http(s) URL",
        "Use an absolute URL with scheme and host, e.g. https://todo.example.com/openapi.yaml.",
    ),
    Rule(
        "U002",
        "error",
        "URL not on the plugin's domain",
        "Serve the resource from the plugin's domain or one of its subdomains.",
    ),
    Rule(
        "U003",
        "error",
        "http:// URL on a host other than localhost",
        "Use https:// for every host except localhost and 127.0.0.1.",
    ),
    Rule(
        "U004",
        "warning",
        "Auth other than none on localhost",
        "ChatGPT accepts localhost plugins only with auth none; deploy to an https domain "
        "to use this auth type.",
    ),
    Rule(
        "U005",
        "error",
        "0.0.0.0 used as a URL host",
        "0.0.0.0 is a bind address, not a reachable host: use localhost or your domain.",
    ),
    # OpenAPI document
    Rule(
        "O001",
        "error",
        "No OpenAPI document found",
        "Serve the OpenAPI document at the manifest's api.url (in a directory: the file at "
        "api.url's path, or openapi.yaml / openapi.json).",
    ),
    Rule(
        "O002",
        "error",
        "OpenAPI document is not a YAML or JSON object",
        "Fix the syntax at the given place; the document must be one YAML or JSON mapping.",
    ),
    Rule(
        "O003",
        "error",
        "OpenAPI document is invalid",
        "Correct the document at the given place so openapi-spec-validator accepts it.",
    ),
    Rule(
        "O004",
        "error",
        "servers missing or servers[0].url not absolute",
        'Add a top-level "servers": [{"url": "https://your.domain"}] with an absolute URL.',
    ),
    Rule(
        "O005",
        "error",
        "servers[0].url is on another host than the manifest",
        "Make servers[0].url use the same host as the manifest's api.url.",
    ),
    Rule(
        "O006",
        "error",
        "Operation without operationId",
        "Give every operation a unique operationId such as listTodos.",
    ),
    Rule(
        "O007",
        "error",
        "operationId has characters other than letters, digits and _",
        "Use only letters, digits and underscores in operationId, e.g. list_todos.",
    ),
    Rule(
        "O008",
        "error",
        "Operation description too long",
        "Shorten the description (plugins: 200 characters; GPT Actions: 300).",
    ),
    Rule(
        "O009",
        "error",
        "Parameter description too long",
        "Shorten the description (plugins: 200 characters; GPT Actions: 700).",
    ),
    Rule(
        "O010",
        "warning",
        "Operation without description or summary",
        "Describe the operation in one sentence: the model decides when to call it from this.",
    ),
    Rule(
        "O011",
        "error",
        "securitySchemes contradict the manifest's auth",
        "Declare the security scheme that matches auth.type (http bearer/basic for *_http, "
        "oauth2 authorizationCode with the manifest's URLs for oauth, none for none).",
    ),
    Rule(
        "O012",
        "warning",
        "No securitySchemes for an authenticated plugin",
        "Declare components.securitySchemes and security on the protected operations, so GPT "
        "Actions and API tools see the auth.",
    ),
    Rule(
        "O013",
        "warning",
        "Data-changing operation without x-openai-isConsequential",
        "Add x-openai-isConsequential: true (ask the user first) or false to the operation.",
    ),
    Rule(
        "O014",
        "error",
        "x-openai-isConsequential is not a boolean",
        "Set x-openai-isConsequential to true or false.",
    ),
    Rule(
        "O015",
        "error",
        "OpenAPI document of 100,000 characters or more",
        "Shrink the document below 100,000 characters: ChatGPT refuses larger responses.",
    ),
    Rule(
        "O016",
        "warning",
        "Parameter without description",
        "Describe the parameter in one sentence: the model fills it in from this.",
    ),
    # Live
    Rule(
        "L001",
        "error",
        "URL could not be fetched",
        "Make the URL answer 200 from the plugin's server.",
    ),
    Rule(
        "L002",
        "error",
        "Wrong Content-Type",
        "Serve the manifest as application/json, the OpenAPI document as YAML or JSON, the "
        "logo as an image.",
    ),
    Rule(
        "L003",
        "error",
        "Response of 100,000 characters or more",
        "Keep every response below 100,000 characters: ChatGPT refuses larger ones.",
    ),
    Rule(
        "L004",
        "error",
        "CORS preflight not answered for a ChatGPT origin",
        "Answer OPTIONS preflights with Access-Control-Allow-Origin for https://chat.openai.com "
        "and https://chatgpt.com.",
    ),
    Rule(
        "L005",
        "warning",
        "Localhost preflight without Access-Control-Allow-Private-Network",
        "Answer preflights carrying Access-Control-Request-Private-Network with "
        "Access-Control-Allow-Private-Network: true.",
    ),
    Rule(
        "L006",
        "error",
        "Protected operation answers without credentials",
        "Require the credentials of the manifest's auth type and answer 401 without them.",
    ),
    Rule(
        "L007",
        "error",
        "OAuth authorization page does not answer",
        "Serve the sign-in page at auth.client_url (GET with response_type=code, client_id, "
        "state, redirect_uri).",
    ),
    Rule(
        "L008",
        "error",
        "Token endpoint does not refuse a bad code with invalid_grant",
        "Answer a token request with an unknown code with HTTP 400 and a JSON body "
        '{"error": "invalid_grant"} (RFC 6749 section 5.2).',
    ),
    Rule(
        "L009",
        "note",
        "Live check skipped",
        "Nothing to do unless you expected this check to run; the message says why it did not.",
    ),
    # MCP endpoint
    Rule(
        "P001",
        "error",
        "No MCP endpoint (chatgpt-app)",
        "Serve the MCP endpoint (streamable HTTP) at /mcp, or pass its path with --mcp-path; "
        "an exported tree needs mcp/tools.json.",
    ),
    Rule(
        "P002",
        "error",
        "initialize handshake (2025-11-25) fails",
        "Answer a POST with an initialize request with HTTP 200 and a JSON-RPC result holding "
        "protocolVersion, capabilities (with tools) and serverInfo, without a redirect.",
    ),
    Rule(
        "P003",
        "warning",
        "initialize does not agree on revision 2025-11-25",
        "Accept protocolVersion 2025-11-25 in initialize and answer with the same version.",
    ),
    Rule(
        "P004",
        "warning",
        "server/discover (revision 2026-07-28) fails",
        "Answer server/discover (with MCP-Protocol-Version: 2026-07-28 and the version in "
        "params._meta) with supportedVersions listing 2026-07-28 and capabilities.",
    ),
    Rule(
        "P005",
        "error",
        "tools/list fails or its result is malformed",
        'Answer tools/list with a JSON-RPC result {"tools": [...]} whose tools each have a '
        "name (export: mcp/tools.json holds exactly that result).",
    ),
    Rule(
        "P006",
        "error",
        "Tool input or output schema is not a valid JSON Schema object",
        'Give the tool an inputSchema of {"type": "object", ...} that passes the JSON Schema '
        "meta-schema (2020-12 unless $schema says otherwise).",
    ),
    Rule(
        "P007",
        "error",
        "Tool annotations missing (chatgpt-app)",
        "Annotate every tool with readOnlyHint and openWorldHint, and destructiveHint when it "
        "is not read-only: ChatGPT asks before calling a tool that changes data.",
    ),
    Rule(
        "P008",
        "error",
        "Tool annotations contradict each other or are not booleans",
        "Use true/false for the hints and drop destructiveHint: true from a read-only tool "
        "(or readOnlyHint: true from a destructive one).",
    ),
    Rule(
        "P009",
        "error",
        "Two tools share a name",
        "Give every tool a unique name: clients call tools by name.",
    ),
    Rule(
        "P010",
        "warning",
        "Tool name outside 1-128 characters of letters, digits, _ - .",
        "Name tools with 1 to 128 letters, digits, underscores, hyphens or dots, e.g. list_todos.",
    ),
    Rule(
        "P011",
        "error",
        "Tool securitySchemes missing or invalid on a server with auth (chatgpt-app)",
        'Declare securitySchemes on every tool, e.g. [{"type": "oauth2", "scopes": ["todos"]}] '
        '(or [{"type": "noauth"}] for a tool that works signed out).',
    ),
    Rule(
        "P012",
        "warning",
        "Tool or parameter description missing or too long",
        "Describe every tool in at most 8,000 characters and every parameter in at most 700: "
        "the model decides when and how to call the tool from them.",
    ),
    Rule(
        "P013",
        "error",
        "A request with Accept or Content-Type headers that clients send is refused",
        "Treat Accept: */* (and lists containing it) as accepting both application/json and "
        "text/event-stream, and accept Content-Type parameters such as charset=utf-8, instead "
        "of answering 406 or 415.",
    ),
    Rule(
        "P014",
        "error",
        "GET on the MCP endpoint gets an answer clients do not understand",
        "Answer GET with an SSE stream (text/event-stream) or with 405 and an Allow header, "
        "never 404 or 5xx.",
    ),
    Rule(
        "P015",
        "error",
        "The MCP endpoint refuses the public host with 421",
        "Add the public host (BASE_URL's host) to the allowed hosts of the MCP transport's "
        "host check, so requests forwarded by the proxy pass.",
    ),
    # Discovery around the MCP endpoint
    Rule(
        "D001",
        "error",
        "401 without a parsable Bearer WWW-Authenticate challenge",
        "Answer requests without a token with 401 and WWW-Authenticate: Bearer "
        'resource_metadata="<protected-resource metadata URL>".',
    ),
    Rule(
        "D002",
        "error",
        "No protected-resource metadata for an endpoint that needs a token (chatgpt-app)",
        "Serve RFC 9728 metadata at /.well-known/oauth-protected-resource/mcp and name it in "
        "the 401's resource_metadata: ChatGPT offers only OAuth for apps that need sign-in.",
    ),
    Rule(
        "D003",
        "error",
        "Protected-resource metadata missing fields or not JSON",
        'Serve a JSON object with "resource" and "authorization_servers": [issuer] (RFC 9728).',
    ),
    Rule(
        "D004",
        "error",
        "Protected-resource metadata names another resource than the MCP endpoint",
        "Set resource to the endpoint's canonical URL, e.g. https://todo.example.com/mcp "
        "(BASE_URL plus the path, no trailing slash).",
    ),
    Rule(
        "D005",
        "error",
        "Authorization-server metadata missing or incomplete",
        "Serve RFC 8414 metadata at /.well-known/oauth-authorization-server with issuer, "
        'authorization_endpoint, token_endpoint and response_types_supported ["code"].',
    ),
    Rule(
        "D006",
        "error",
        "issuer differs from the discovered authorization server",
        "Make issuer byte-for-byte the URL listed in authorization_servers (same scheme, host, "
        "port, path and trailing slash).",
    ),
    Rule(
        "D007",
        "error",
        "No S256 in code_challenge_methods_supported",
        'Set "code_challenge_methods_supported": ["S256"]: MCP clients refuse a server without it.',
    ),
    Rule(
        "D008",
        "warning",
        "authorization_response_iss_parameter_supported is not true",
        "Return iss on every authorization response (RFC 9207) and set "
        "authorization_response_iss_parameter_supported: true.",
    ),
    Rule(
        "D009",
        "error",
        "No client registration route",
        "Set client_id_metadata_document_supported: true (Client ID Metadata Documents) or "
        "serve a registration_endpoint (RFC 7591).",
    ),
    Rule(
        "D010",
        "error",
        "Authorization endpoint does not answer a request with resource and PKCE",
        "Answer GET authorization_endpoint?response_type=code&...&resource=...&"
        "code_challenge_method=S256 with the sign-in page, a redirect or a 400, never 404/405/5xx.",
    ),
    Rule(
        "D011",
        "error",
        "Token endpoint does not refuse an unknown code with invalid_grant",
        'Answer a token request with an unknown code with HTTP 400 and {"error": '
        '"invalid_grant"} (RFC 6749 section 5.2).',
    ),
    Rule(
        "D012",
        "error",
        "/.well-known/openai-apps-challenge answers wrongly",
        "Serve the domain token from the app submission portal as text/plain at "
        "/.well-known/openai-apps-challenge (404 until you have one).",
    ),
]

RULES: dict[str, Rule] = {rule.code: rule for rule in _RULES}
