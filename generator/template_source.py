"""Where the template comes from, and which version of it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class TemplateSource:
    """A Copier source: a path or URL, and the git ref to render (None: Copier's default)."""

    src_path: str
    vcs_ref: str | None = None


def default_source() -> TemplateSource:
    """The template that ships with this generator."""
    return TemplateSource(src_path=str(Path(__file__).resolve().parent.parent))
