"""`plugin update`: bring a generated project up to a newer template, keeping the owner's edits.

A thin layer over `copier.run_update` with the choices a project owner wants: conflicts marked
inline in the files, a refusal (not a stash) when the working tree is dirty, and a report of what
changed that exits 1 while conflict markers remain.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from generator.template_source import TemplateSource

ANSWERS_FILE = ".copier-answers.yml"
# Copier writes these around each conflicting hunk (`git merge-file -L ...` labels).
CONFLICT_START = "<<<<<<< before updating"
CONFLICT_END = ">>>>>>> after updating"


def update(
    dest: Annotated[
        Path, typer.Argument(help="The generated project to update (default: this directory).")
    ] = Path("."),
    vcs_ref: Annotated[
        str | None,
        typer.Option(
            "--vcs-ref",
            metavar="REF",
            help="Template version to update to: a tag such as v0.2.0 or a commit "
            "(default: the version this plugin ships).",
        ),
    ] = None,
    defaults: Annotated[
        bool,
        typer.Option("--defaults", help="Answer new questions with their defaults, never ask."),
    ] = False,
    data: Annotated[
        list[str] | None,
        typer.Option(
            "--data",
            "-d",
            metavar="KEY=VALUE",
            help="Answer a question (for example one the new version adds); repeatable.",
        ),
    ] = None,
    pretend: Annotated[
        bool,
        typer.Option("--pretend", help="Show what would change and conflict; write nothing."),
    ] = False,
) -> None:
    """Update a generated plugin project to a newer template version, keeping your edits."""
    from generator.errors import UserError
    from generator.template_source import TemplateSource, default_source

    project = dest.resolve()
    answers = _check_project(project)
    overrides = _parse_data(data or [])
    # Copier always updates from the source the answers file records; for a project made by this
    # generator that is ours, and syncing it first recreates the per-user store if it is gone.
    ours = default_source()
    recorded = str(answers["_src_path"])
    source = TemplateSource(src_path=recorded)
    if _same_source(recorded, ours.src_path):
        ref = vcs_ref or ours.vcs_ref
    else:
        _check_recorded_source(recorded)
        ref = vcs_ref  # None: Copier takes the source's newest version tag
    # Without a terminal nobody can answer a new question: take its default.
    use_defaults = defaults or not sys.stdin.isatty()

    if pretend:
        _preview(project, source, ref, overrides)
        return
    before = answers.get("_commit")
    _run_copier_update(project, source, ref, overrides, use_defaults)
    after = _read_answers(project).get("_commit")
    changes = _git(project, "status", "--short", "--untracked-files=all").stdout.rstrip()
    if before == after:
        typer.echo(f"Template version {after} kept.")
    else:
        typer.echo(f"Updated the template from {before} to {after}.")
    if changes:
        typer.echo("Changed files (review with git diff, then commit):")
        typer.echo(changes)
    else:
        typer.echo("Nothing changed.")
    conflicted = conflicted_files(project)
    if conflicted:
        typer.echo(f"Conflicts, marked inline between '{CONFLICT_START}' and '{CONFLICT_END}':")
        for path in conflicted:
            typer.echo(f"  {path}")
        count = len(conflicted)
        raise UserError(
            f"{count} file{'s' if count > 1 else ''} still hold{'' if count > 1 else 's'} "
            "conflict markers: keep the lines you want, remove the markers, then commit."
        )


def conflicted_files(project: Path) -> list[str]:
    """Files of ``project`` (tracked or not, ignored ones aside) holding conflict markers."""
    listed = _git(
        project, "ls-files", "--cached", "--others", "--exclude-standard", "-z"
    ).stdout.split("\0")
    found = []
    for name in sorted({name for name in listed if name}):
        path = project / name
        if name.endswith(".rej") or (path.is_file() and _has_markers(path)):
            found.append(name)
    return found


def _has_markers(path: Path) -> bool:
    try:
        lines = path.read_bytes().splitlines()
    except OSError:
        return False
    starts = (CONFLICT_START.encode(), b"<<<<<<< ")
    return any(line.startswith(starts) for line in lines) and any(
        line.startswith(b">>>>>>> ") for line in lines
    )


def _check_project(project: Path) -> dict[str, Any]:
    """Refuse anything but a clean, committed, generated project; return its answers."""
    from generator.errors import UserError

    if not project.is_dir():
        raise UserError(f"{project} is not a directory: pass the folder of a generated project.")
    if not (project / ANSWERS_FILE).is_file():
        raise UserError(
            f"{project} has no {ANSWERS_FILE}, so it was not generated from this template "
            "(or the file was deleted): plugin update cannot tell which version it has."
        )
    top = _git(project, "rev-parse", "--show-toplevel", check=False)
    if top.returncode != 0:
        raise UserError(
            f"{project} is not a git repository: run git init and commit the project, then run "
            "plugin update again."
        )
    if _git(project, "status", "--porcelain").stdout.strip():
        raise UserError(
            f"{project} has uncommitted changes: commit or stash them, then run plugin update "
            "again."
        )
    marked = conflicted_files(project)
    if marked:
        raise UserError(
            f"Conflict markers from an earlier update remain in {', '.join(marked)}: resolve "
            "them and commit, then run plugin update again."
        )
    answers = _read_answers(project)
    if not answers.get("_src_path") or not answers.get("_commit"):
        raise UserError(
            f"{ANSWERS_FILE} records no template source and version (_src_path, _commit), so "
            "the project cannot be updated: generate a new project and move your code into it."
        )
    return answers


def _same_source(recorded: str, ours: str) -> bool:
    if recorded == ours:
        return True
    if _is_url(recorded) or _is_url(ours):
        return False
    return _local(recorded).resolve() == _local(ours).resolve()


def _is_url(source: str) -> bool:
    return "://" in source or source.startswith(("git@", "gh:", "gl:"))


def _local(source: str) -> Path:
    return Path(source).expanduser()


def _check_recorded_source(recorded: str) -> None:
    """Refuse early, in one sentence, when the recorded local template has disappeared."""
    from generator.errors import UserError

    if not _is_url(recorded) and not _local(recorded).exists():
        raise UserError(
            f"The template this project was made from, {recorded} (_src_path in "
            f"{ANSWERS_FILE}), no longer exists, and Copier only updates from that source: "
            "restore it there, then run plugin update again."
        )


def _parse_data(pairs: list[str]) -> dict[str, str]:
    from generator.errors import UsageError

    overrides: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"--data takes KEY=VALUE, for example --data auth=none; got {pair!r}.")
        overrides[key.strip()] = value
    return overrides


def _run_copier_update(
    project: Path,
    source: TemplateSource,
    ref: str | None,
    overrides: dict[str, str],
    use_defaults: bool,
) -> None:
    """Call copier.run_update, turning its errors into one sentence each."""
    import copier
    from copier.errors import CopierError
    from plumbum import ProcessExecutionError

    from generator.errors import UserError

    try:
        copier.run_update(
            dst_path=project,
            vcs_ref=ref,
            data=overrides,
            defaults=use_defaults,
            overwrite=True,
            skip_answered=True,
            conflict="inline",
            quiet=False,
        )
    except CopierError as error:
        raise UserError(_explain(str(error), source, ref)) from None
    except (ProcessExecutionError, ValueError) as error:
        text = str(getattr(error, "stderr", "") or error)
        raise UserError(_explain(text, source, ref)) from None


def _version_tags(src_path: str) -> list[str]:
    """The template's `v*` tags, oldest first (empty when git cannot list them)."""
    import os
    import subprocess

    listing = subprocess.run(
        ["git", "ls-remote", "--tags", "--refs", os.path.expanduser(src_path), "refs/tags/v*"],
        capture_output=True,
        text=True,
        check=False,
    )
    tags = [line.rpartition("refs/tags/")[2] for line in listing.stdout.splitlines()]
    return sorted(tags, key=_version_key)


