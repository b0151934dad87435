"""template/constraints.txt: generated projects install exactly what the generator's tests ran.

The generator's .venv is installed with the same file (the root Makefile), so every pin must be
the version installed here, and everything a rendered project needs must be pinned.
"""

from __future__ import annotations

import re
import sysconfig
import tomllib
from collections.abc import Callable, Iterable
from importlib import metadata
from pathlib import Path

import pytest
from conftest import MODES, REPO
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from generator import pins as pins_tool

PINS_FILE = REPO / "template" / "constraints.txt"
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


@pytest.fixture(scope="module")
def pins() -> dict[str, str]:
    return read_pins(PINS_FILE.read_text(encoding="utf-8"))


def test_every_pin_is_the_version_the_generator_tests_run_with(pins: dict[str, str]) -> None:
    wrong = []
    for name, version in sorted(pins.items()):
        try:
            here = metadata.version(name)
        except metadata.PackageNotFoundError:
            wrong.append(f"{name}=={version} is pinned but not installed in this environment")
            continue
        if Version(here) != Version(version):
            wrong.append(f"{name}=={version} is pinned but {here} is installed")
    assert not wrong, "\n".join(wrong) + f"\nReinstall .venv (`make test` does) or {HOW_TO_FIX}."


@pytest.mark.parametrize("mode", MODES)
def test_everything_a_rendered_project_installs_is_pinned(
    mode: str, rendered_project: Callable[[str], Path], pins: dict[str, str]
) -> None:
    project = rendered_project(mode)

    missing = sorted(installed_closure(declared(project)) - set(pins))

    assert not missing, f"the {mode} project installs unpinned {missing}: {HOW_TO_FIX}"


@pytest.mark.parametrize("mode", MODES)
def test_pins_satisfy_what_a_rendered_project_declares(
    mode: str, rendered_project: Callable[[str], Path], pins: dict[str, str]
) -> None:
    outside = [
        f"{requirement} (pinned {pins[name]})"
        for requirement in declared(rendered_project(mode))
        if (name := canonicalize_name(requirement.name)) in pins
        and not requirement.specifier.contains(pins[name], prereleases=True)
    ]
    assert not outside, f"pins outside the declared ranges: {outside}"


def test_a_rendered_project_carries_the_pins_verbatim(
    rendered_project: Callable[[str], Path],
) -> None:
    assert (rendered_project("oauth") / "constraints.txt").read_bytes() == PINS_FILE.read_bytes()


def test_closure_follows_extras_and_skips_what_an_extra_alone_needs() -> None:
    site_packages = Path(sysconfig.get_paths()["purelib"])

    with_extra = pins_tool.closure(["uvicorn[standard]>=0.30"], site_packages)
    plain = pins_tool.closure(["uvicorn>=0.30"], site_packages)

    assert with_extra["uvicorn"] == metadata.version("uvicorn")
    assert {"uvloop", "httptools", "watchfiles", "websockets", "h11", "click"} <= set(with_extra)
    assert "uvloop" not in plain and "h11" in plain


def test_pins_file_written_by_the_tool_reads_back() -> None:
    text = pins_tool.render_pins({"b-pkg": "2.0", "a-pkg": "1.0.post1"})

    assert text.startswith("#")
    assert read_pins(text) == {"a-pkg": "1.0.post1", "b-pkg": "2.0"}
    assert text.splitlines()[-2:] == ["a-pkg==1.0.post1", "b-pkg==2.0"]
