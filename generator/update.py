"""`plugin update`: bring a generated project up to a newer template, keeping the owner's edits.

Three steps behind the Typer function:

- `plan_update` checks the project and runs `copier.run_update` (conflicts marked inline) in a
  scratch clone of the project's HEAD, never in the project itself; it returns the files the
  update writes and deletes, the conflicts, and the owner-edited files it keeps.
- `apply_plan` writes that result into the working tree in one step, with Ctrl-C held back
  until every file is in place: the project is either untouched or completely updated.
- `report` prints what changed; the command exits 1 while conflict markers remain.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from generator import git
from generator.errors import Interrupted, UsageError, UserError

if TYPE_CHECKING:
    from generator.template_source import TemplateSource

ANSWERS_FILE = ".copier-answers.yml"
# Copier writes these around each conflicting hunk (`git merge-file -L ...` labels).
CONFLICT_START = "<<<<<<< before updating"
CONFLICT_END = ">>>>>>> after updating"
APPLIED = (
    "Interrupted after the update was applied completely: review it with git diff, then commit."
)
#: How many file names a refusal lists before "and N more".
LISTED = 5


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
        typer.Option(
            "--defaults", "-y", help="Answer new questions with their defaults, never ask."
        ),
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
    from generator.data_option import parse_data

    overrides = parse_data(data or [])
    # Without a terminal nobody can answer a new question: take its default.
    use_defaults = defaults or pretend or not sys.stdin.isatty()
    scratch = Path(tempfile.mkdtemp(prefix="plugin-update-"))
    try:
        plan = plan_update(dest.resolve(), vcs_ref, overrides, use_defaults, scratch)
        if pretend:
            report(plan, pretend=True)
            return
        # From the first file written on, Ctrl-C waits: the project ends completely updated.
        with _interrupts_deferred() as pressed:
            apply_plan(plan)
            shutil.rmtree(scratch, ignore_errors=True)
        if pressed:
            raise Interrupted(APPLIED)
        try:
            report(plan, pretend=False)
        except KeyboardInterrupt:
            raise Interrupted(APPLIED) from None
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


# -- plan ---------------------------------------------------------------------------------------


@dataclass
class Plan:
    """What an update computed in its scratch clone writes into the project."""

    #: The git top level of the project, which the paths below are relative to.
    top: Path
    #: The scratch clone of `top` where Copier ran.
    clone: Path
    before: str
    after: str
    #: Paths the update writes (new or changed) and deletes.
    written: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    #: Owner-edited files the template no longer has: kept, not deleted.
    kept: list[str] = field(default_factory=list)
    #: Written paths holding conflict markers (or Copier's .rej files).
    conflicted: list[str] = field(default_factory=list)
    #: The package's new name, when the owner renamed its directory and the update followed.
    renamed_package: str | None = None


def plan_update(
    project: Path,
    vcs_ref: str | None,
    overrides: dict[str, str],
    use_defaults: bool,
    scratch: Path,
) -> Plan:
    """Check `project`, run the update in a clone of its HEAD under `scratch`, return the plan."""
    from generator.template_source import TemplateSource, default_source

    top = _check_project(project)
    answers = _read_answers(project)
    renamed = _check_answers(project, answers, overrides)
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
    _check_recorded_commit(source, str(answers["_commit"]))

    clone_top = scratch / "clone"
    git.run("clone", "--quiet", "--no-hardlinks", str(top), str(clone_top), what="git clone")
    clone = clone_top / project.relative_to(top)
    base = git.run("rev-parse", "HEAD", cwd=clone_top).stdout.strip()
    if renamed is not None:
        answers = {**answers, "package_name": renamed}
        _record_package_name(clone, renamed)
    worker = _run_copier_update(
        clone, source, ref, str(answers["_commit"]), overrides, use_defaults
    )
    _refuse_unknown_data(overrides, worker)

    plan = Plan(top=top, clone=clone_top, before=str(answers["_commit"]), after="")
    plan.after = str(_read_answers(clone).get("_commit"))
    plan.renamed_package = renamed
    plan.written, plan.deleted = _changes(top, clone_top, base)
    _refuse_markers_in_touched_files(top, plan.written + plan.deleted)
    if plan.deleted:
        _keep_edited_deletions(plan, project, answers, scratch / "last-version")
    plan.conflicted = [path for path in plan.written if _is_conflicted(clone_top / path)]
    return plan


def _check_project(project: Path) -> Path:
    """Refuse anything but a clean, committed, generated project; return its git top level."""
    if not project.is_dir():
        raise UsageError(f"{project} is not a directory: pass the folder of a generated project.")
    if not (project / ANSWERS_FILE).is_file():
        raise UsageError(
            f"{project} has no {ANSWERS_FILE}, so it was not generated from this template "
            "(or the file was deleted): plugin update cannot tell which version it has."
        )
    top = git.output("rev-parse", "--show-toplevel", cwd=project)
    if top is None:
        raise UsageError(
            f"{project} is not a git repository: run git init and commit the project, then run "
            "plugin update again."
        )
    status = git.run("status", "--porcelain", "-z", "--untracked-files=all", cwd=project).stdout
    untracked: list[str] = []
    changed: list[str] = []
    fields = iter(status.split("\0"))
    for entry in fields:
        if entry:
            (untracked if entry.startswith("?? ") else changed).append(entry[3:])
        if entry[:1] in ("R", "C"):
            next(fields, None)  # a rename's or copy's original path follows
    untracked.sort()
    changed.sort()
    if changed:
        raise UsageError(
            f"{project} has uncommitted changes in {_names(changed)}: commit them, or put them "
            "aside with git stash -u, then run plugin update again."
        )
    if untracked:
        raise UsageError(
            f"{project} has untracked files {_names(untracked)}: commit them, or put them aside "
            "with git stash -u (plain git stash leaves them), then run plugin update again."
        )
    return Path(top).resolve()


def _names(paths: list[str]) -> str:
    shown = ", ".join(paths[:LISTED])
    return shown if len(paths) <= LISTED else f"{shown} and {len(paths) - LISTED} more"


def _read_answers(project: Path) -> dict[str, Any]:
    import yaml

    try:
        loaded = yaml.safe_load((project / ANSWERS_FILE).read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        raise UsageError(
            f"{ANSWERS_FILE} is not valid YAML{where}: fix it (git log -p {ANSWERS_FILE} shows "
            "what it held), commit, then run plugin update again."
        ) from None
    except (OSError, UnicodeDecodeError) as error:
        raise UsageError(f"Cannot read {ANSWERS_FILE}: {error}.") from None
    return loaded if isinstance(loaded, dict) else {}


def _check_answers(project: Path, answers: dict[str, Any], overrides: dict[str, str]) -> str | None:
    """Refuse an answers file without a version, and a package rename Copier cannot follow.

    Return the package's new name when the owner renamed its one directory under src/: the
    update then follows it.
    """
    if not answers.get("_src_path") or not answers.get("_commit"):
        raise UsageError(
            f"{ANSWERS_FILE} records no template source and version (_src_path, _commit), so "
            "the project cannot be updated: generate a new project and move your code into it."
        )
    package = answers.get("package_name")
    if not isinstance(package, str) or not (project / "src").is_dir():
        return None
    wanted = overrides.get("package_name", package)
    if wanted != package:
        raise UsageError(
            f"--data package_name={wanted} would leave your code behind in src/{package}: to "
            f"rename the package, rename src/{package} to src/{wanted} and its imports yourself "
            "and commit; plugin update then follows the new name."
        )
    if (project / "src" / package).is_dir():
        return None
    packages = sorted(
        path.name
        for path in (project / "src").iterdir()
        if path.is_dir() and (path / "__init__.py").is_file()
    )
    if len(packages) != 1:
        found = f"src/ holds {', '.join(packages)}" if packages else "src/ holds no package"
        raise UsageError(
            f"src/{package}, the package that package_name in {ANSWERS_FILE} names, is missing "
            f"and {found}: set package_name in {ANSWERS_FILE} to the package's new name and "
            "commit, then run plugin update again."
        )
    return packages[0]


def _record_package_name(clone: Path, name: str) -> None:
    """Commit, in the scratch clone only, the package's new name in the answers file.

    Copier then renders the last version with that name, so the owner's renamed files line up
    with the template's.
    """
    import re

    answers_file = clone / ANSWERS_FILE
    text = answers_file.read_text(encoding="utf-8")
    text, count = re.subn(r"(?m)^package_name: .*$", f"package_name: {name}", text)
    if count != 1:
        raise UsageError(
            f"The package directory was renamed to src/{name}, and {ANSWERS_FILE} has no "
            f"package_name line to follow it: add package_name: {name}, commit, then run "
            "plugin update again."
        )
    answers_file.write_text(text, encoding="utf-8")
    identity = ["-c", "user.name=plugin update", "-c", "user.email=plugin@localhost"]
    git.run("add", ANSWERS_FILE, cwd=clone)
    git.run(
        *identity, "-c", "commit.gpgsign=false", "commit", "--quiet", "--no-verify",
        "-m", "Follow the renamed package", cwd=clone,
    )  # fmt: skip


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
    if not _is_url(recorded) and not _local(recorded).exists():
        raise UsageError(
            f"The template this project was made from, {recorded} (_src_path in "
            f"{ANSWERS_FILE}), no longer exists, and Copier only updates from that source: "
            "restore it there, then run plugin update again."
        )


def _check_recorded_commit(source: TemplateSource, commit: str) -> None:
    """Refuse a `_commit` that the recorded template does not have, naming `_commit`."""
    path = _local(source.src_path)
    if _is_url(source.src_path) or not (path / ".git").exists():
        return  # a URL or a bundle: Copier's own error is explained by _explain
    known = git.run(
        "rev-parse", "--verify", "--quiet", f"{commit}^{{commit}}", cwd=path, check=False
    )
    if known.returncode != 0:
        raise UsageError(_unknown_commit(commit, source))


def _unknown_commit(commit: str, source: TemplateSource) -> str:
    tags = _version_tags(source.src_path)
    choices = f"one of {', '.join(tags)}" if tags else "a commit of that template"
    return (
        f"The project's template version {commit} (_commit in {ANSWERS_FILE}) does not exist "
        f"in {source.src_path}: set _commit to the version the project was made from: "
        f"{choices}, commit, then run plugin update again."
    )


@contextlib.contextmanager
def _interrupts_noted() -> Iterator[list[int]]:
    """Ctrl-C raises KeyboardInterrupt as usual, and is also noted, for errors it causes."""
    import threading

    pressed: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield pressed
        return

    def note(signum: int, _frame: Any) -> None:
        pressed.append(signum)
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGINT, note)
    try:
        yield pressed
    finally:
        signal.signal(signal.SIGINT, previous)


def _run_copier_update(
    clone: Path,
    source: TemplateSource,
    ref: str | None,
    commit: str,
    overrides: dict[str, str],
    use_defaults: bool,
) -> Any:
    """Call copier.run_update in `clone`; return its worker; one sentence for each failure."""
    import copier
    from copier.errors import CopierAnswersInterrupt, CopierError
    from plumbum import ProcessExecutionError

    from generator._copier import silenced_warnings

    with _interrupts_noted() as pressed, silenced_warnings():
        try:
            return copier.run_update(
                dst_path=clone,
                vcs_ref=ref,
                data=overrides,
                defaults=use_defaults,
                overwrite=True,
                skip_answered=True,
                conflict="inline",
                quiet=True,
            )
        except CopierAnswersInterrupt:
            raise KeyboardInterrupt from None
        except CopierError as error:
            if pressed:
                raise KeyboardInterrupt from None
            raise _explained(_explain(str(error), source, ref, commit)) from None
        except (ProcessExecutionError, ValueError) as error:
            if pressed:  # a git command Copier ran died of the same Ctrl-C
                raise KeyboardInterrupt from None
            text = str(getattr(error, "stderr", "") or error)
            raise _explained(_explain(text, source, ref, commit)) from None


def _explained(message: str) -> UserError:
    """A refusal Copier made (a downgrade, a version that does not exist) exits 2; any other
    failure of Copier's, 1."""
    return UserError(message, exit_code=1 if message.startswith(COPIER_FAILED) else 2)


