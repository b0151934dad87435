"""template/constraints.txt: generated projects install exactly what the generator's tests ran.

The generator's .venv is installed with the same file (the root Makefile), so every pin must be
the version installed here, and everything a rendered project needs must be pinned.
"""

from __future__ import annotations

import sysconfig
from collections.abc import Callable
from importlib import metadata
from pathlib import Path

import pytest
from helpers.pins import HOW_TO_FIX, PINS_FILE, declared, installed_closure, read_pins
from helpers.rendering import MODES
from packaging.utils import canonicalize_name
from packaging.version import Version

from generator import pins as pins_tool


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
