"""The one module that reaches into Copier's private API.

`plugin new` asks copier.yml's questions with Copier's own `Question` class and renders with a
`Worker` that reuses the template it already read (no second clone, one Jinja environment).
Copier's public API (`run_copy`) offers neither, so this module uses its internals, and only
this module: `copier._main.Worker`, `copier._template.Template`, `copier._user_data.Question`
and `AnswersMap`, `copier._types.MISSING`, `copier._vcs.get_latest_tag` and `get_repo`, seeding
cached properties through `__dict__`, and `Template._cleanup()`. Copier is imported through
`generator._lazy_prompts`, which defers the questionary and prompt_toolkit it imports.

`SUPPORTED` is the range of Copier versions it is written for; pyproject.toml declares the same
range, and the test suite runs its floor. Within the range, what an older Copier lacks falls back
to the public way (slower, same project): without `get_latest_tag` (before 9.14) Copier picks the
newest tag itself after cloning, and without seedable workers the render is `copier.run_copy`.
Outside the range, `require_supported` refuses in one sentence.
"""

from __future__ import annotations

import contextlib
import functools
import io
import warnings
from collections.abc import Iterator, Mapping
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from generator._lazy_prompts import import_copier
from generator.errors import UserError

if TYPE_CHECKING:
    # Re-exported for type hints elsewhere, so no other module names Copier's private modules.
    from copier._main import Worker
    from copier._template import Template
    from copier._user_data import AnswersMap, Question

__all__ = ["SUPPORTED", "AnswersMap", "Question", "Template", "Worker"]

#: The Copier versions this module supports: 9.7 moved the internals to `copier._*` modules.
SUPPORTED = ">=9.7,<10"


@functools.cache
def installed_version() -> str:
    """The version of the installed Copier distribution."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("copier")
    except PackageNotFoundError:
        raise UserError(_install_hint("Copier is not installed")) from None


def require_supported() -> None:
    """Refuse, in one sentence, a Copier version outside `SUPPORTED`."""
    from packaging.specifiers import SpecifierSet

    installed = installed_version()
    if installed not in SpecifierSet(SUPPORTED, prereleases=True):
        raise UserError(_install_hint(f"Copier {installed} is installed"))


def _install_hint(problem: str) -> str:
    return f"{problem}, but plugin needs copier{SUPPORTED}: run pip install 'copier{SUPPORTED}'."


def _internals(module: str) -> Any:
    """`copier._<module>`, or the one-sentence refusal when this Copier lacks it."""
    import importlib

    require_supported()
    import_copier()
    try:
        return importlib.import_module(f"copier._{module}")
    except ImportError:
        problem = f"Copier {installed_version()} lacks copier._{module}"
        raise UserError(_install_hint(problem)) from None


@contextlib.contextmanager
def silenced_warnings() -> Iterator[None]:
    """Silence Copier's warnings, by their category, inside this block only."""
    import_copier()
    from copier.errors import CopierWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CopierWarning)
        yield


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Silence Copier's warnings and its progress output while it renders."""
    with silenced_warnings(), contextlib.redirect_stdout(io.StringIO()):
        yield


@contextlib.contextmanager
def errors_as_sentences(what: str) -> Iterator[None]:
    """Turn an error Copier (or its Jinja) raises in this block into one sentence after `what`.

    Errors meant for the user (UserError) and Ctrl-C pass through unchanged.
    """
    import_copier()
    from copier.errors import CopierError, InvalidConfigFileError
    from jinja2 import TemplateError

    try:
        yield
    except InvalidConfigFileError as error:
        raise UserError(f"{what}: {error.args[0]} is not valid YAML.") from None
    except (CopierError, TemplateError) as error:
        if isinstance(error, KeyboardInterrupt):
            raise
        raise UserError(f"{what}: {one_line(error)}") from None


def one_line(error: BaseException) -> str:
    """An error's message on one line (its type's name when it has none)."""
    text = " ".join(str(error).split())
    return text or type(error).__name__


# -- answers ------------------------------------------------------------------------------------


def new_answers() -> AnswersMap:
    """An empty answers map, as Copier keeps while asking."""
    return _internals("user_data").AnswersMap()


def question(
    key: str, details: Mapping[str, Any], answers: AnswersMap, jinja_env: Any, settings: Any
) -> Question:
    """Copier's `Question` for copier.yml's `key`, evaluated against `answers`."""
    return _internals("user_data").Question(
        answers=answers,
        context=answers.combined,
        jinja_env=jinja_env,
        settings=settings,
        var_name=key,
        **details,
    )


def is_missing(value: Any) -> bool:
    """True for Copier's marker of a question without a default."""
    return value is _internals("types").MISSING