COPIER_FAILED = "Copier could not update the project:"


def _refuse_unknown_data(overrides: dict[str, str], worker: Any) -> None:
    """An unknown --data key exits 2, as in plugin new, naming the questions there are."""
    questions = worker.template.questions_data
    valid = [key for key, spec in questions.items() if not _derived(spec)]
    for key in overrides:
        if key not in valid:
            raise UsageError(
                f"--data {key}: unknown question {key!r}; the questions are {', '.join(valid)}."
            )


def _derived(spec: Any) -> bool:
    when = spec.get("when", True) if isinstance(spec, dict) else True
    return when is False or (isinstance(when, str) and when.strip().lower() in {"false", "no"})


def _version_tags(src_path: str) -> list[str]:
    """The template's `v*` tags, oldest first (empty when git cannot list them)."""
    listing = git.run(
        "ls-remote", "--tags", "--refs", os.path.expanduser(src_path), "refs/tags/v*", check=False
    )
    tags = [line.rpartition("refs/tags/")[2] for line in listing.stdout.splitlines()]
    return sorted(tags, key=_version_key)


def _version_key(tag: str) -> tuple[int, ...]:
    return tuple(int(part) if part.isdigit() else -1 for part in tag.lstrip("v").split("."))


def _explain(message: str, source: TemplateSource, ref: str | None, commit: str) -> str:
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
        # Copier checks out the recorded version too: name the ref that is missing.
        if not (ref and ref in message) and (ref is None or commit in message):
            return _unknown_commit(commit, source)
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
    return f"{COPIER_FAILED} {first_line}"


