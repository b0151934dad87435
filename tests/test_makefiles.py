"""The Makefiles: a generated project's builds .venv with uv, installs uv once per user (or
into .venv) when there is none, or falls back to pip; the repository's `make demo PORT=...`
serves the demo there, or says why it cannot.

Each way runs the real `make`, with the real uv and pip, offline: the only package source is a
local wheelhouse of the wheels this environment has installed (repacked from its site-packages,
since the tests never reach an index). The wheelhouse also holds newer decoy releases of pinned
packages (and of uv), so an installer that ignored constraints.txt would pick them. The per-user
uv goes to a directory of each test's own (PLUGIN_TOOLS), never to the real home.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable
from importlib import metadata
from pathlib import Path

import httpx
import pytest
import yaml
from helpers.commands import default_sigint
from helpers.pins import PINS_FILE, declared, installed_closure, read_pins
from helpers.repos import REPO_ROOT as REPO
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

DECOY = "iniconfig"  # pytest needs it; a decoy 99.0 would win without the pin
DECOY_VERSION = "99.0"
UV = Path(sys.executable).parent / "uv"
UV_PIN = read_pins(PINS_FILE.read_text(encoding="utf-8")).get("uv", "")


def repack(dist: metadata.Distribution, out: Path, version: str | None = None) -> Path:
    """A wheel of an installed distribution, rebuilt from its RECORD (optionally re-versioned)."""
    name = re.sub(r"[-_.]+", "_", dist.metadata["Name"])
    version = version or dist.version
    wheel_meta = dist.read_text("WHEEL") or ""
    tags = [
        line.split(":", 1)[1].strip().split("-")
        for line in wheel_meta.splitlines()
        if "Tag:" in line
    ]
    tag = "-".join(".".join(dict.fromkeys(t[i] for t in tags)) for i in range(3))
    scripts = {ep.name for ep in dist.entry_points if ep.group.endswith("_scripts")}
    info, data = f"{name}-{version}.dist-info", f"{name}-{version}.data"
    target = out / f"{name}-{version}-{tag}.whl"
    records = []
    with zipfile.ZipFile(target, "w", zipfile.ZIP_STORED) as archive:
        for file in dist.files or []:
            parts = file.parts
            if "__pycache__" in parts:
                continue
            if parts[0] == "..":
                # ../../../bin/NAME: entry-point wrappers are the installer's; keep shipped ones.
                if parts[:4] != ("..", "..", "..", "bin") or parts[-1] in scripts:
                    continue
                arcname = f"{data}/scripts/{parts[-1]}"
            elif parts[0].endswith(".dist-info"):
                if parts[-1] in {"RECORD", "INSTALLER", "REQUESTED", "direct_url.json"}:
                    continue
                arcname = "/".join((info, *parts[1:]))
            else:
                arcname = file.as_posix()
            path = Path(str(file.locate()))
            content = path.read_bytes()
            if arcname == f"{info}/METADATA":
                content = re.sub(rb"(?m)^Version: .*$", f"Version: {version}".encode(), content)
            archive.writestr(zipfile.ZipInfo.from_file(path, arcname), content)
            digest = base64.urlsafe_b64encode(hashlib.sha256(content).digest()).rstrip(b"=")
            records.append(f"{arcname},sha256={digest.decode()},{len(content)}\n")
        records.append(f"{info}/RECORD,,\n")
        archive.writestr(f"{info}/RECORD", "".join(records))
    return target


@pytest.fixture(scope="module")
def wheelhouses(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """{"plain": the pinned wheels but uv's, hatchling and a decoy; "with uv": the same plus
    uv and a decoy of it}."""
    plain = tmp_path_factory.mktemp("wheelhouse")
    builder = installed_closure([Requirement("hatchling"), Requirement("editables")])
    pinned = set(read_pins(PINS_FILE.read_text(encoding="utf-8"))) - {"uv"}
    for name in sorted(pinned | builder):
        repack(metadata.distribution(name), plain)
    repack(metadata.distribution(DECOY), plain, version=DECOY_VERSION)
    with_uv = tmp_path_factory.mktemp("wheelhouse-uv")
    for wheel in plain.iterdir():
        os.link(wheel, with_uv / wheel.name)
    repack(metadata.distribution("uv"), with_uv)
    repack(metadata.distribution("uv"), with_uv, version=DECOY_VERSION)
    return {"plain": plain, "with uv": with_uv}


def path_without_uv(extra: Path | None = None) -> str:
    """PATH with no directory that holds a uv (this environment's bin has one), plus `extra`."""
    kept = [
        entry
        for entry in os.environ.get("PATH", os.defpath).split(os.pathsep)
        if entry and not (Path(entry) / "uv").exists()
    ]
    return os.pathsep.join(([str(extra)] if extra else []) + kept)


def offline_env(wheels: Path, path: str) -> dict[str, str]:
    """This environment with PATH `path`, where pip and uv see no index, only `wheels`."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PIP_", "UV_", "VIRTUAL_ENV", "PYTHON", "MAKE"))
    }
    env.update(
        PATH=path,
        PIP_CONFIG_FILE=os.devnull,
        PIP_NO_INDEX="1",
        PIP_FIND_LINKS=str(wheels),
        PIP_NO_CACHE_DIR="1",
        PIP_NO_COMPILE="1",  # bytecode is compiled on first import anyway; saves seconds here
        UV_OFFLINE="1",
        UV_NO_CONFIG="1",
        UV_FIND_LINKS=str(wheels),
        UV_CACHE_DIR=str(wheels.parent / "uv-cache"),
        UV_PYTHON_DOWNLOADS="never",
    )
    return env


def tools_dir(project: Path) -> Path:
    """The PLUGIN_TOOLS of a test's projects: beside them, shared by the projects of one test."""
    return project.parent / "tools"


def shared_uv(project: Path) -> Path:
    """Where the Makefile keeps the uv it installs once for every project of a user."""
    return tools_dir(project) / f"uv-{UV_PIN}" / "uv"


def make(
    project: Path, target: str, wheels: Path, path: str, *args: str
) -> subprocess.CompletedProcess:
    """`make target [args]` in `project`, offline: pip and uv see only `wheels`."""
    env = offline_env(wheels, path)
    env["PLUGIN_TOOLS"] = str(tools_dir(project))
    return subprocess.run(
        ["make", target, *args],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        stdin=subprocess.DEVNULL,
    )


def installed(project: Path) -> dict[str, tuple[str, str]]:
    """{canonical name: (version, installer)} of every distribution in the project's .venv."""
    code = (
        "import importlib.metadata as m, json\n"
        "print(json.dumps({d.metadata['Name']: [d.version, (d.read_text('INSTALLER') or '')"
        ".strip()] for d in m.distributions()}))"
    )
    done = subprocess.run(
        [project / ".venv/bin/python", "-c", code], capture_output=True, text=True, check=True
    )
    return {canonicalize_name(k): tuple(v) for k, v in json.loads(done.stdout).items()}


@pytest.fixture
def project(tmp_path: Path, rendered_project: Callable[[str], Path]) -> Path:
    """A fresh, writable copy of the rendered `none` project, without any .venv."""
    return Path(shutil.copytree(rendered_project("none"), tmp_path / "project"))


def assert_pinned_install(project: Path, installer: str) -> None:
    pins = read_pins(PINS_FILE.read_text(encoding="utf-8"))
    venv = installed(project)
    assert venv[DECOY][0] == pins[DECOY], "the decoy won: constraints.txt was not applied"
    wrong = {n: v for n, (v, _) in venv.items() if n in pins and v != pins[n]}
    assert not wrong, f"installed versions that differ from the pins: {wrong}"
    assert {"fastapi", "uvicorn", "pytest", "ruff"} <= set(venv)
    assert venv["fastapi"][1] == installer


def uv_version(uv: Path) -> str:
    done = subprocess.run([uv, "--version"], capture_output=True, text=True, check=True)
    return done.stdout.split()[1]


def leftovers(project: Path) -> list[Path]:
    """Temporary directories of a per-user uv install that were not cleaned up."""
    return sorted(shared_uv(project).parent.glob(".installing.*"))


def test_the_github_workflow_runs_the_makefile_with_the_pins(project: Path) -> None:
    workflow = yaml.safe_load(
        (project / ".github" / "workflows" / "tests.yml").read_text(encoding="utf-8")
    )
    commands = [
        shlex.split(step["run"]) for step in workflow["jobs"]["test"]["steps"] if "run" in step
    ]

    # Only the Makefile's targets, which exist: what CI runs is what `make` runs on a laptop.
    assert [argv[:1] for argv in commands] == [["make"]] * len(commands)
    assert {"lint", "test"} <= {target for argv in commands for target in argv[1:]}
    for argv in commands:
        dry_run = subprocess.run([*argv, "-n"], cwd=project, capture_output=True, text=True)
        assert dry_run.returncode == 0, dry_run.stderr
        # Every target installs .venv first, at the pinned versions.
        assert "-c constraints.txt -e '.[dev]'" in dry_run.stdout, dry_run.stdout


def test_constraints_pin_the_uv_that_make_installs() -> None:
    assert UV_PIN, (
        "template/constraints.txt must pin uv (the Makefile installs that version when there is "
        "no uv): regenerate the pins with `make pins`, which pins uv (generator.pins.TOOLS)"
    )
    assert uv_version(UV) == UV_PIN


def test_uv_on_path_builds_the_venv(project: Path, wheelhouses: dict[str, Path]) -> None:
    bin_dir = project.parent / "bin"
    bin_dir.mkdir()
    (bin_dir / "uv").symlink_to(UV)

    done = make(project, "test", wheelhouses["plain"], path_without_uv(bin_dir))

    assert done.returncode == 0, done.stdout + done.stderr
    assert f"Creating .venv with uv ({bin_dir / 'uv'})." in done.stdout
    assert not (project / ".venv/bin/uv").exists()
    assert not tools_dir(project).exists(), "with uv on PATH nothing is installed outside"
    assert " passed" in done.stdout
    assert_pinned_install(project, "uv")


def logging_python(directory: Path, without_pip: bool = False) -> tuple[Path, Path]:
    """(a PYTHON for make that logs each call's arguments, the log); `without_pip`: one whose
    `-m pip` fails, as a Python without pip does."""
    directory.mkdir()
    log = directory / "calls.log"
    refuse = 'if [ "$1 $2" = "-m pip" ]; then echo "No module named pip" >&2; exit 1; fi\n'
    script = directory / "python3"
    script.write_text(
        f'#!/bin/sh\necho "$*" >> "{log}"\n'
        + (refuse if without_pip else "")
        + f'exec "{Path(sys.base_prefix) / "bin" / "python3"}" "$@"\n'
    )
    script.chmod(0o755)
    return script, log


def test_without_uv_the_makefile_installs_uv_once_for_every_project(
    project: Path, wheelhouses: dict[str, Path]
) -> None:
    uv = shared_uv(project)
    python, calls = logging_python(project.parent / "python")

    first = make(
        project,
        ".venv/.installed",
        wheelhouses["with uv"],
        path_without_uv(),
        f"PYTHON={python}",
    )

    assert first.returncode == 0, first.stdout + first.stderr
    assert "-m pip install --quiet --disable-pip-version-check --no-deps --target" in (
        calls.read_text()
    )
    assert "-m venv" not in calls.read_text(), "a Python with pip needs no venv to install uv"
    assert first.stdout.splitlines()[:2] == [
        f"uv is not on PATH: installing uv {UV_PIN} from PyPI into {uv.parent}, once for every "
        "project.",
        f"Creating .venv with uv ({uv}).",
    ]
    assert uv_version(uv) == UV_PIN
    assert not leftovers(project)
    assert not (project / ".venv/bin/uv").exists()
    assert_pinned_install(project, "uv")

    # A second project uses that uv as it is, even where PyPI has no uv to offer now.
    installed_once = uv.stat()
    second = Path(shutil.copytree(project.parent / "project", project.parent / "second",
                                  ignore=shutil.ignore_patterns(".venv")))  # fmt: skip
    done = make(second, ".venv/.installed", wheelhouses["plain"], path_without_uv())

    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.splitlines()[0] == f"Creating .venv with uv ({uv})."
    assert "installing uv" not in done.stdout
    assert (uv.stat().st_ino, uv.stat().st_mtime_ns) == (
        installed_once.st_ino,
        installed_once.st_mtime_ns,
    )
    assert_pinned_install(second, "uv")


def test_a_python_without_pip_installs_uv_through_a_throwaway_venv(
    project: Path, wheelhouses: dict[str, Path]
) -> None:
    python, calls = logging_python(project.parent / "python", without_pip=True)

    done = make(
        project, ".venv/.installed", wheelhouses["with uv"], path_without_uv(), f"PYTHON={python}"
    )

    assert done.returncode == 0, done.stdout + done.stderr
    assert "-m venv" in calls.read_text()
    assert done.stdout.splitlines()[1] == f"Creating .venv with uv ({shared_uv(project)})."
    assert uv_version(shared_uv(project)) == UV_PIN
    assert not leftovers(project)
    assert_pinned_install(project, "uv")


def test_two_makes_installing_uv_at_once_both_succeed(
    project: Path, wheelhouses: dict[str, Path]
) -> None:
    other = Path(shutil.copytree(project, project.parent / "other"))
    env = offline_env(wheelhouses["with uv"], path_without_uv())
    env["PLUGIN_TOOLS"] = str(tools_dir(project))
    makes = [
        subprocess.Popen(
            ["make", ".venv/.installed"],
            cwd=directory,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
        )
        for directory in (project, other)
    ]
    outputs = [process.communicate(timeout=300)[0] for process in makes]

    assert [process.returncode for process in makes] == [0, 0], outputs
    assert uv_version(shared_uv(project)) == UV_PIN
    assert not leftovers(project)
    for directory in (project, other):
        assert_pinned_install(directory, "uv")


def test_a_uv_already_in_plugin_tools_is_used(project: Path, wheelhouses: dict[str, Path]) -> None:
    uv = shared_uv(project)
    uv.parent.mkdir(parents=True)
    shutil.copy2(UV, uv)

    done = make(project, "test", wheelhouses["plain"], path_without_uv())

    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.splitlines()[0] == f"Creating .venv with uv ({uv})."
    assert " passed" in done.stdout
    assert_pinned_install(project, "uv")


def test_with_plugin_tools_empty_uv_goes_into_the_venv(
    project: Path, wheelhouses: dict[str, Path]
) -> None:
    done = make(
        project, ".venv/.installed", wheelhouses["with uv"], path_without_uv(), "PLUGIN_TOOLS="
    )

    assert done.returncode == 0, done.stdout + done.stderr
    assert "uv is not on PATH: creating .venv and installing uv from PyPI into it." in done.stdout
    assert (project / ".venv/bin/uv").is_file()
    assert not tools_dir(project).exists()
    assert_pinned_install(project, "uv")
    assert installed(project)["uv"][0] == UV_PIN, "the decoy uv won over the pin"


def test_without_a_uv_pin_uv_goes_into_the_venv(
    project: Path, wheelhouses: dict[str, Path]
) -> None:
    constraints = project / "constraints.txt"
    lines = constraints.read_text(encoding="utf-8").splitlines(keepends=True)
    constraints.write_text("".join(line for line in lines if not line.startswith("uv==")))

    done = make(project, ".venv/.installed", wheelhouses["with uv"], path_without_uv())

    assert done.returncode == 0, done.stdout + done.stderr
    assert "uv is not on PATH: creating .venv and installing uv from PyPI into it." in done.stdout
    assert not tools_dir(project).exists(), "an unpinned uv is never shared"
    assert (project / ".venv/bin/uv").is_file()


def test_without_uv_anywhere_pip_installs_everything_and_no_uv_is_left(
    project: Path, wheelhouses: dict[str, Path]
) -> None:
    done = make(project, ".venv/.installed", wheelhouses["plain"], path_without_uv())

    assert done.returncode == 0, done.stdout + done.stderr
    assert "Could not install uv: installing with pip instead (slower)." in done.stdout
    assert not shared_uv(project).exists()
    assert not leftovers(project)
    assert not (project / ".venv/bin/uv").exists()
    assert_pinned_install(project, "pip")


def test_ctrl_c_while_uv_is_installed_leaves_no_uv(
    project: Path, wheelhouses: dict[str, Path]
) -> None:
    env = offline_env(wheelhouses["with uv"], path_without_uv())
    env["PLUGIN_TOOLS"] = str(tools_dir(project))
    log = project.parent / "make.log"
    with log.open("w") as output:
        make_process = subprocess.Popen(
            ["make", ".venv/.installed"],
            cwd=project,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            preexec_fn=default_sigint,
        )
    try:
        for _ in range(600):
            if leftovers(project) or make_process.poll() is not None:
                break
            time.sleep(0.05)
        assert leftovers(project), "the install of uv never started"
        os.killpg(make_process.pid, signal.SIGINT)
        make_process.wait(timeout=60)
    finally:
        if make_process.poll() is None:
            os.killpg(make_process.pid, signal.SIGKILL)
            make_process.wait()
    output = log.read_text()

    assert make_process.returncode != 0, output
    for _ in range(200):  # the recipe's shell may still be removing its temporary directory
        if not leftovers(project):
            break
        time.sleep(0.05)
    assert not leftovers(project), output
    assert not shared_uv(project).exists(), output
    assert not (project / ".venv/.installed").exists()

    # The next make starts over and succeeds.
    done = make(project, ".venv/.installed", wheelhouses["with uv"], path_without_uv())
    assert done.returncode == 0, done.stdout + done.stderr
    assert uv_version(shared_uv(project)) == UV_PIN
    assert_pinned_install(project, "uv")


def test_the_readmes_pin_command_keeps_every_pin_and_uvs(
    project: Path, wheelhouses: dict[str, Path]
) -> None:
    """README "Dependencies": its first command, without --upgrade, re-resolves constraints.txt
    to the same pins of what the project needs, and uv's (no dependency of the project, so
    easily lost)."""
    readme = (project / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Dependencies", 1)[1].split("\n## ", 1)[0]
    (command,) = [line.strip() for line in section.splitlines() if "--upgrade " in line]
    command = command.split("#", 1)[0].replace(" --upgrade", "").strip()
    bin_dir = project.parent / "bin"
    bin_dir.mkdir()
    (bin_dir / "uv").symlink_to(UV)
    before = read_pins(PINS_FILE.read_text(encoding="utf-8"))

    done = subprocess.run(
        ["sh", "-c", command],
        cwd=project,
        env=offline_env(wheelhouses["with uv"], path_without_uv(bin_dir)),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert done.returncode == 0, done.stderr
    text = (project / "constraints.txt").read_text(encoding="utf-8")
    after = {
        canonicalize_name(name): version
        for name, version in re.findall(r"(?m)^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)$", text)
    }
    needed = installed_closure(declared(project)) | {"uv"}
    assert set(after) == needed
    assert after == {name: before[name] for name in needed}


# -- the repository's `make demo` ----------------------------------------------------------------


def demo_argv(port: int | str, demo_dir: Path) -> list[str]:
    """`make demo` in the repository, using this environment's tools instead of (re)building
    .venv: `-o` keeps make from reinstalling it, BIN points at this interpreter's bin."""
    bin_dir = Path(sys.executable).parent
    return [
        "make", "-C", str(REPO), "-o", ".venv/.installed", f"BIN={bin_dir}", "demo",
        f"PORT={port}", f"DEMO_DIR={demo_dir}",
    ]  # fmt: skip


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_make_demo_on_a_busy_port_says_so_in_one_sentence(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]

        done = subprocess.run(
            demo_argv(port, tmp_path / "demo"), capture_output=True, text=True, timeout=60
        )

    assert done.returncode != 0
    assert (
        f"Port {port} is already in use: stop what listens there, or pick another one, "
        f"e.g. make demo PORT={port + 1}."
    ) in done.stderr.splitlines()
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "demo").exists(), "nothing is rendered for a busy port"


def test_make_demo_refuses_a_port_that_is_no_number(tmp_path: Path) -> None:
    done = subprocess.run(
        demo_argv("50x", tmp_path / "demo"), capture_output=True, text=True, timeout=60
    )

    assert done.returncode != 0
    assert "PORT=50x is not a port number: pick one from 1 to 65535, e.g. make demo PORT=5010." in (
        done.stderr.splitlines()
    )
    assert not (tmp_path / "demo").exists()


def test_make_demo_renders_for_the_port_and_serves_there(
    tmp_path: Path, wheelhouses: dict[str, Path]
) -> None:
    port = free_port()
    demo = tmp_path / "demo"
    env = offline_env(wheelhouses["plain"], path_without_uv())
    env["HOME"] = str(tmp_path)  # plugin new's first commit: no git identity, its fallback
    env["PLUGIN_TOOLS"] = str(tmp_path / "tools")
    log = tmp_path / "demo.log"
    with log.open("w") as output:
        server = subprocess.Popen(
            demo_argv(port, demo),
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    try:
        manifest = None
        for _ in range(600):
            if server.poll() is not None:
                break
            try:
                answer = httpx.get(f"http://127.0.0.1:{port}/.well-known/ai-plugin.json")
            except httpx.TransportError:
                answer = None
            if answer is not None and answer.status_code == 200:
                manifest = answer.json()
                break
            time.sleep(0.1)
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    assert manifest is not None, log.read_text()
    assert manifest["api"]["url"].startswith(f"http://localhost:{port}/"), manifest["api"]
    assert f"domain: localhost:{port}" in (demo / ".copier-answers.yml").read_text()
    assert "uv is not on PATH" not in log.read_text(), "the demo must use the generator's uv"


# -- plugin check on a project that was just made ------------------------------------------------


def generator_only_site(out: Path) -> Path:
    """A directory of this environment's packages that the generator needs and nothing else:
    with it, a Python has `plugin` (as pipx installs it) but none of a project's dependencies."""
    out.mkdir()
    names = installed_closure([Requirement("chatgpt-plugin-generator")])
    for name in sorted(names - {"chatgpt-plugin-generator"}):
        dist = metadata.distribution(name)
        for top in {file.parts[0] for file in dist.files or [] if file.parts[0] != ".."}:
            source = Path(str(dist.locate_file(top)))
            if source.exists() and not (out / top).exists():
                (out / top).symlink_to(source)
    return out


def test_plugin_check_on_a_new_project_builds_its_venv_as_make_does(
    tmp_path: Path, wheelhouses: dict[str, Path]
) -> None:
    """`plugin new x -y --name X && plugin check x`, where x never had a .venv and the Python
    running `plugin` lacks the project's dependencies."""
    home = tmp_path / "home"
    home.mkdir()
    created = subprocess.run(
        [Path(sys.executable).parent / "plugin", "new", "x", "-y", "--name", "X", "--quiet"],
        cwd=tmp_path,
        env={**os.environ, "HOME": str(home)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert created.returncode == 0, created.stderr
    assert not (tmp_path / "x/.venv").exists()
    base_python = Path(sys.base_prefix) / "bin" / "python3"
    site = generator_only_site(tmp_path / "site")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "uv").symlink_to(UV)
    env = offline_env(wheelhouses["plain"], path_without_uv(bin_dir))
    env.update(
        HOME=str(home),
        PLUGIN_TOOLS=str(tmp_path / "tools"),
        PYTHONPATH=os.pathsep.join([str(site), str(REPO)]),
    )
    without = subprocess.run(
        [base_python, "-c", "import fastapi"], env=env, capture_output=True, check=False
    )
    assert without.returncode != 0, "the Python running plugin must lack fastapi here"

    done = subprocess.run(
        [base_python, "-c", "from generator.cli import main; main()", "check", "x", "--json"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stderr.splitlines() == [
        "x has no .venv yet: building it as its Makefile does (make .venv/.installed), to run "
        "the project's export."
    ]
    report = json.loads(done.stdout)
    assert report["summary"]["errors"] == 0
    assert report["exported_by"] == "python -m x export"
    assert_pinned_install(tmp_path / "x", "uv")