def choices_of(q: Question) -> list[tuple[str, Any]]:
    """(label, value) of each choice of `q`, as Copier shows them."""
    return [(choice.title, choice.value) for choice in q._formatted_choices]


# -- the template -------------------------------------------------------------------------------


def latest_tag(src_path: str) -> str | None:
    """The ref Copier renders when none is given (newest release tag, else HEAD).

    None when this Copier cannot say before cloning (before 9.14): pass no ref, and Copier
    checks out the newest tag of its clone itself.
    """
    vcs = _internals("vcs")
    if not hasattr(vcs, "get_latest_tag"):
        return None
    url = vcs.get_repo(src_path)
    if url is None:
        return "HEAD"
    # Copier prints a notice when there is no tag; HEAD is the expected answer here.
    with contextlib.redirect_stderr(io.StringIO()):
        try:
            return vcs.get_latest_tag(url)
        except Exception:  # noqa: BLE001 - let the clone report an unreadable source
            return "HEAD"


def can_seed() -> bool:
    """True when a Worker's template and Jinja environment can be handed to it ready-made."""
    worker_class = _internals("main").Worker
    return all(
        isinstance(worker_class.__dict__.get(name), cached_property)
        for name in ("template", "jinja_env")
    )


def open_template(url: str, ref: str | None) -> Template:
    """Copier's template at `url` and `ref`, read (or cloned) lazily."""
    return _internals("template").Template(url=url, ref=ref)


def in_place_template(url: str, ref: str | None, *, commit: str, commit_hash: str) -> Template:
    """The template of a clean checkout read where it is, recording the commit a clone would."""
    template = open_template(url, ref)
    template.__dict__.update(
        vcs=None,
        commit=commit,
        commit_hash=commit_hash,
        local_abspath=Path(url).expanduser().resolve(),
    )
    return template


def clone(template: Template) -> None:
    """Read or clone `template` now, so a bad source is reported before any question."""
    template.local_abspath  # noqa: B018 - a cached property: reading it clones


def cleanup(template: Template) -> None:
    """Remove the clone Copier made of `template`, if any."""
    template._cleanup()


def subdirectory(template: Template) -> str:
    """copier.yml's `_subdirectory` of `template` (reading copier.yml, if not read yet)."""
    # Copier prints a banner for a copier.yml it cannot read; errors_as_sentences says it once.
    with contextlib.redirect_stderr(io.StringIO()):
        return template.subdirectory


def commit_hash(template: Template) -> str | None:
    """The commit Copier renders `template` at (None for a plain directory)."""
    return template.commit_hash


def questions_of(worker: Worker) -> dict[str, dict[str, Any]]:
    """copier.yml's questions of the template a worker renders, in order."""
    with contextlib.redirect_stderr(io.StringIO()):  # as in subdirectory()
        return dict(worker.template.questions_data)


# -- rendering ----------------------------------------------------------------------------------


def worker(template: Template, vcs_ref: str | None, jinja_env: Any, **options: Any) -> Worker:
    """A Copier worker that reuses `template` and `jinja_env` (None: build its own)."""
    worker = _internals("main").Worker(src_path=template.url, vcs_ref=vcs_ref, **options)
    # Worker.template is a cached property: seed it so Copier neither re-reads nor re-clones.
    worker.__dict__["template"] = template
    if jinja_env is not None:
        worker.__dict__["jinja_env"] = jinja_env
    return worker


def settings_of(worker: Worker) -> Any:
    """The Copier settings a worker uses (the user's settings file)."""
    return worker.settings


def jinja_env_of(worker: Worker) -> Any:
    """The Jinja environment Copier built for a worker's template."""
    return worker.jinja_env


def copy(worker: Worker) -> None:
    """Run a worker's copy step; nothing in a fresh directory needs git's index."""
    # Copier asks git, once per file, whether to copy an executable bit into the destination's
    # index; nothing in a fresh staging directory is tracked, so the answer is always "no".
    worker.__dict__["_sync_git_index_executable_bit"] = _no_index_to_sync
    with _quiet():
        worker.run_copy()


def copy_public(src_path: str, vcs_ref: str | None, answers: Mapping[str, Any], dst: Path) -> None:
    """The same copy through Copier's public `run_copy`: reads (or clones) the template again."""
    import copier

    with _quiet():
        copier.run_copy(
            src_path,
            dst,
            data=dict(answers),
            vcs_ref=vcs_ref,
            defaults=True,
            quiet=True,
            unsafe=False,
            overwrite=True,
        )


def _no_index_to_sync(_dst_relpath: Path, _src_mode: int) -> None:
    """Stands in for Copier's index sync, which has nothing to do in a fresh directory."""
