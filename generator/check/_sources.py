"""Where the manifest and the OpenAPI document come from when TARGET is a directory.

A plain directory holds `.well-known/ai-plugin.json` and an OpenAPI file. A generated project
builds both at run time, so it is asked to write them with `python -m <package> export DIR`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from generator.errors import UsageError

MANIFEST_PATH = ".well-known/ai-plugin.json"
OPENAPI_NAMES = ("openapi.yaml", "openapi.yml", "openapi.json")
EXPORT_TIMEOUT = 120.0


@dataclass(frozen=True)
class Document:
    """The text of one file, and the label findings show for it."""

    source: str
    text: str | None  # None when the bytes are not UTF-8


def read_document(path: Path, label: str) -> Document:
    """Read a file as UTF-8; a file that cannot be read at all is a usage error (exit 2)."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise UsageError(f"Cannot read {path}: {error.strerror or error}.") from None
    try:
        return Document(label, data.decode("utf-8-sig"))
    except UnicodeDecodeError:
        return Document(label, None)


def find_manifest(directory: Path) -> Document | None:
    """The directory's manifest, or None when it has none."""
    path = directory / MANIFEST_PATH
    return read_document(path, MANIFEST_PATH) if path.is_file() else None


def find_openapi(directory: Path, api_url: str | None) -> Document | None:
    """The OpenAPI file at api.url's path, else the first conventional name that exists."""
    candidates = []
    if api_url:
        relative = urlsplit(api_url).path.lstrip("/")
        if relative:
            candidates.append(relative)
    candidates.extend(OPENAPI_NAMES)
    root = directory.resolve()
    for name in candidates:
        path = (directory / name).resolve()
        # api.url comes from the checked file: never read outside the directory because of it
        if path.is_relative_to(root) and path.is_file():
            return read_document(path, path.relative_to(root).as_posix())
    return None


def api_url_of(manifest: Document | None) -> str | None:
    """api.url from a manifest's text, when it parses far enough to have one."""
    if manifest is None or manifest.text is None:
        return None
    try:
        data = json.loads(manifest.text)
    except json.JSONDecodeError:
        return None
    api = data.get("api") if isinstance(data, dict) else None
    url = api.get("url") if isinstance(api, dict) else None
    return url if isinstance(url, str) else None


def generated_package(directory: Path) -> str | None:
    """The package name of a generated project (answers file + src/<package>/), else None."""
    answers = directory / ".copier-answers.yml"
    if not answers.is_file():
        return None
    import yaml

    try:
        data = yaml.safe_load(answers.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None
    package = data.get("package_name") if isinstance(data, dict) else None
    if isinstance(package, str) and (directory / "src" / package / "__init__.py").is_file():
        return package
    return None


def export_project(directory: Path, package: str, destination: Path) -> None:
    """Run `python -m <package> export DESTINATION` in a generated project.

    The export runs in the project's `.venv`. A project without one (just made) is first tried
    with the Python running `plugin`; when that lacks the project's dependencies, `.venv` is
    built the way the project's Makefile builds it (`make .venv/.installed`: uv, the pins of
    constraints.txt), said in one line on stderr, and the export runs there.
    """
    # Absolute: the command runs with the project as its working directory.
    venv_python = directory.absolute() / ".venv" / "bin" / "python"
    if venv_python.is_file():
        result = _run_export(directory, package, destination, venv_python)
    else:
        result = _run_export(directory, package, destination, Path(sys.executable))
        if result.returncode != 0 and _missing_module(result) and _has_makefile(directory):
            build_venv(directory)
            result = _run_export(directory, package, destination, venv_python)
    if result.returncode != 0:
        reason = _last_line(result)
        if reason.startswith("ModuleNotFoundError"):
            where = "its .venv" if venv_python.is_file() else "this Python, and it has no .venv,"
            raise UsageError(
                f"`python -m {package} export` needs the project's dependencies, which {where} "
                f"lacks ({reason}): run `make test` in {directory} once (it installs them into "
                ".venv), then check again."
            )
        raise UsageError(f"`python -m {package} export` failed in {directory}: {reason}")


#: The Makefile target of a generated project that builds .venv (template/Makefile.jinja).
VENV_TARGET = ".venv/.installed"
VENV_BUILD_TIMEOUT = 900.0


def build_venv(directory: Path) -> None:
    """Build the project's .venv with its own Makefile, saying so on stderr first."""
    import shutil

    import typer

    make = shutil.which("make")
    if make is None:
        raise UsageError(
            f"{directory} has no .venv and make is not on PATH to build it: install make, or "
            f"create .venv with the project's dependencies (pip install -e . in {directory}), "
            "then check again."
        )
    typer.echo(
        f"{directory} has no .venv yet: building it as its Makefile does "
        f"(make {VENV_TARGET}), to run the project's export.",
        err=True,
    )
    # The project's make gets nothing of an enclosing make's variables.
    env = {k: v for k, v in os.environ.items() if k not in {"MAKEFLAGS", "MAKELEVEL", "MFLAGS"}}
    try:
        result = subprocess.run(
            [make, VENV_TARGET],
            cwd=directory,
            env=env,
            capture_output=True,
            text=True,
            timeout=VENV_BUILD_TIMEOUT,
            stdin=subprocess.DEVNULL,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise UsageError(
            f"Could not build .venv in {directory} (make {VENV_TARGET}): {error}."
        ) from None
    if result.returncode != 0:
        # make's own "make: *** [...] Error 1" says less than the line before it
        lines = [
            line
            for line in (result.stderr + result.stdout).strip().splitlines()
            if not line.startswith("make")
        ]
        reason = lines[-1] if lines else f"exit code {result.returncode}"
        raise UsageError(f"Building .venv in {directory} failed (make {VENV_TARGET}): {reason}")


def _run_export(
    directory: Path, package: str, destination: Path, python: Path
) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    # without its own virtualenv the project is not installed: import it from src/
    src = str((directory / "src").resolve())
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [src, env.get("PYTHONPATH")]))
    env["PYTHONDONTWRITEBYTECODE"] = "1"  # a check leaves the project's files as it found them
    command = [str(python), "-m", package, "export", str(destination)]
    try:
        return subprocess.run(
            command,
            cwd=directory,
            env=env,
            capture_output=True,
            text=True,
            timeout=EXPORT_TIMEOUT,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise UsageError(
            f"Could not run `python -m {package} export` in {directory}: {error}."
        ) from None


def _last_line(result: subprocess.CompletedProcess[str]) -> str:
    lines = (result.stderr or result.stdout).strip().splitlines()
    return lines[-1] if lines else f"exit code {result.returncode}"


def _missing_module(result: subprocess.CompletedProcess[str]) -> bool:
    return _last_line(result).startswith("ModuleNotFoundError")


def _has_makefile(directory: Path) -> bool:
    return (directory / "Makefile").is_file()
