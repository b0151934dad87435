"""One check run: decide what TARGET is, gather its documents, apply the rules."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from generator.check._findings import Report
from generator.check._manifest import parse_manifest
from generator.check._openapi import parse_openapi
from generator.check._sources import (
    MANIFEST_PATH,
    OPENAPI_NAMES,
    Document,
    api_url_of,
    export_project,
    find_manifest,
    find_openapi,
    generated_package,
    read_document,
)
from generator.check._urls import is_absolute_http, is_local
from generator.errors import UsageError

DEFAULT_MCP_PATH = "/mcp"
MCP_TOOLS_PATH = "mcp/tools.json"
PROTECTED_RESOURCE_PATH = ".well-known/oauth-protected-resource.json"
AUTHORIZATION_SERVER_PATH = ".well-known/oauth-authorization-server.json"


@dataclass(frozen=True)
class Options:
    """Everything a run needs besides TARGET."""

    profile: str = "plugin"
    domain: str | None = None
    timeout: float = 5.0
    client_id: str | None = None
    client_secret: str | None = None
    mcp_path: str | None = None  # None: the default /mcp, checked only when it is served
    mcp_token: str | None = None
    apps_challenge: str | None = None

    @property
    def endpoint_path(self) -> str:
        """The MCP endpoint's path."""
        return self.mcp_path or DEFAULT_MCP_PATH


def run_check(target: str, options: Options) -> Report:
    """Check a directory or a base URL and return the report; bad targets raise UsageError."""
    report = Report(target=target, profile=options.profile)
    if options.mcp_path is not None and not options.mcp_path.startswith("/"):
        raise UsageError(f"--mcp-path {options.mcp_path} is not a path: pass one such as /mcp.")
    if "://" in target:
        _check_url(target, options, report)
        return report
    directory = Path(target)
    if directory.is_file() and directory.name == "ai-plugin.json":
        raise UsageError(
            f"{target} is a file: pass the directory that holds .well-known/, "
            f"here {directory.resolve().parent.parent}."
        )
    if not directory.is_dir():
        raise UsageError(
            f"{target} is neither a directory nor an http(s) URL: pass a plugin "
            "project directory or a base URL such as http://localhost:5003."
        )
    package = generated_package(directory)
    if package is None:
        _check_directory(directory, options, report)
        return report
    with tempfile.TemporaryDirectory(prefix="plugin-check-") as exported:
        export_project(directory, package, Path(exported))
        report.exported_by = f"python -m {package} export"
        report.checked.append(f"the files written by `{report.exported_by}`")
        _check_directory(Path(exported), options, report, label=f"{target} (exported)")
    return report


def normalize_domain(domain: str) -> str:
    """Turn `--domain` (a host[:port] or a URL) into a base URL."""
    if "://" not in domain:
        scheme = "http" if is_local(domain) else "https"
        domain = f"{scheme}://{domain}"
    if not is_absolute_http(domain):
        raise UsageError(
            f"--domain {domain} is not a host name: pass one such as "
            "todo.example.com or localhost:5003."
        )
    parts = urlsplit(domain)
    return f"{parts.scheme}://{parts.netloc}"


def _check_url(target: str, options: Options, report: Report) -> None:
    from generator.check._live import LiveChecker

    if not is_absolute_http(target):
        raise UsageError(
            f"{target} is not an http(s) URL: pass a base URL such as "
            "https://todo.example.com or http://localhost:5003."
        )
    parts = urlsplit(target)
    base_url = f"{parts.scheme}://{parts.netloc}"
    domain_url = normalize_domain(options.domain) if options.domain else base_url
    if options.profile != "chatgpt-app":
        LiveChecker(
            base_url,
            options.profile,
            report,
            domain_url,
            options.timeout,
            options.client_id,
            options.client_secret,
        ).run()
    from generator.check._mcp_live import McpLiveChecker

    McpLiveChecker(base_url, domain_url, options, report).run()


def _check_directory(
    directory: Path, options: Options, report: Report, label: str | None = None
) -> None:
    has_mcp = (directory / MCP_TOOLS_PATH).is_file()
    if options.profile == "chatgpt-app":
        manifest_doc = find_manifest(directory)
        if not has_mcp and manifest_doc is None:
            raise UsageError(
                f"{label or directory} has no {MCP_TOOLS_PATH}: pass a project directory or "
                "the tree its `export` command writes."
            )
        domain_url = (
            normalize_domain(options.domain)
            if options.domain
            else _domain_url(options, {"api": {"url": api_url_of(manifest_doc)}})
        )
        if not has_mcp:
            report.add("P001", MCP_TOOLS_PATH, "", f"{label or directory} has no {MCP_TOOLS_PATH}")
            return
        _check_mcp_files(directory, options, report, domain_url)
        return
    domain_url = _check_plugin_files(directory, options, report, label, has_mcp)
    if has_mcp:
        _check_mcp_files(directory, options, report, domain_url)


