"""Render a project with Copier into a temporary directory beside DEST, then move it into place.

The template is opened once (read, or cloned when Copier must clone it) and shared by the
questionnaire and the render. A clean local checkout rendered at its HEAD is read in place
instead of being cloned: its files are exactly those of the commit Copier would check out, so
the project is the same and `_commit` still names a real commit, which `copier update` needs.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from generator import _copier
from generator.compiled_cache import CompiledCache
from generator.errors import Interrupted, UsageError, UserError
from generator.first_commit import commit_project
from generator.template_source import checkout_at, is_draft, template_files_clean

if TYPE_CHECKING:
    from generator._copier import Template, Worker
    from generator.template_source import TemplateSource


@dataclass
class OpenedTemplate:
    """A template ready to be asked about and rendered, read or cloned once."""

    template: Template
    src_path: str
    vcs_ref: str | None
    #: True when Copier rendered a local checkout's uncommitted changes: the `_commit` it
    #: records is a draft commit of its own clone, so the project cannot be updated later.
    draft: bool = False
    _jinja_env: Any = None
    _compiled: CompiledCache | None = None

    def worker(self, **options: Any) -> Worker:
        """A Copier worker for this template that reuses what was already read or cloned.

        Every worker shares one Jinja environment (Copier's, built for this template) whose
        compiled expressions are kept: the questionnaire and the render evaluate the same
        defaults and validators, and compiling them is most of the cost of asking. The code it
        compiles is also kept between runs, in the user's cache (generator.compiled_cache).
        """
        worker = _copier.worker(self.template, self.vcs_ref, self._jinja_env, **options)
        if self._jinja_env is None:
            # Wrapped in place: this worker, and every later one, use the remembering env.
            env = _copier.jinja_env_of(worker)
            self._compiled = CompiledCache.install(env)
            self._jinja_env = _remember_compiled(env)
        return worker

    def save_compiled(self) -> None:
        """Keep what this template's environment compiled for the next run (see compiled_cache)."""
        if self._compiled is not None:
            self._compiled.save()


@contextlib.contextmanager
def open_template(source: TemplateSource) -> Iterator[OpenedTemplate]:
    """Open the template of `source`; any clone Copier made is removed on exit.

    Copier's warnings (for example about the uncommitted changes it renders) are silenced
    while the template is open; `OpenedTemplate.draft` says what they would have said.
    """
    _copier.require_supported()
    with _copier.silenced_warnings():
        ref = source.vcs_ref or _copier.latest_tag(source.src_path)
        checkout = checkout_at(source.src_path, ref) if ref is not None else None
        if checkout is not None:
            # Read in place: no VCS for Copier, but the commit it would have recorded.
            template = _copier.in_place_template(
                source.src_path, ref, commit=checkout.description, commit_hash=checkout.hash
            )
            with _copier.errors_as_sentences(f"Cannot read the template {source.src_path}"):
                subdirectory = _copier.subdirectory(template)
            if template_files_clean(source.src_path, subdirectory):
                yield OpenedTemplate(template, source.src_path, ref)
                return
        template = _copier.open_template(source.src_path, ref)
        try:
            try:
                _copier.clone(template)
            except Exception as error:  # noqa: BLE001 - Copier and git raise many kinds here
                # Copier's ValueErrors here are a wrong --template or --vcs-ref: exit 2
                raise UserError(
                    f"Cannot read the template {source.src_path}: {_copier.one_line(error)}",
                    exit_code=2 if isinstance(error, ValueError) else None,
                ) from None
            draft = is_draft(source.src_path, _copier.commit_hash(template))
            yield OpenedTemplate(template, source.src_path, ref, draft=draft)
        finally:
            _copier.cleanup(template)


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
        opened.save_compiled()
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

    try:
        if _copier.can_seed():
            _copier.copy(
                opened.worker(
                    dst_path=target,
                    data=dict(answers),
                    defaults=True,
                    quiet=True,
                    unsafe=False,
                    overwrite=True,
                )
            )
        else:
            _copier.copy_public(opened.src_path, opened.vcs_ref, answers, target)
    except (TemplateError, CopierError) as error:
        if isinstance(error, KeyboardInterrupt):
            raise
        raise UserError(f"The template could not be rendered: {_copier.one_line(error)}") from None
    except ValueError as error:
        # Copier's own checks of an answer (a choice, a validator) are ValueErrors.
        raise UsageError(_copier.one_line(error)) from None
    except (OSError, UserError):
        raise
    except Exception as error:  # noqa: BLE001 - no failure inside Copier becomes a traceback
        raise UserError(f"Copier failed to render the project: {_copier.one_line(error)}") from None


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
    previous = signal.signal(signal.SIGINT, lambda signum, _frame: pressed.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if pressed:
        raise Interrupted("Interrupted after the project was written completely.")