def _changes(top: Path, clone: Path, base: str) -> tuple[list[str], list[str]]:
    """Paths the update in `clone` writes and deletes, compared with the project's HEAD `base`.

    Ignored files are left alone, except those the template renders anew: they are written
    only where the project has no such file (an owner's `.env` is never overwritten).
    """
    git.run("add", "--all", cwd=clone)
    listing = git.run(
        "diff", "--cached", "--name-status", "--no-renames", "-z", base, cwd=clone
    ).stdout.split("\0")
    written: list[str] = []
    deleted: list[str] = []
    for status, path in zip(listing[0::2], listing[1::2], strict=False):
        (deleted if status == "D" else written).append(path)
    others = git.run(
        "ls-files", "--others", "--ignored", "--exclude-standard", "-z", cwd=clone
    ).stdout.split("\0")
    written += [path for path in others if path and not os.path.lexists(top / path)]
    return sorted(written), sorted(deleted)


def _refuse_markers_in_touched_files(top: Path, touched: list[str]) -> None:
    """Conflict markers left by an earlier update, in a file this update changes, block it.

    Files the update does not touch may show markers (a document explaining conflicts does).
    """
    marked = [path for path in touched if _is_conflicted(top / path)]
    if marked:
        raise UsageError(
            f"Conflict markers from an earlier update remain in {_names(marked)}: resolve "
            "them and commit, then run plugin update again."
        )


