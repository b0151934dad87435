"""How a report is shown: one line per finding and a summary, or one JSON document."""

from __future__ import annotations

import json

from generator.check._findings import Report

_SEVERITY_ORDER = {"error": 0, "warning": 1, "note": 2}


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def summary_line(report: Report) -> str:
    """`<target>: 1 error, 2 warnings, 0 notes (plugin rules).`"""
    counts = ", ".join(
        _plural(report.count(severity), severity)  # type: ignore[arg-type]
        for severity in ("error", "warning", "note")
    )
    where = f", on what `{report.exported_by}` writes" if report.exported_by else ""
    return f"{report.target}: {counts} ({report.profile} rules{where})."


def as_text(report: Report) -> str:
    """One line per finding (errors first, then in the order found) and the summary line."""
    ordered = sorted(report.findings, key=lambda finding: _SEVERITY_ORDER[finding.severity])
    lines = [
        f"{finding.severity} {finding.code} {finding.place}: {finding.message}. Fix: {finding.fix}"
        for finding in ordered
    ]
    lines.append(summary_line(report))
    return "\n".join(lines)


def as_json(report: Report) -> str:
    """The report as a JSON document (stable keys; see the README's "Checking a plugin")."""
    document = {
        "target": report.target,
        "profile": report.profile,
        "checked": report.checked,
        "exported_by": report.exported_by,
        "findings": [finding.as_dict() for finding in report.findings],
        "summary": {
            "errors": report.count("error"),
            "warnings": report.count("warning"),
            "notes": report.count("note"),
            "ok": report.count("error") == 0,
        },
    }
    return json.dumps(document, indent=2, ensure_ascii=False)


def error_as_json(target: str, profile: str, message: str) -> str:
    """The JSON document for a target that cannot be checked at all (exit status 2)."""
    document = {
        "target": target,
        "profile": profile,
        "error": {"message": message, "exit_status": 2},
        "findings": [],
        "summary": {"errors": 0, "warnings": 0, "notes": 0, "ok": False},
    }
    return json.dumps(document, indent=2, ensure_ascii=False)
