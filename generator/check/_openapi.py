"""Rules for the OpenAPI document (`O`)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin

from generator.check._findings import Report, json_pointer
from generator.check._manifest import check_url_host
from generator.check._urls import is_absolute_http, origin_of

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
CHANGING_METHODS = frozenset({"put", "post", "delete", "patch"})
OPERATION_ID = re.compile(r"[A-Za-z0-9_]+")
MAX_CHARS = 100_000
MAX_VALIDATION_ERRORS = 10
# (operation description, parameter description) limits per --target
DESCRIPTION_LIMITS = {"plugin": (200, 200), "gpt-action": (300, 700)}


@dataclass(frozen=True)
class Operation:
    """One operation of the document, with what the rules need to know about it."""

    path: str
    method: str
    body: dict[str, Any]
    parameters: list[tuple[str, dict[str, Any]]]  # (JSON pointer, resolved parameter)
    security: list[Any]

    @property
    def pointer(self) -> str:
        """The operation's JSON pointer."""
        return json_pointer("paths", self.path, self.method)

    @property
    def protected(self) -> bool:
        """True when every way to call the operation needs credentials."""
        return bool(self.security) and all(requirement for requirement in self.security)


def parse_openapi(text: str, source: str, report: Report) -> dict[str, Any] | None:
    """Parse YAML or JSON (JSON is YAML); report O002 when the result is not a mapping."""
    import yaml

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        report.add("O002", source, "", f"invalid YAML/JSON{where}: {problem}")
        return None
    if not isinstance(data, dict):
        report.add("O002", source, "", f"the document is a {type(data).__name__}, not a mapping")
        return None
    return data


def operations(spec: dict[str, Any]) -> Iterator[Operation]:
    """Every operation of the document, skipping malformed entries the validator reports."""
    paths = spec.get("paths")
    if not isinstance(paths, dict):
        return
    global_security = spec.get("security") if isinstance(spec.get("security"), list) else []
    for path, item in paths.items():
        if not isinstance(item, dict):
            continue
        shared = _parameters(spec, item.get("parameters"), ("paths", path, "parameters"))
        for method in METHODS:
            body = item.get(method)
            if not isinstance(body, dict):
                continue
            own = _parameters(spec, body.get("parameters"), ("paths", path, method, "parameters"))
            names = {_identity(p) for _, p in own}
            merged = [(ptr, p) for ptr, p in shared if _identity(p) not in names]
            security = body.get("security", global_security)
            yield Operation(
                str(path),
                method,
                body,
                merged + own,
                security if isinstance(security, list) else [],
            )


def _identity(parameter: dict[str, Any]) -> tuple[str, str]:
    """(name, in): an operation's parameter overrides the path's one with the same identity."""
    return str(parameter.get("name")), str(parameter.get("in"))


def check_openapi(
    spec: dict[str, Any],
    text: str,
    source: str,
    manifest: dict[str, Any] | None,
    profile: str,
    report: Report,
) -> None:
    """Apply every OpenAPI rule; `manifest` is None when there is none (a bare GPT Action)."""
    if len(text) >= MAX_CHARS:
        report.add("O015", source, "", f"the document has {len(text):,} characters")
    _validate(spec, source, report)
    api_url = _manifest_api_url(manifest)
    _check_servers(spec, source, api_url, report)
    op_limit, param_limit = DESCRIPTION_LIMITS[profile]
    seen_ops = list(operations(spec))
    for op in seen_ops:
        _check_operation(op, source, op_limit, param_limit, report)
    auth = manifest.get("auth") if manifest else None
    if isinstance(auth, dict):
        _check_security(spec, seen_ops, auth, source, report)