def _is_conflicted(path: Path) -> bool:
    if path.name.endswith(".rej"):
        return True
    try:
        lines = path.read_bytes().splitlines()
    except OSError:
        return False
    starts = (CONFLICT_START.encode(), b"<<<<<<< ")
    return any(line.startswith(starts) for line in lines) and any(
        line.startswith(b">>>>>>> ") for line in lines
    )


def _keep_edited_deletions(
    plan: Plan, project: Path, answers: dict[str, Any], last_version: Path
) -> None:
    """Keep each file the template dropped (deleted or renamed) that holds the owner's edits.

    The project's version is compared with the file the last template version rendered, in a
    fresh copy of that version with the recorded answers.
    """
    import copier

    from generator._copier import silenced_warnings

    with silenced_warnings():
        copier.run_copy(
            str(answers["_src_path"]),
            last_version,
            data={key: value for key, value in answers.items() if not key.startswith("_")},
            vcs_ref=str(answers["_commit"]),
            defaults=True,
            quiet=True,
            overwrite=True,
        )
    offset = project.relative_to(plan.top)
    for path in list(plan.deleted):
        ours = plan.top / path
        rendered = last_version / Path(path).relative_to(offset) if _inside(path, offset) else None
        if rendered is None or not _same_file(ours, rendered):
            plan.deleted.remove(path)
            plan.kept.append(path)


def _inside(path: str, offset: Path) -> bool:
    return Path(path).is_relative_to(offset)


def _same_file(one: Path, other: Path) -> bool:
    if one.is_symlink() or other.is_symlink():
        return one.is_symlink() and other.is_symlink() and os.readlink(one) == os.readlink(other)
    try:
        return one.read_bytes() == other.read_bytes()
    except OSError:
        return False


# -- apply --------------------------------------------------------------------------------------


