"""Regenerate template/constraints.txt: exact pins of everything a generated project installs.

    make pins                       # or: .venv/bin/python -m generator.pins

Renders the template once per auth mode, installs the rendered projects' dependencies (runtime
and every extra) together with the generator's own test extra into a throwaway virtual
environment, unconstrained, so the resolver picks the newest versions the ranges allow, and
writes `name==version` for every distribution a rendered project needs there, transitively,
and for uv, which the generated Makefile installs when there is none (`TOOLS`).
Resolving both together keeps the pins installable into the generator's .venv, which `make`
installs with the same file, so the generator's tests run exactly the pinned versions.

This is a tool of the generator's repository, not of `plugin`: it needs a checkout.
"""

from __future__ import annotations

import argparse
import difflib
import shutil
import subprocess
import sys
import tempfile
import tomllib
from collections.abc import Iterable, Sequence
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

REPO = Path(__file__).resolve().parent.parent
CONSTRAINTS = REPO / "template" / "constraints.txt"
MODES = ("none", "service_http", "user_http", "oauth")
#: Installed by the generated Makefile, not declared by the project: pinned all the same, so that
#: every project bootstraps the same uv (the Makefile reads its version from constraints.txt).
TOOLS = ("uv",)
HEADER = """\
# Exact versions of everything this project installs: its dependencies and dev tools, and
# theirs. `make` installs with `-c constraints.txt`; the chatgpt-plugin-generator's own tests
# ran with exactly these versions. To bump them, see "Dependencies" in README.md.
"""


class PinsError(Exception):
    """A step failed; the message is one sentence for the person running `make pins`."""


def project_requirements(project: Path) -> list[str]:
    """The requirements a rendered project declares: its dependencies and all its extras."""
    data = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    extras = data.get("optional-dependencies", {})
    return [*data.get("dependencies", []), *(req for group in extras.values() for req in group)]


def render_projects(workdir: Path) -> list[Path]:
    """The template rendered once per auth mode (defaults otherwise) from the working tree."""
    import copier

    snapshot = workdir / "template-snapshot"
    snapshot.mkdir()
    shutil.copy2(REPO / "copier.yml", snapshot / "copier.yml")
    shutil.copytree(REPO / "template", snapshot / "template")
    projects = []
    for mode in MODES:
        destination = workdir / f"project-{mode}"
        copier.run_copy(
            str(snapshot),
            destination,
            data={"name": "Pins Todo", "auth": mode},
            defaults=True,
            quiet=True,
            unsafe=False,
        )
        projects.append(destination)
    return projects


def generator_test_requirements() -> list[str]:
    """The generator's dependencies and its test extra, from its pyproject.toml."""
    data = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return [*data["dependencies"], *data["optional-dependencies"]["test"]]


def fresh_environment(venv: Path, requirements: Sequence[str]) -> Path:
    """Install `requirements`, unconstrained, into a new venv; return its site-packages."""
    uv = shutil.which("uv") or shutil.which("uv", path=str(Path(sys.executable).parent))
    if uv:
        commands = [
            [uv, "venv", "--quiet", "--python", sys.executable, str(venv)],
            [uv, "pip", "install", "--quiet", "--python", str(venv / "bin/python"), *requirements],
        ]
    else:
        commands = [
            [sys.executable, "-m", "venv", "--without-pip", str(venv)],
            [
                sys.executable, "-m", "pip", "--python", str(venv / "bin/python"), "install",
                "--quiet", "--disable-pip-version-check", *requirements,
            ],
        ]  # fmt: skip
    for command in commands:
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise PinsError(
                f"Resolving the dependencies failed ({' '.join(command[:3])} ...):\n"
                f"{done.stderr.strip()}"
            )
    (site_packages,) = venv.glob("lib/python*/site-packages")
    return site_packages


def closure(roots: Iterable[str], site_packages: Path) -> dict[str, str]:
    """{canonical name: version} of every distribution `roots` need, as installed there."""
    installed = {
        canonicalize_name(dist.metadata["Name"]): dist
        for dist in metadata.distributions(path=[str(site_packages)])
    }
    pins: dict[str, str] = {}
    seen: set[tuple[str, frozenset[str]]] = set()
    pending = [Requirement(root) for root in roots]
    while pending:
        requirement = pending.pop()
        name = canonicalize_name(requirement.name)
        key = (name, frozenset(requirement.extras))
        if key in seen:
            continue
        seen.add(key)
        if name not in installed:
            raise PinsError(f"{requirement} is needed but was not installed.")
        dist = installed[name]
        pins[name] = dist.version
        extras = {"", *requirement.extras}
        for text in dist.requires or []:
            needed = Requirement(text)
            if needed.marker is None or any(
                needed.marker.evaluate({"extra": extra}) for extra in extras
            ):
                pending.append(needed)
    return pins


def root_requirements(requirements: Iterable[str]) -> list[str]:
    """The requirements whose environment markers hold on this machine."""
    return [
        text
        for text in requirements
        if Requirement(text).marker is None or Requirement(text).marker.evaluate({"extra": ""})
    ]


def render_pins(pins: dict[str, str]) -> str:
    """The constraints file: the header, then one `name==version` a line, sorted by name."""
    return HEADER + "".join(f"{name}=={pins[name]}\n" for name in sorted(pins))


def regenerate(also: Sequence[str] = ()) -> tuple[str, str]:
    """Resolve afresh and return (old text, new text) of template/constraints.txt."""
    with tempfile.TemporaryDirectory(prefix="plugin-pins-") as tmp:
        workdir = Path(tmp)
        projects = render_projects(workdir)
        wanted = sorted({req for project in projects for req in project_requirements(project)})
        wanted += [*TOOLS, *also]
        site_packages = fresh_environment(
            workdir / "venv", [*generator_test_requirements(), *wanted]
        )
        pins = closure(root_requirements(wanted), site_packages)
    old = CONSTRAINTS.read_text(encoding="utf-8") if CONSTRAINTS.exists() else ""
    return old, render_pins(pins)


def main(argv: Sequence[str] | None = None) -> int:
    """Write template/constraints.txt and print what changed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--also",
        action="append",
        default=[],
        metavar="REQUIREMENT",
        help="pin this requirement too, as if a rendered project declared it (repeatable)",
    )
    args = parser.parse_args(argv)
    if not (REPO / "copier.yml").is_file():
        print("generator.pins needs a checkout of the generator's repository.", file=sys.stderr)
        return 2
    try:
        old, new = regenerate(args.also)
    except PinsError as error:
        print(error, file=sys.stderr)
        return 1
    CONSTRAINTS.write_text(new, encoding="utf-8")
    changes = [
        line
        for line in difflib.unified_diff(old.splitlines(), new.splitlines(), lineterm="", n=0)
        if line[:1] in "+-" and not line.startswith(("+++", "---", "+#", "-#"))
    ]
    pinned = sum(1 for line in new.splitlines() if line and not line.startswith("#"))
    print(f"{CONSTRAINTS.relative_to(REPO)}: {pinned} pins, {len(changes)} lines changed.")
    for line in changes:
        print(f"  {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