def _validate(spec: dict[str, Any], source: str, report: Report) -> None:
    from openapi_spec_validator.shortcuts import get_validator_cls
    from openapi_spec_validator.validation.exceptions import ValidatorDetectError

    if "openapi" not in spec:
        report.add(
            "O003", source, "", 'no "openapi" version field: ChatGPT reads OpenAPI 3 documents only'
        )
        return
    try:
        if not isinstance(spec["openapi"], str):
            raise ValidatorDetectError
        validator = get_validator_cls(spec)(spec)
    except ValidatorDetectError:
        report.add(
            "O003",
            source,
            "/openapi",
            f"unsupported OpenAPI version {json.dumps(spec.get('openapi'))}",
        )
        return
    try:
        errors = list(validator.iter_errors())
    except Exception as error:  # noqa: BLE001 - the validator raises many kinds on odd input
        report.add("O003", source, "", f"the validator could not read the document: {error}")
        return
    for error in errors[:MAX_VALIDATION_ERRORS]:
        pointer = json_pointer(*error.absolute_path) if error.absolute_path else ""
        report.add("O003", source, pointer, str(error.message).splitlines()[0])
    if len(errors) > MAX_VALIDATION_ERRORS:
        report.add(
            "O003",
            source,
            "",
            f"{len(errors) - MAX_VALIDATION_ERRORS} more validation errors not shown",
        )


def _check_servers(spec: dict[str, Any], source: str, api_url: str | None, report: Report) -> None:
    servers = spec.get("servers")
    first = servers[0] if isinstance(servers, list) and servers else None
    url = first.get("url") if isinstance(first, dict) else None
    if not isinstance(url, str) or not is_absolute_http(url):
        shown = "missing" if url is None else json.dumps(url)
        report.add(
            "O004",
            source,
            "/servers/0/url" if first else "/servers",
            f"servers[0].url is {shown}; ChatGPT needs an absolute URL",
        )
        return
    check_url_host(url, source, "/servers/0/url", report)
    if api_url and is_absolute_http(api_url) and origin_of(url)[1:] != origin_of(api_url)[1:]:
        report.add(
            "O005",
            source,
            "/servers/0/url",
            f'servers[0].url "{url}" is not on the host of api.url "{api_url}"',
        )


def _check_operation(
    op: Operation, source: str, op_limit: int, param_limit: int, report: Report
) -> None:
    name = f"{op.method.upper()} {op.path}"
    operation_id = op.body.get("operationId")
    if operation_id in (None, ""):
        report.add("O006", source, op.pointer, f"{name} has no operationId")
    elif not isinstance(operation_id, str) or not OPERATION_ID.fullmatch(operation_id):
        report.add(
            "O007",
            source,
            op.pointer + "/operationId",
            f"operationId {json.dumps(operation_id)} of {name} has characters other than "
            "letters, digits and _",
        )
    description = op.body.get("description")
    if isinstance(description, str) and len(description) > op_limit:
        report.add(
            "O008",
            source,
            op.pointer + "/description",
            f"the description of {name} has {len(description)} characters; the limit is {op_limit}",
        )
    if not (description or op.body.get("summary")):
        report.add("O010", source, op.pointer, f"{name} has neither description nor summary")
    for pointer, parameter in op.parameters:
        label = f"parameter {parameter.get('name')!r} of {name}"
        text = parameter.get("description")
        if isinstance(text, str) and len(text) > param_limit:
            report.add(
                "O009",
                source,
                pointer + "/description",
                f"the description of {label} has {len(text)} characters; the limit is "
                f"{param_limit}",
            )
        elif not text:
            report.add("O016", source, pointer, f"{label} has no description")
    flag = op.body.get("x-openai-isConsequential")
    if flag is None and op.method in CHANGING_METHODS:
        report.add(
            "O013",
            source,
            op.pointer,
            f"{name} changes data but does not say whether ChatGPT must ask the user first",
        )
    elif flag is not None and not isinstance(flag, bool):
        report.add(
            "O014",
            source,
            op.pointer + "/x-openai-isConsequential",
            f"x-openai-isConsequential of {name} is {json.dumps(flag)}",
        )


def _check_security(
    spec: dict[str, Any], ops: list[Operation], auth: dict[str, Any], source: str, report: Report
) -> None:
    kind = auth.get("type")
    components = spec.get("components") if isinstance(spec.get("components"), dict) else {}
    raw = components.get("securitySchemes")
    schemes = {
        name: _resolve(spec, scheme)
        for name, scheme in (raw.items() if isinstance(raw, dict) else [])
        if isinstance(_resolve(spec, scheme), dict)
    }
    pointer = "/components/securitySchemes"
    if kind == "none":
        for op in ops:
            if op.protected:
                report.add(
                    "O011",
                    source,
                    op.pointer + "/security",
                    f"{op.method.upper()} {op.path} requires credentials but auth.type "
                    "is none, so ChatGPT sends none",
                )
        return
    expected = _expected_scheme(kind, auth)
    if expected is None:
        return  # unknown auth type: A001 says so
    if not schemes:
        report.add(
            "O012",
            source,
            pointer,
            f"auth.type is {kind} but the document declares no "
            f"securitySchemes (expected {expected})",
        )
        return
    matching = [name for name, scheme in schemes.items() if _matches(spec, scheme, kind, auth)]
    if not matching:
        for name, scheme in schemes.items():
            report.add(
                "O011",
                source,
                json_pointer("components", "securitySchemes", name),
                f"scheme {name!r} ({_describe(scheme)}) does not match auth.type {kind} "
                f"(expected {expected})",
            )
        return
    used = {key for op in ops for req in op.security if isinstance(req, dict) for key in req}
    if not used & set(matching):
        report.add(
            "O012", source, pointer, f"no operation requires the {expected} scheme {matching[0]!r}"
        )