def apply_plan(plan: Plan) -> None:
    """Write the plan into the project, all or nothing.

    Every new file is first copied beside its target under a temporary name; only when all
    copies succeeded are the deleted files removed and the copies renamed into place. A failing copy
    (a full disk) removes the copies made so far, so the project is left as it was. The caller
    holds Ctrl-C back meanwhile (see `update`).
    """
    staged: list[tuple[Path, Path]] = []
    created: list[Path] = []
    try:
        for path in plan.written:
            target = plan.top / path
            created += _make_parents(target.parent, plan.top)
            staged.append((_stage(plan.clone / path, target), target))
    except OSError as error:
        for partial, _ in staged:
            partial.unlink(missing_ok=True)
        for directory in reversed(created):
            with contextlib.suppress(OSError):
                directory.rmdir()
        where = f" ({error.filename})" if error.filename else ""
        raise UserError(
            f"The update could not be written: {error.strerror or error}{where}; nothing was "
            "written."
        ) from None
    # Deletions first: a directory the template turns into a file must be gone before it.
    for path in plan.deleted:
        _delete_one(plan.top, path)
    for partial, target in staged:
        os.replace(partial, target)


def _make_parents(directory: Path, top: Path) -> list[Path]:
    """Create `directory` and missing parents below `top`; return those created, outermost first."""
    missing = []
    while not directory.is_dir() and directory != top:
        missing.append(directory)
        directory = directory.parent
    for created in reversed(missing):
        created.mkdir()
    return list(reversed(missing))


def _stage(source: Path, target: Path) -> Path:
    """A copy of `source` beside `target` under a temporary name, ready to be renamed over it."""
    partial = target.with_name(f".{target.name}.plugin-update")
    if os.path.lexists(partial):
        partial.unlink()
    if source.is_symlink():
        os.symlink(os.readlink(source), partial)
    else:
        shutil.copy2(source, partial)
    return partial


def _delete_one(top: Path, path: str) -> None:
    target = top / path
    if target.is_symlink() or target.is_file():
        target.unlink()
    parent = target.parent
    while parent != top and parent.is_dir() and not any(parent.iterdir()):
        parent.rmdir()
        parent = parent.parent


@contextlib.contextmanager
def _interrupts_deferred() -> Iterator[list[int]]:
    """Hold Ctrl-C back while the block runs; the yielded list tells whether it was pressed."""
    import threading

    pressed: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield pressed
        return
    previous = signal.signal(signal.SIGINT, lambda signum, _frame: pressed.append(signum))
    try:
        yield pressed
    finally:
        signal.signal(signal.SIGINT, previous)


# -- report -------------------------------------------------------------------------------------


def report(plan: Plan, *, pretend: bool) -> None:
    """Print what the update changed (or would change); exit 1 while conflicts remain."""
    if pretend:
        typer.echo(f"Preview of the update to template version {plan.after}; nothing was written.")
        changes = [f" D {path}" for path in plan.deleted] + [
            f" {'M' if os.path.lexists(plan.top / path) else 'A'} {path}" for path in plan.written
        ]
        typer.echo("Would change:" if changes else "Nothing would change.")
        for line in sorted(changes, key=lambda line: line[3:]):
            typer.echo(line)
    else:
        if plan.before == plan.after:
            typer.echo(f"Template version {plan.after} kept.")
        else:
            typer.echo(f"Updated the template from {plan.before} to {plan.after}.")
        status = git.run("status", "--short", "--untracked-files=all", cwd=plan.top).stdout
        if status.strip():
            typer.echo("Changed files (review with git diff, then commit):")
            typer.echo(status.rstrip())
        else:
            typer.echo("Nothing changed.")
    if plan.renamed_package:
        typer.echo(
            f"Followed the package's new name, src/{plan.renamed_package}: package_name in "
            f"{ANSWERS_FILE} now records it."
        )
    if plan.kept:
        typer.echo(
            "Kept, though the template no longer has them (they hold your edits; delete them "
            "when you no longer need them):"
        )
        for path in plan.kept:
            typer.echo(f"  {path}")
    if not plan.conflicted:
        return
    if pretend:
        typer.echo("Would conflict (marked inline):")
        for path in plan.conflicted:
            typer.echo(f"  {path}")
        return
    typer.echo(f"Conflicts, marked inline between '{CONFLICT_START}' and '{CONFLICT_END}':")
    for path in plan.conflicted:
        typer.echo(f"  {path}")
    count = len(plan.conflicted)
    raise UserError(
        f"{count} file{'s' if count > 1 else ''} still hold{'' if count > 1 else 's'} "
        "conflict markers: keep the lines you want, remove the markers, then commit."
    )
