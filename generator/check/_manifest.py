"""Rules for the manifest (`M`), its auth block (`A`) and its URLs (`U`)."""

from __future__ import annotations

import json
import re
from typing import Any

from generator.check._findings import Report, json_pointer
from generator.check._urls import host_of, is_absolute_http, is_local, on_domain

NAME_FOR_MODEL = re.compile(r"[A-Za-z0-9_]+")
EMAIL = re.compile(r"[^@\s]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+")
AUTH_TYPES = ("none", "service_http", "user_http", "oauth")
TOKEN_CONTENT_TYPES = ("application/json", "application/x-www-form-urlencoded")

# field -> maximum length, for the string fields the format limits
LIMITS = {
    "name_for_human": ("M006", 20),
    "name_for_model": ("M007", 50),
    "description_for_human": ("M009", 100),
    "description_for_model": ("M010", 8000),
}
STRING_FIELDS = (
    "schema_version",
    "name_for_human",
    "name_for_model",
    "description_for_human",
    "description_for_model",
    "logo_url",
    "contact_email",
    "legal_info_url",
)
OBJECT_FIELDS = ("auth", "api")
KNOWN_FIELDS = frozenset(STRING_FIELDS + OBJECT_FIELDS)

# keys each auth type uses; anything else in its block is reported as out of place
AUTH_KEYS = {
    "none": {"type"},
    "service_http": {"type", "authorization_type", "verification_tokens"},
    "user_http": {"type", "authorization_type"},
    # authorization_type is common in published oauth manifests and harmless there
    "oauth": {
        "type",
        "authorization_type",
        "client_url",
        "scope",
        "authorization_url",
        "authorization_content_type",
        "verification_tokens",
    },
}


def parse_manifest(text: str, source: str, report: Report) -> dict[str, Any] | None:
    """Parse the manifest's JSON; report M002 with the line and column when it is not an object."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        report.add(
            "M002",
            source,
            "",
            f"invalid JSON at line {error.lineno}, column {error.colno}: {error.msg}",
        )
        return None
    if not isinstance(data, dict):
        report.add(
            "M002", source, "", f"the manifest is a JSON {type(data).__name__}, not an object"
        )
        return None
    return data


def check_manifest(manifest: dict[str, Any], source: str, domain_url: str, report: Report) -> None:
    """Apply every manifest, auth and URL rule; `domain_url` is the plugin's own base URL."""
    _check_fields(manifest, source, report)
    _check_api(manifest.get("api"), source, report)
    auth = manifest.get("auth")
    if isinstance(auth, dict):
        _check_auth(auth, source, report)
    _check_urls(manifest, source, domain_url, report)


def _check_fields(manifest: dict[str, Any], source: str, report: Report) -> None:
    for name in STRING_FIELDS + OBJECT_FIELDS:
        value = manifest.get(name)
        expected = dict if name in OBJECT_FIELDS else str
        if value is None or value == "":
            report.add("M003", source, json_pointer(name), f"{name} is missing or empty")
        elif not isinstance(value, expected):
            kind = "an object" if expected is dict else "a string"
            report.add(
                "M004",
                source,
                json_pointer(name),
                f"{name} is a JSON {_json_type(value)}, expected {kind}",
            )
    version = manifest.get("schema_version")
    if isinstance(version, str) and version and version != "v1":
        report.add("M005", source, "/schema_version", f'schema_version is "{version}", not "v1"')
    for name, (code, limit) in LIMITS.items():
        value = manifest.get(name)
        if isinstance(value, str) and len(value) > limit:
            report.add(
                code,
                source,
                json_pointer(name),
                f"{name} has {len(value):,} characters; the limit is {limit:,}",
            )
    model_name = manifest.get("name_for_model")
    if isinstance(model_name, str) and model_name and not NAME_FOR_MODEL.fullmatch(model_name):
        report.add(
            "M008",
            source,
            "/name_for_model",
            f'name_for_model "{model_name}" has characters other than letters, digits and _',
        )
    email = manifest.get("contact_email")
    if isinstance(email, str) and email and not EMAIL.fullmatch(email):
        report.add("M012", source, "/contact_email", f'"{email}" is not an e-mail address')
    for name in sorted(set(manifest) - KNOWN_FIELDS):
        report.add("M013", source, json_pointer(name), f'unknown field "{name}"')


def _check_api(api: Any, source: str, report: Report) -> None:
    if not isinstance(api, dict):
        return
    if api.get("type") != "openapi":
        report.add(
            "M011", source, "/api/type", f'api.type is {json.dumps(api.get("type"))}, not "openapi"'
        )
    if api.get("url") in (None, ""):
        report.add("M003", source, "/api/url", "api.url is missing or empty")
    elif not isinstance(api["url"], str):
        report.add(
            "M004",
            source,
            "/api/url",
            f"api.url is a JSON {_json_type(api['url'])}, expected a string",
        )
    flag = api.get("is_user_authenticated")
    if flag is not None and not isinstance(flag, bool):
        report.add(
            "M004",
            source,
            "/api/is_user_authenticated",
            f"api.is_user_authenticated is a JSON {_json_type(flag)}, expected a boolean",
        )