def _expected_scheme(kind: Any, auth: dict[str, Any]) -> str | None:
    if kind == "service_http":
        return "http bearer"
    if kind == "user_http":
        return f"http {auth.get('authorization_type', 'bearer')}"
    if kind == "oauth":
        return (
            f"oauth2 authorizationCode with authorizationUrl {auth.get('client_url')} and "
            f"tokenUrl {auth.get('authorization_url')}"
        )
    return None


def _matches(spec: dict[str, Any], scheme: dict[str, Any], kind: str, auth: dict[str, Any]) -> bool:
    if kind in ("service_http", "user_http"):
        wanted = "bearer" if kind == "service_http" else auth.get("authorization_type")
        return scheme.get("type") == "http" and str(scheme.get("scheme", "")).lower() == wanted
    flows = scheme.get("flows") if isinstance(scheme.get("flows"), dict) else {}
    flow = flows.get("authorizationCode")
    if scheme.get("type") != "oauth2" or not isinstance(flow, dict):
        return False
    base = _server_url(spec)
    pairs = (("authorizationUrl", "client_url"), ("tokenUrl", "authorization_url"))
    # a URL missing from the manifest has its own finding (A005, A006): do not compare it
    return all(
        urljoin(base, str(flow.get(key, ""))) == auth[field]
        for key, field in pairs
        if auth.get(field)
    )


def _describe(scheme: dict[str, Any]) -> str:
    if scheme.get("type") == "http":
        return f"http {scheme.get('scheme')}"
    if scheme.get("type") == "oauth2":
        flows = scheme.get("flows") if isinstance(scheme.get("flows"), dict) else {}
        flow = flows.get("authorizationCode")
        if isinstance(flow, dict):
            return (
                f"oauth2 authorizationCode with authorizationUrl {flow.get('authorizationUrl')}"
                f" and tokenUrl {flow.get('tokenUrl')}"
            )
        return "oauth2 without an authorizationCode flow"
    return str(scheme.get("type"))


def _server_url(spec: dict[str, Any]) -> str:
    servers = spec.get("servers")
    if isinstance(servers, list) and servers and isinstance(servers[0], dict):
        url = servers[0].get("url")
        if isinstance(url, str):
            return url
    return ""


def _manifest_api_url(manifest: dict[str, Any] | None) -> str | None:
    api = manifest.get("api") if manifest else None
    url = api.get("url") if isinstance(api, dict) else None
    return url if isinstance(url, str) else None


def _parameters(
    spec: dict[str, Any], raw: Any, where: tuple[str, ...]
) -> list[tuple[str, dict[str, Any]]]:
    if not isinstance(raw, list):
        return []
    found = []
    for index, parameter in enumerate(raw):
        resolved = _resolve(spec, parameter)
        if isinstance(resolved, dict):
            found.append((json_pointer(*where, index), resolved))
    return found


def _resolve(spec: dict[str, Any], node: Any) -> Any:
    """Follow a local `$ref` (`#/components/...`); other references stay unresolved."""
    for _ in range(20):  # bounded: a reference cycle must not hang the checker
        if not (isinstance(node, dict) and isinstance(node.get("$ref"), str)):
            return node
        ref = node["$ref"]
        if not ref.startswith("#/"):
            return node
        target: Any = spec
        for part in ref[2:].split("/"):
            part = part.replace("~1", "/").replace("~0", "~")
            if not isinstance(target, dict) or part not in target:
                return node
            target = target[part]
        node = target
    return node
