"""Reading template/constraints.txt and what this environment has installed."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from helpers.repos import REPO_ROOT

PINS_FILE = REPO_ROOT / "template" / "constraints.txt"
PIN_LINE = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([0-9][^\s;=]*)$")
HOW_TO_FIX = "run `make pins` (see the Dependencies section of template/README.md.jinja)"


def read_pins(text: str) -> dict[str, str]:
    """{canonical name: version}; every line that is not a comment must be `name==version`."""
    pins: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        match = PIN_LINE.match(line)
        assert match, f"constraints.txt line {number} is not an exact pin: {line!r}"
        name = canonicalize_name(match[1])
        assert name not in pins, f"constraints.txt pins {name} twice"
        pins[name] = match[2]
    return pins


def declared(project: Path) -> list[Requirement]:
    """What a rendered project's pyproject.toml asks for: dependencies and every extra."""
    data = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    groups = data.get("optional-dependencies", {}).values()
    texts = [*data.get("dependencies", []), *(text for group in groups for text in group)]
    return [Requirement(text) for text in texts]


def installed_closure(roots: Iterable[Requirement]) -> set[str]:
    """Canonical names of every distribution installed here that `roots` pull in."""
    names: set[str] = set()
    seen: set[tuple[str, frozenset[str]]] = set()
    pending = [r for r in roots if r.marker is None or r.marker.evaluate({"extra": ""})]
    while pending:
        requirement = pending.pop()
        key = (canonicalize_name(requirement.name), frozenset(requirement.extras))
        if key in seen:
            continue
        seen.add(key)
        names.add(key[0])
        try:
            requires = metadata.distribution(requirement.name).requires or []
        except metadata.PackageNotFoundError:
            pytest.fail(f"{requirement} is needed by a rendered project but not installed here")
        extras = {"", *requirement.extras}
        for text in requires:
            child = Requirement(text)
            if child.marker is None or any(child.marker.evaluate({"extra": e}) for e in extras):
                pending.append(child)
    return names
