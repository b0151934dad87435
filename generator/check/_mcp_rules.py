"""Rules on what an MCP endpoint publishes (`P`, `D`), shared by the offline and live checks.

Offline they read the files `export` writes (`mcp/tools.json`, the two OAuth metadata files);
live they read the same documents from the running server.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from generator.check._findings import Report, json_pointer
from generator.check._urls import is_absolute_http

TOOL_NAME = re.compile(r"^[A-Za-z0-9_.\-]{1,128}$")
MAX_TOOL_DESCRIPTION = 8000
MAX_PARAMETER_DESCRIPTION = 700
HINTS = ("readOnlyHint", "destructiveHint", "idempotentHint", "openWorldHint")
SECURITY_SCHEME_TYPES = ("noauth", "oauth2")


def check_tools(
    result: Any, source: str, report: Report, *, chatgpt: bool, has_auth: bool
) -> list[dict[str, Any]]:
    """Check a tools/list result (`{"tools": [...]}`); return the well-formed tools."""
    tools = result.get("tools") if isinstance(result, dict) else None
    if not isinstance(tools, list):
        report.add("P005", source, "", 'the result is not an object with a "tools" list')
        return []
    seen: dict[str, int] = {}
    good = []
    for index, tool in enumerate(tools):
        pointer = json_pointer("tools", index)
        name = tool.get("name") if isinstance(tool, dict) else None
        if not isinstance(name, str):
            report.add("P005", source, pointer, "the tool has no name (a string)")
            continue
        good.append(tool)
        if name in seen:
            report.add(
                "P009",
                source,
                pointer + "/name",
                f"the tool name {name!r} is also the name of tools[{seen[name]}]",
            )
        else:
            seen[name] = index
        if not TOOL_NAME.match(name):
            problem = (
                f"has {len(name)} characters (1 to 128 allowed)"
                if not 1 <= len(name) <= 128
                else "has characters other than letters, digits, _ - and ."
            )
            report.add("P010", source, pointer + "/name", f"the tool name {name!r} {problem}")
        _description(tool, name, source, pointer, report)
        _schemas(tool, name, source, pointer, report)
        _annotations(tool, name, source, pointer, report, chatgpt=chatgpt)
        if chatgpt:
            _security_schemes(tool, name, source, pointer, report, has_auth=has_auth)
    return good


def _description(
    tool: dict[str, Any], name: str, source: str, pointer: str, report: Report
) -> None:
    description = tool.get("description")
    if not isinstance(description, str) or not description.strip():
        report.add("P012", source, pointer, f"the tool {name!r} has no description")
    elif len(description) > MAX_TOOL_DESCRIPTION:
        report.add(
            "P012",
            source,
            pointer + "/description",
            f"the description of {name!r} has {len(description):,} characters; "
            f"the limit is {MAX_TOOL_DESCRIPTION:,}",
        )
    schema = tool.get("inputSchema")
    properties = schema.get("properties") if isinstance(schema, dict) else None
    if not isinstance(properties, dict):
        return
    for key, prop in properties.items():
        text = prop.get("description") if isinstance(prop, dict) else None
        if isinstance(text, str) and len(text) > MAX_PARAMETER_DESCRIPTION:
            report.add(
                "P012",
                source,
                pointer + json_pointer("inputSchema", "properties", key, "description"),
                f"the description of {name!r}'s parameter {key!r} has {len(text):,} "
                f"characters; the limit is {MAX_PARAMETER_DESCRIPTION}",
            )


def _schemas(tool: dict[str, Any], name: str, source: str, pointer: str, report: Report) -> None:
    for key, required in (("inputSchema", True), ("outputSchema", False)):
        if key not in tool and not required:
            continue
        problem = schema_problem(tool.get(key))
        if problem:
            report.add("P006", source, pointer + "/" + key, f"the {key} of {name!r} {problem}")


def schema_problem(schema: Any) -> str | None:
    """Why `schema` is not a valid JSON Schema of an object, or None when it is."""
    import jsonschema
    from jsonschema.validators import validator_for

    if not isinstance(schema, dict):
        return "is missing or not a JSON object"
    if schema.get("type") != "object":
        return f'has type {schema.get("type")!r}; tool schemas must have "type": "object"'
    try:
        validator = validator_for(schema, default=jsonschema.Draft202012Validator)
        validator.check_schema(schema)
    except jsonschema.SchemaError as error:
        where = "/".join(str(part) for part in error.absolute_path)
        return f"is not valid JSON Schema{f' at {where}' if where else ''}: {error.message}"
    return None


def _annotations(
    tool: dict[str, Any], name: str, source: str, pointer: str, report: Report, *, chatgpt: bool
) -> None:
    annotations = tool.get("annotations")
    if annotations is not None and not isinstance(annotations, dict):
        report.add("P008", source, pointer + "/annotations", "annotations is not an object")
        return
    annotations = annotations or {}
    for hint in HINTS:
        if hint in annotations and not isinstance(annotations[hint], bool):
            report.add(
                "P008",
                source,
                pointer + "/annotations/" + hint,
                f"{hint} of {name!r} is {annotations[hint]!r}, not true or false",
            )
    if annotations.get("readOnlyHint") is True and annotations.get("destructiveHint") is True:
        report.add(
            "P008",
            source,
            pointer + "/annotations",
            f"{name!r} is marked both readOnlyHint and destructiveHint",
        )
    if not chatgpt:
        return
    wanted = ["readOnlyHint", "openWorldHint"]
    if annotations.get("readOnlyHint") is not True:
        wanted.insert(1, "destructiveHint")
    missing = [hint for hint in wanted if hint not in annotations]
    if missing:
        report.add(
            "P007",
            source,
            pointer + ("/annotations" if "annotations" in tool else ""),
            f"{name!r} does not declare " + ", ".join(missing),
        )


def _security_schemes(
    tool: dict[str, Any], name: str, source: str, pointer: str, report: Report, *, has_auth: bool
) -> None:
    where = pointer + "/securitySchemes"
    schemes = tool.get("securitySchemes")
    meta = tool.get("_meta")
    if schemes is None and isinstance(meta, dict) and "securitySchemes" in meta:
        schemes, where = meta["securitySchemes"], pointer + "/_meta/securitySchemes"
    if schemes is None:
        if has_auth:
            report.add(
                "P011",
                source,
                pointer,
                f"{name!r} declares no securitySchemes although the server has auth, so "
                "ChatGPT never offers to sign in",
            )
        return
    if not isinstance(schemes, list) or not schemes:
        report.add("P011", source, where, f"securitySchemes of {name!r} is not a non-empty list")
        return
    for index, scheme in enumerate(schemes):
        kind = scheme.get("type") if isinstance(scheme, dict) else None
        scopes = scheme.get("scopes", []) if isinstance(scheme, dict) else None
        if kind not in SECURITY_SCHEME_TYPES or not (
            isinstance(scopes, list) and all(isinstance(s, str) for s in scopes)
        ):
            report.add(
                "P011",
                source,
                f"{where}/{index}",
                f"{name!r} has a security scheme that is not "
                '{"type": "noauth"} or {"type": "oauth2", "scopes": [...]}',
            )


# --- OAuth metadata ---------------------------------------------------------------------------


def check_protected_resource(
    document: Any, source: str, expected_resource: str | None, report: Report
) -> str | None:
    """RFC 9728 metadata: D003, D004. Returns the first authorization server, if any."""
    if not isinstance(document, dict):
        report.add("D003", source, "", "the protected-resource metadata is not a JSON object")
        return None
    resource = document.get("resource")
    if not isinstance(resource, str) or not is_absolute_http(resource):
        report.add("D003", source, "/resource", "resource is missing or not an absolute URL")
    elif expected_resource is not None and resource != expected_resource:
        hint = ""
        if urlsplit(resource).path == urlsplit(expected_resource).path:
            hint = " (for a server behind a proxy, pass its public host with --domain)"
        report.add(
            "D004",
            source,
            "/resource",
            f"resource is {resource}; the MCP endpoint is {expected_resource}{hint}",
        )
    servers = document.get("authorization_servers")
    if (
        not isinstance(servers, list)
        or not servers
        or not all(isinstance(s, str) and is_absolute_http(s) for s in servers)
    ):
        report.add(
            "D003",
            source,
            "/authorization_servers",
            "authorization_servers is missing or not a list of absolute URLs",
        )
        return None
    return servers[0]


def check_authorization_server(
    document: Any, source: str, expected_issuer: str | None, report: Report
) -> bool:
    """RFC 8414 metadata: D005-D009. True when the document is usable for the live probes."""
    if not isinstance(document, dict):
        report.add("D005", source, "", "the authorization-server metadata is not a JSON object")
        return False
    usable = True
    for field in ("issuer", "authorization_endpoint", "token_endpoint"):
        if not is_absolute_http(document.get(field)):
            report.add("D005", source, "/" + field, f"{field} is missing or not an absolute URL")
            usable = False
    types = document.get("response_types_supported")
    if not isinstance(types, list) or "code" not in types:
        report.add(
            "D005",
            source,
            "/response_types_supported",
            'response_types_supported is missing or lacks "code"',
        )
    issuer = document.get("issuer")
    if isinstance(issuer, str) and expected_issuer is not None and issuer != expected_issuer:
        report.add(
            "D006",
            source,
            "/issuer",
            f"issuer is {issuer!r}; the client discovered {expected_issuer!r}",
        )
    methods = document.get("code_challenge_methods_supported")
    if not isinstance(methods, list) or "S256" not in methods:
        shown = "missing" if methods is None else repr(methods)
        report.add(
            "D007",
            source,
            "/code_challenge_methods_supported",
            f"code_challenge_methods_supported is {shown}",
        )
    if document.get("authorization_response_iss_parameter_supported") is not True:
        report.add(
            "D008",
            source,
            "/authorization_response_iss_parameter_supported",
            "authorization_response_iss_parameter_supported is "
            f"{_shown(document.get('authorization_response_iss_parameter_supported'))}",
        )
    cimd = document.get("client_id_metadata_document_supported") is True
    if not cimd and not is_absolute_http(document.get("registration_endpoint")):
        report.add(
            "D009",
            source,
            "",
            "neither client_id_metadata_document_supported: true nor a registration_endpoint",
        )
    return usable


def _shown(value: Any) -> str:
    return "missing" if value is None else repr(value)


def metadata_urls(issuer: str) -> list[str]:
    """Where RFC 8414 and OpenID Connect put an issuer's metadata, in the order MCP tries them."""
    parts = urlsplit(issuer)
    origin = f"{parts.scheme}://{parts.netloc}"
    path = parts.path.rstrip("/")
    if not path:
        return [
            f"{origin}/.well-known/oauth-authorization-server",
            f"{origin}/.well-known/openid-configuration",
        ]
    return [
        f"{origin}/.well-known/oauth-authorization-server{path}",
        f"{origin}/.well-known/openid-configuration{path}",
        f"{origin}{path}/.well-known/openid-configuration",
    ]