def _check_mcp_files(directory: Path, options: Options, report: Report, domain_url: str) -> None:
    """The MCP rules on what `export` writes: the tool list and the OAuth metadata."""
    import json

    from generator.check._mcp_rules import (
        check_authorization_server,
        check_protected_resource,
        check_tools,
    )

    def load(path: str) -> tuple[bool, Any]:
        document = read_document(directory / path, path)
        report.checked.append(path)
        if document.text is None:
            return False, None
        try:
            return True, json.loads(document.text)
        except json.JSONDecodeError:
            return False, None

    metadata = {}
    has_auth = False  # the OAuth metadata files exist only when the server has OAuth
    for path, code in ((PROTECTED_RESOURCE_PATH, "D003"), (AUTHORIZATION_SERVER_PATH, "D005")):
        if (directory / path).is_file():
            has_auth = True
            parsed, data = load(path)
            if parsed:
                metadata[path] = data
            else:
                report.add(code, path, "", "the file is not UTF-8 JSON")
    issuer = None
    if PROTECTED_RESOURCE_PATH in metadata:
        expected = domain_url + options.endpoint_path if domain_url else None
        issuer = check_protected_resource(
            metadata[PROTECTED_RESOURCE_PATH], PROTECTED_RESOURCE_PATH, expected, report
        )
    if AUTHORIZATION_SERVER_PATH in metadata:
        check_authorization_server(
            metadata[AUTHORIZATION_SERVER_PATH], AUTHORIZATION_SERVER_PATH, issuer, report
        )
    parsed, tools = load(MCP_TOOLS_PATH)
    if not parsed:
        report.add("P005", MCP_TOOLS_PATH, "", "the file is not UTF-8 JSON")
        return
    check_tools(
        tools,
        MCP_TOOLS_PATH,
        report,
        chatgpt=options.profile == "chatgpt-app",
        has_auth=has_auth,
    )


def _check_plugin_files(
    directory: Path, options: Options, report: Report, label: str | None, has_mcp: bool
) -> str:
    """The manifest and OpenAPI rules; returns the plugin's domain URL ('' when unknown)."""
    from generator.check._manifest import check_manifest
    from generator.check._openapi import check_openapi

    manifest_doc = find_manifest(directory)
    spec_doc = find_openapi(directory, api_url_of(manifest_doc))
    if manifest_doc is None and spec_doc is None and not has_mcp:
        raise UsageError(
            f"{label or directory} has neither {MANIFEST_PATH} nor "
            f"{' / '.join(OPENAPI_NAMES)}: pass a plugin project directory."
        )
    manifest = None
    if manifest_doc is None:
        if options.profile == "plugin":
            report.add("M001", MANIFEST_PATH, "", f"{label or directory} has no {MANIFEST_PATH}")
    else:
        report.checked.append(manifest_doc.source)
        manifest = _parse(manifest_doc, report, parse_manifest, "M002")
    domain_url = _domain_url(options, manifest)
    if manifest is not None:
        check_manifest(manifest, manifest_doc.source, domain_url, report)
    if spec_doc is None:
        where = (MANIFEST_PATH, "/api/url") if manifest else (label or str(directory), "")
        names = " / ".join(OPENAPI_NAMES)
        report.add("O001", *where, f"no OpenAPI file at api.url's path or named {names}")
        return domain_url
    report.checked.append(spec_doc.source)
    spec = _parse(spec_doc, report, parse_openapi, "O002")
    if spec is not None and spec_doc.text is not None:
        check_openapi(spec, spec_doc.text, spec_doc.source, manifest, options.profile, report)
    return domain_url


def _parse(
    document: Document, report: Report, parse: Callable[[str, str, Report], Any], code: str
) -> Any:
    if document.text is None:
        report.add(code, document.source, "", "the file is not UTF-8 text")
        return None
    return parse(document.text, document.source, report)


def _domain_url(options: Options, manifest: dict[str, Any] | None) -> str:
    """The plugin's own base URL: --domain, else the origin of api.url."""
    if options.domain:
        return normalize_domain(options.domain)
    api = manifest.get("api") if manifest else None
    url = api.get("url") if isinstance(api, dict) else None
    if isinstance(url, str) and is_absolute_http(url):
        parts = urlsplit(url)
        return f"{parts.scheme}://{parts.netloc}"
    return ""
