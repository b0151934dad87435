"""Render a project with Copier into a temporary directory beside DEST, then move it into place.

The template is opened once (read, or cloned when Copier must clone it) and shared by the
questionnaire and the render. A clean local checkout rendered at its HEAD is read in place
instead of being cloned: its files are exactly those of the commit Copier would check out, so
the project is the same and `_commit` still names a real commit, which `copier update` needs.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import signal
import subprocess
import tempfile
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from generator.errors import Interrupted, UsageError, UserError
from generator.first_commit import commit_project

if TYPE_CHECKING:
    from copier._main import Worker
    from copier._template import Template

    from generator.template_source import TemplateSource


@dataclass
class OpenedTemplate:
    """A template ready to be asked about and rendered, read or cloned once."""

    template: Template
    vcs_ref: str | None
    #: True when a clean checkout is rendered in place (no clone).
    in_place: bool
    #: True when Copier rendered a local checkout's uncommitted changes: the `_commit` it
    #: records is a draft commit of its own clone, so the project cannot be updated later.
    draft: bool = False
    _jinja_env: Any = None

    def worker(self, **options: Any) -> Worker:
        """A Copier worker for this template that reuses what was already read or cloned.

        Every worker shares one Jinja environment (Copier's, built for this template) whose
        compiled expressions are kept: the questionnaire and the render evaluate the same
        defaults and validators, and compiling them is most of the cost of asking.
        """
        from copier._main import Worker

        worker = Worker(src_path=self.template.url, vcs_ref=self.vcs_ref, **options)
        # Worker.template is a cached property: seed it so Copier neither re-reads nor re-clones.
        worker.__dict__["template"] = self.template
        if self._jinja_env is None:
            self._jinja_env = _remember_compiled(worker.jinja_env)
        worker.__dict__["jinja_env"] = self._jinja_env
        return worker


@contextlib.contextmanager
def open_template(source: TemplateSource) -> Iterator[OpenedTemplate]:
    """Open the template of `source`; any clone Copier made is removed on exit."""
    from copier._template import Template

    warnings.filterwarnings("ignore", module=r"copier\..*")
    warnings.filterwarnings("ignore", category=UserWarning, message=r"Dirty template changes")
    in_place = _checkout_at(source.src_path, source.vcs_ref)
    if in_place is not None:
        template = Template(url=source.src_path, ref=source.vcs_ref)
        # Read in place: no VCS for Copier, but the commit it would have recorded.
        template.__dict__.update(
            vcs=None,
            commit=in_place.description,
            commit_hash=in_place.hash,
            local_abspath=Path(source.src_path).expanduser().resolve(),
        )
        if _template_files_clean(source.src_path, template.subdirectory):
            opened = OpenedTemplate(template, source.vcs_ref, in_place=True)
            yield opened
            return
    ref = source.vcs_ref or _latest_tag(source.src_path)
    template = Template(url=source.src_path, ref=ref)
    try:
        try:
            template.local_abspath  # noqa: B018 - clone now, to report a bad source before asking
        except Exception as error:  # noqa: BLE001 - Copier and git raise many kinds here
            raise UserError(
                f"Cannot read the template {source.src_path}: {_one_line(error)}"
            ) from None
        yield OpenedTemplate(template, ref, in_place=False, draft=_is_draft(source, template))
    finally:
        template._cleanup()


def render_project(
    opened: OpenedTemplate,
    answers: Mapping[str, Any],
    dest: Path,
    *,
    force: bool,
    git: bool,
    commit_message: str,
) -> bool:
    """Render `answers` into `dest`, all or nothing; return True when a first commit was made.

    Rendering (and the first commit) happens in a temporary directory beside `dest`, which is
    renamed into place only when it succeeded. With `force`, a non-empty `dest` receives the
    rendered files over its own, and files the template does not produce stay, except those
    it rendered for the answers `dest` already records and no longer renders (see
    `_no_longer_rendered`). Nothing is ever written outside `dest`.
    """
    dest = dest.absolute()
    check_destination(dest, force=force)
    anchor = _nearest_existing(dest.parent)
    try:
        staging = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", suffix=".plugin-new", dir=anchor))
    except OSError as error:
        raise UserError(f"Cannot write in {anchor}: {error.strerror}.") from None
    try:
        # Render into staging/<name>, so `_folder_name` is DEST's name, as with copier copy.
        rendered = staging / dest.name
        _copy_with_copier(opened, answers, rendered)
        stale = _no_longer_rendered(opened, dest, rendered, staging / "previous") if force else []
        committed = git and not (dest / ".git").exists()
        if committed:
            commit_project(rendered, commit_message)
        with _interrupts_deferred():
            _move_into_place(rendered, dest, stale)
        return committed
    except OSError as error:
        # A full disk or a permission problem while writing: nothing was moved into place.
        where = f" ({error.filename})" if error.filename else ""
        raise UserError(
            f"The project could not be written: {error.strerror or error}{where}; "
            f"nothing was created at {dest}."
        ) from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def check_destination(dest: Path, *, force: bool) -> None:
    """Refuse a `dest` that is a file, or a non-empty directory without `force`."""
    if dest.is_symlink() and not dest.exists():
        raise UsageError(f"{dest} is a broken symbolic link: choose another directory.")
    if dest.exists() and not dest.is_dir():
        raise UsageError(f"{dest} is a file, not a directory: choose another destination.")
    if dest.is_dir() and not force and any(dest.iterdir()):
        raise UsageError(
            f"{dest} is not empty: choose another directory, or pass --force to write the "
            "project into it (files the template does not produce are kept)."
        )


# -- rendering ----------------------------------------------------------------------------------


def _copy_with_copier(opened: OpenedTemplate, answers: Mapping[str, Any], target: Path) -> None:
    from copier.errors import CopierError
    from jinja2 import TemplateError

    worker = opened.worker(
        dst_path=target,
        data=dict(answers),
        defaults=True,
        quiet=True,
        unsafe=False,
        overwrite=True,
    )
    # Copier asks git, once per file, whether to copy an executable bit into the destination's
    # index; nothing in a fresh staging directory is tracked, so the answer is always "no".
    worker.__dict__["_sync_git_index_executable_bit"] = _no_index_to_sync
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            worker.run_copy()
    except (TemplateError, CopierError) as error:
        if isinstance(error, KeyboardInterrupt):
            raise
        raise UserError(f"The template could not be rendered: {_one_line(error)}") from None
    except ValueError as error:
        # Copier's own checks of an answer (a choice, a validator) are ValueErrors.
        raise UsageError(_one_line(error)) from None


def _no_index_to_sync(dst_relpath: Path, src_mode: int) -> None:
    """Stands in for Copier's index sync, which has nothing to do in a fresh directory."""


def _remember_compiled(env: Any) -> Any:
    """`env`, with `from_string` keeping each compiled template for the next identical source."""
    compile_source = env.from_string
    compiled: dict[str, Any] = {}

    def from_string(source: Any, globals: Any = None, template_class: Any = None) -> Any:
        if not isinstance(source, str) or globals is not None or template_class is not None:
            return compile_source(source, globals, template_class)
        if source not in compiled:
            compiled[source] = compile_source(source)
        return compiled[source]

    env.from_string = from_string
    return env


# -- the template's source ----------------------------------------------------------------------


@dataclass(frozen=True)
class _Commit:
    hash: str
    description: str


def _checkout_at(src_path: str, vcs_ref: str | None) -> _Commit | None:
    """The commit a local checkout would be rendered at, if that commit is its HEAD."""
    path = Path(src_path).expanduser()
    if not path.is_dir():
        return None
    wanted = vcs_ref or _latest_tag(src_path)
    listing = _git(path, "rev-parse", "--show-toplevel", "HEAD", f"{wanted}^{{commit}}")
    if listing is None:
        return None
    toplevel, head, target = (listing.splitlines() + ["", "", ""])[:3]
    # Copier clones only the root of a repository; a subdirectory is read as a plain folder.
    if Path(toplevel).resolve() != path.resolve() or head != target:
        return None
    description = _git(path, "describe", "--tags", "--always", head)
    if description is None:
        return None
    return _Commit(hash=head, description=description.strip())


def _is_draft(source: TemplateSource, template: Template) -> bool:
    """True when Copier's clone holds a commit of uncommitted changes (see OpenedTemplate)."""
    path = Path(source.src_path).expanduser()
    if not path.is_dir() or template.commit_hash is None:
        return False
    try:
        known = subprocess.run(
            ["git", "cat-file", "-e", f"{template.commit_hash}^{{commit}}"],
            cwd=path,
            capture_output=True,
            check=False,
        )
    except OSError:
        return False
    return known.returncode != 0


def _template_files_clean(src_path: str, subdirectory: str) -> bool:
    """True when copier.yml and the template directory hold exactly what HEAD holds."""
    paths = ["copier.yml", "copier.yaml", subdirectory or "."]
    status = _git(
        Path(src_path).expanduser(),
        "status", "--porcelain", "--ignored", "--untracked-files=all", "--", *paths,
    )  # fmt: skip
    return status == ""


def _latest_tag(src_path: str) -> str:
    """The ref Copier renders when none is given: the newest release tag, else HEAD."""
    from copier._vcs import get_latest_tag, get_repo

    url = get_repo(src_path)
    if url is None:
        return "HEAD"
    # Copier prints a notice when there is no tag; HEAD is the expected answer here.
    with contextlib.redirect_stderr(io.StringIO()):
        try:
            return get_latest_tag(url)
        except Exception:  # noqa: BLE001 - let the clone report an unreadable source
            return "HEAD"


def _git(cwd: Path, *args: str) -> str | None:
    try:
        result = subprocess.run(
            ["git", *args], cwd=cwd, capture_output=True, text=True, check=False
        )
    except OSError:
        return None
    return result.stdout.strip() if result.returncode == 0 else None


# -- moving into place --------------------------------------------------------------------------


def _nearest_existing(path: Path) -> Path:
    while not path.is_dir():
        if path.exists():
            raise UsageError(f"{path} is a file, so the project cannot be created below it.")
        path = path.parent
    return path


def _no_longer_rendered(
    opened: OpenedTemplate, dest: Path, rendered: Path, previous: Path
) -> list[Path]:
    """Files of the project already in `dest` that the new answers no longer produce.

    `dest`'s answers file tells what was rendered there: those answers are rendered again into
    `previous`, and each file they produce that the new render lacks is stale (another auth
    mode's tests, say). A stale file identical to its render is returned, to be removed; one
    that differs holds the owner's changes, and the render is refused rather than leave it.
    """
    import yaml

    answers_file = dest / opened.template.answers_relpath
    if not dest.is_dir() or not answers_file.is_file() or answers_file.is_symlink():
        return []
    try:
        recorded = yaml.safe_load(answers_file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        recorded = None
    if not isinstance(recorded, dict):
        raise UserError(
            f"{answers_file} cannot be read, so --force cannot tell which files the project "
            "already in DEST owns: fix or remove that file, or choose another destination."
        )
    previous_answers = {key: value for key, value in recorded.items() if not key.startswith("_")}
    try:
        _copy_with_copier(opened, previous_answers, previous)
    except UserError:
        raise UserError(
            f"The answers in {answers_file} no longer render with this template, so --force "
            "cannot tell which files the project already in DEST owns: choose another "
            "destination."
        ) from None
    stale = []
    for old in sorted(previous.rglob("*")):
        relative = old.relative_to(previous)
        target = dest / relative
        if old.is_dir() or os.path.lexists(rendered / relative) or not os.path.lexists(target):
            continue
        linked = [parent for parent in target.parents if parent.is_relative_to(dest)]
        if any(parent.is_symlink() for parent in linked[:-1]):
            continue  # removing it would reach outside `dest`
        if target.is_symlink() or not target.is_file() or target.read_bytes() != old.read_bytes():
            raise UserError(
                f"{target} belongs to the project already in {dest} (as its "
                f"{opened.template.answers_relpath} describes it), holds changes, and the new "
                "answers no longer produce it: move it away, or choose another destination."
            )
        stale.append(target)
    return stale


def _move_into_place(rendered: Path, dest: Path, stale: list[Path]) -> None:
    if not dest.exists() or not any(dest.iterdir()):
        dest.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.rename(rendered, dest)  # atomic; replaces an empty directory
        except OSError as error:
            raise UserError(f"Could not move the project into {dest}: {error.strerror}.") from None
        return
    _copy_over(rendered, dest, stale)


def _copy_over(rendered: Path, dest: Path, stale: list[Path]) -> None:
    """Copy every rendered file into `dest`, replacing same-named files; remove `stale` ones.

    Everything is checked before the first write: a symbolic link where the project has a
    directory is refused, so no file is ever written outside `dest` through it.
    """
    pairs = [
        (source, dest / source.relative_to(rendered)) for source in sorted(rendered.rglob("*"))
    ]
    for source, target in pairs:
        if source.is_dir() and not source.is_symlink():
            if target.is_symlink():
                raise UsageError(
                    f"{target} is a symbolic link, and --force writes only inside {dest}: "
                    "replace the link by a directory, or choose another destination."
                )
            if target.exists() and not target.is_dir():
                raise UserError(f"{target} is a file where the project has a directory.")
        elif target.is_dir() and not target.is_symlink():
            raise UserError(f"{target} is a directory where the project has a file.")
    for path in stale:
        path.unlink()
        parent = path.parent
        while parent != dest and not any(parent.iterdir()):  # directories left empty go too
            parent.rmdir()
            parent = parent.parent
    for source, target in pairs:
        if source.is_dir() and not source.is_symlink():
            target.mkdir(exist_ok=True)
        else:
            if target.is_symlink():
                target.unlink()
            shutil.copy2(source, target, follow_symlinks=False)


@contextlib.contextmanager
def _interrupts_deferred() -> Iterator[None]:
    """Finish the move even on Ctrl-C, then report the interrupt: no half-moved project."""
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    pressed: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: pressed.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if pressed:
        raise Interrupted("Interrupted after the project was written completely.")


def _one_line(error: BaseException) -> str:
    text = " ".join(str(error).split())
    return text or type(error).__name__
