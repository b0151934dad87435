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
)
from generator.check._urls import is_absolute_http, is_local
from generator.errors import UsageError


@dataclass(frozen=True)
class Options:
    """Everything a run needs besides TARGET."""

    profile: str = "plugin"
    domain: str | None = None
    timeout: float = 5.0
    client_id: str | None = None
    client_secret: str | None = None


def run_check(target: str, options: Options) -> Report:
    """Check a directory or a base URL and return the report; bad targets raise UsageError."""
    report = Report(target=target, profile=options.profile)
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
        report.checked.append(
            f"the manifest and OpenAPI document written by `{report.exported_by}`"
        )
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
    LiveChecker(
        base_url,
        options.profile,
        report,
        domain_url,
        options.timeout,
        options.client_id,
        options.client_secret,
    ).run()


def _check_directory(
    directory: Path, options: Options, report: Report, label: str | None = None
) -> None:
    from generator.check._manifest import check_manifest
    from generator.check._openapi import check_openapi

    manifest_doc = find_manifest(directory)
    spec_doc = find_openapi(directory, api_url_of(manifest_doc))
    if manifest_doc is None and spec_doc is None:
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
        return
    report.checked.append(spec_doc.source)
    spec = _parse(spec_doc, report, parse_openapi, "O002")
    if spec is not None and spec_doc.text is not None:
        check_openapi(spec, spec_doc.text, spec_doc.source, manifest, options.profile, report)


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