def _version_key(tag: str) -> tuple[int, ...]:
    return tuple(int(part) if part.isdigit() else -1 for part in tag.lstrip("v").split("."))


def _explain(message: str, source: TemplateSource, ref: str | None) -> str:
    """One sentence for a Copier failure."""
    import re

    downgrade = re.search(r"downgrading from (\S+) to (\S+)\. Downgrades", message)
    if downgrade:
        return (
            f"The project is at template version {downgrade.group(1)}, newer than "
            f"{downgrade.group(2)}: plugin update never downgrades; install a newer "
            "chatgpt-plugin-generator or pass --vcs-ref with a newer version."
        )
    lowered = message.lower()
    if "unknown revision" in lowered or "did not match any" in lowered:
        tags = _version_tags(source.src_path)
        choices = f"one of {', '.join(tags)}" if tags else "a commit (it has no version tags)"
        return (
            f"Template version {ref} does not exist in {source.src_path}: pass --vcs-ref with "
            f"{choices}."
        )
    if "Local template must be a directory" in message:
        return (
            "The template source recorded in .copier-answers.yml (_src_path) no longer exists; "
            "Copier only updates from that source: restore it, then run plugin update again."
        )
    first_line = message.strip().splitlines()[0] if message.strip() else "unknown error"
    return f"Copier could not update the project: {first_line}"


def _preview(
    project: Path, source: TemplateSource, ref: str | None, overrides: dict[str, str]
) -> None:
    """Run the real update on a throwaway clone and report what it would change."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="plugin-update-preview-") as scratch:
        clone = Path(scratch) / project.name
        _git(Path(scratch), "clone", "--quiet", "--no-hardlinks", str(project), str(clone))
        _run_copier_update(clone, source, ref, overrides, use_defaults=True)
        changes = _git(clone, "status", "--short", "--untracked-files=all").stdout.rstrip()
        after = _read_answers(clone).get("_commit")
        typer.echo(f"Preview of the update to template version {after}; nothing was written.")
        typer.echo("Would change:" if changes else "Nothing would change.")
        if changes:
            typer.echo(changes)
        conflicted = conflicted_files(clone)
        if conflicted:
            typer.echo("Would conflict (marked inline):")
            for path in conflicted:
                typer.echo(f"  {path}")


def _read_answers(project: Path) -> dict[str, Any]:
    import yaml

    loaded = yaml.safe_load((project / ANSWERS_FILE).read_text(encoding="utf-8"))
    return loaded if isinstance(loaded, dict) else {}


def _git(cwd: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    from generator.errors import UserError

    result = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)
    if check and result.returncode != 0:
        detail = (result.stderr.strip().splitlines() or ["no output"])[-1]
        raise UserError(f"git {args[0]} failed in {cwd}: {detail}")
    return result
