"""Findings and the report that collects them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from generator.check._codes import RULES, Severity


def json_pointer(*parts: str | int) -> str:
    """Build an RFC 6901 JSON pointer from path parts, escaping ~ and /."""
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in parts)


@dataclass(frozen=True)
class Finding:
    """One problem: which rule, where (file or URL, plus a JSON pointer), and what was seen."""

    code: str
    source: str
    pointer: str
    message: str
    severity: Severity

    @property
    def place(self) -> str:
        """The source and pointer as one string, e.g. `openapi.yaml#/paths/~1todos/get`."""
        return f"{self.source}#{self.pointer}" if self.pointer else self.source

    @property
    def fix(self) -> str:
        """How to fix it, from the rule's catalogue entry."""
        return RULES[self.code].fix

    def as_dict(self) -> dict[str, Any]:
        """The machine-readable form used by `--json`."""
        return {
            "code": self.code,
            "severity": self.severity,
            "place": self.place,
            "source": self.source,
            "pointer": self.pointer,
            "message": self.message,
            "fix": self.fix,
        }


@dataclass
class Report:
    """Every finding of one check run, in the order they were found."""

    target: str
    profile: str
    findings: list[Finding] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)
    exported_by: str | None = None  # the command that wrote the checked files, if any

    def add(
        self,
        code: str,
        source: str,
        pointer: str,
        message: str,
        severity: Severity | None = None,
    ) -> None:
        """Record a finding; its severity defaults to the rule's."""
        self.findings.append(
            Finding(code, source, pointer, message, severity or RULES[code].severity)
        )

    def count(self, severity: Severity) -> int:
        """How many findings have this severity."""
        return sum(1 for finding in self.findings if finding.severity == severity)