def _check_auth(auth: dict[str, Any], source: str, report: Report) -> None:
    kind = auth.get("type")
    if kind not in AUTH_TYPES:
        report.add(
            "A001",
            source,
            "/auth/type",
            f"auth.type is {json.dumps(kind)}, expected one "
            "of none, service_http, user_http, oauth",
        )
        return
    if kind in ("service_http", "user_http"):
        allowed = ("bearer",) if kind == "service_http" else ("bearer", "basic")
        value = auth.get("authorization_type")
        if value not in allowed:
            report.add(
                "A002",
                source,
                "/auth/authorization_type",
                f"authorization_type is {json.dumps(value)}; {kind} needs "
                + " or ".join(f'"{a}"' for a in allowed),
            )
    if kind in ("service_http", "oauth"):
        _check_verification_tokens(auth.get("verification_tokens"), source, report)
    if kind == "oauth":
        for key, code in (("client_url", "A005"), ("authorization_url", "A006")):
            if auth.get(key) in (None, ""):
                report.add(code, source, json_pointer("auth", key), f"auth.{key} is missing")
        content_type = auth.get("authorization_content_type")
        if content_type not in TOKEN_CONTENT_TYPES:
            report.add(
                "A007",
                source,
                "/auth/authorization_content_type",
                f"authorization_content_type is {json.dumps(content_type)}",
            )
        if not isinstance(auth.get("scope"), str):
            report.add(
                "A008",
                source,
                "/auth/scope",
                f"auth.scope is {json.dumps(auth.get('scope'))}, expected a string",
            )
    for key in sorted(set(auth) - AUTH_KEYS[kind]):
        report.add(
            "A009",
            source,
            json_pointer("auth", key),
            f"auth.{key} does not belong to auth type {kind}",
        )


def _check_verification_tokens(tokens: Any, source: str, report: Report) -> None:
    pointer = "/auth/verification_tokens"
    if not isinstance(tokens, dict) or not all(isinstance(value, str) for value in tokens.values()):
        report.add(
            "A003",
            source,
            pointer,
            f"verification_tokens is {json.dumps(tokens)}, expected an object of strings",
        )
    elif not tokens.get("openai", "").strip():
        report.add(
            "A004",
            source,
            pointer + "/openai",
            "verification_tokens.openai is empty: ChatGPT verifies the plugin with it",
        )


def _check_urls(manifest: dict[str, Any], source: str, domain_url: str, report: Report) -> None:
    api = manifest.get("api") if isinstance(manifest.get("api"), dict) else {}
    auth = manifest.get("auth") if isinstance(manifest.get("auth"), dict) else {}
    on_plugin_domain = [
        ("/api/url", api.get("url")),
        ("/logo_url", manifest.get("logo_url")),
        ("/legal_info_url", manifest.get("legal_info_url")),
    ]
    elsewhere = []
    if auth.get("type") == "oauth":
        elsewhere = [
            ("/auth/client_url", auth.get("client_url")),
            ("/auth/authorization_url", auth.get("authorization_url")),
        ]
    for pointer, url in on_plugin_domain + elsewhere:
        if not isinstance(url, str) or not url:
            continue  # already reported as missing or mistyped
        if not is_absolute_http(url):
            report.add("U001", source, pointer, f'"{url}" is not an absolute http(s) URL')
            continue
        check_url_host(url, source, pointer, report)
        if (pointer, url) in on_plugin_domain and domain_url and not on_domain(url, domain_url):
            report.add(
                "U002", source, pointer, f'"{url}" is not on the plugin\'s domain {domain_url}'
            )
    kind = auth.get("type")
    if domain_url and kind in AUTH_TYPES and kind != "none" and is_local(domain_url):
        report.add(
            "U004",
            source,
            "/auth/type",
            f"auth type {kind} on {domain_url}: ChatGPT accepts only none on localhost",
        )


def check_url_host(url: str, source: str, pointer: str, report: Report) -> None:
    """Report http:// on a public host (U003) and 0.0.0.0 as a host (U005)."""
    if host_of(url) == "0.0.0.0":
        report.add("U005", source, pointer, f'"{url}" uses 0.0.0.0 as its host')
    elif url.lower().startswith("http://") and not is_local(url):
        report.add("U003", source, pointer, f'"{url}" uses http:// on a public host')


def _json_type(value: Any) -> str:
    names = {
        bool: "boolean",
        int: "number",
        float: "number",
        str: "string",
        list: "array",
        dict: "object",
        type(None): "null",
    }
    return names.get(type(value), type(value).__name__)
