"""Where the template comes from, and which version of it.

Copier can only update a project if the answers file records a git source (`_src_path`) and a
commit (`_commit`) that it can check out again. So the template is always rendered from git:

- in a development checkout, from the checkout itself at ``HEAD`` (uncommitted changes included,
  with Copier's warning), so template authors see their edits;
- from an installed wheel, from a git bundle of the repository that the wheel ships
  (``generator/_template/template.bundle``, built by ``hatch_build.py``). Site-packages moves when
  Python or the virtualenv changes, so the shipped bundle is first merged into a per-user store
  (``~/.local/share/chatgpt-plugin-generator``) whose history only grows, and the project records
  that store's path with ``~``: stable across upgrades and the same on every machine.

See "Template versions and upgrades" in docs/architecture.md for the reasoning.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from generator import git
from generator.errors import UserError

PACKAGE_DIR = Path(__file__).resolve().parent
#: Where a wheel carries its bundle, relative to the package directory.
SHIPPED_BUNDLE = Path("_template") / "template.bundle"
STORE_NAME = "chatgpt-plugin-generator"


@dataclass(frozen=True)
class TemplateSource:
    """A Copier source: a path or URL, and the git ref to render (None: Copier's default)."""

    src_path: str
    vcs_ref: str | None = None


def default_source() -> TemplateSource:
    """The template that ships with this generator: its checkout, or its wheel's bundle."""
    checkout = PACKAGE_DIR.parent
    if (checkout / "copier.yml").is_file() and (checkout / ".git").exists():
        return TemplateSource(src_path=str(checkout), vcs_ref="HEAD")
    shipped = PACKAGE_DIR / SHIPPED_BUNDLE
    if shipped.is_file():
        bundle, build_commit = sync_store(shipped)
        return TemplateSource(src_path=portable_path(bundle), vcs_ref=build_commit)
    raise UserError(
        "This installation of chatgpt-plugin-generator has no template: reinstall it from a wheel "
        "or run it from a git checkout."
    )


def template_version() -> str:
    """The version of the template this generator ships, spelled as `_commit` records it in a
    project's .copier-answers.yml (`git describe --tags --always`): "v0.1.0" for a release,
    "v0.1.0-4-gabc1234" or "abc1234" between releases. Reads no more than git's refs."""
    checkout = PACKAGE_DIR.parent
    if (checkout / "copier.yml").is_file() and (checkout / ".git").exists():
        described = git.output("describe", "--tags", "--always", "HEAD", cwd=checkout)
        return described or "unknown"
    shipped = PACKAGE_DIR / SHIPPED_BUNDLE
    if not shipped.is_file():
        return "none shipped"
    heads = bundle_heads(shipped)
    head = heads.get("HEAD", "")
    history = store_dir() / "history.git"
    if head and history.is_dir():
        described = git.output("describe", "--tags", "--always", head, cwd=history)
        if described:
            return described
    tags = sorted(ref.removeprefix("refs/tags/") for ref, sha in heads.items() if sha == head)
    tags = [tag for tag in tags if tag != "HEAD" and not tag.startswith("refs/")]
    return tags[0] if tags else head[:7] or "unknown"


def version_line() -> str:
    """The one spelling of this generator's version: `0.1.0 (template v0.1.0)`."""
    from generator import __version__

    return f"{__version__} (template {template_version()})"


def store_dir() -> Path:
    """The per-user directory that keeps every template version this user's generators shipped."""
    data_home = os.environ.get("XDG_DATA_HOME") or os.path.join("~", ".local", "share")
    return Path(os.path.expanduser(data_home)) / STORE_NAME


def portable_path(path: Path) -> str:
    """``path`` written with ``~`` when it lies in the home directory (Copier expands it)."""
    home = Path(os.path.expanduser("~")).resolve()
    resolved = path.resolve()
    if resolved.is_relative_to(home):
        return "~/" + resolved.relative_to(home).as_posix()
    return resolved.as_posix()


def sync_store(shipped: Path) -> tuple[Path, str]:
    """Merge a shipped bundle into the per-user store; return the store's bundle and build commit.

    The store is a bare repository (history only grows: an older generator never removes a newer
    one's tags) plus ``template.bundle`` exported from it, the file Copier reads.
    """
    shipped = shipped.resolve()
    heads = bundle_heads(shipped)
    build_commit = heads.get("HEAD")
    if build_commit is None:
        raise UserError(f"The template bundle {shipped} has no HEAD: reinstall the generator.")
    store = store_dir()
    store.mkdir(parents=True, exist_ok=True)
    history = store / "history.git"
    bundle = store / "template.bundle"
    with _locked(store / ".lock"):
        if bundle.is_file() and _has_refs(history, heads):
            return bundle, build_commit
        if not (history / "HEAD").is_file():
            git.run("init", "--quiet", "--bare", str(history))
            git.run("-C", str(history), "symbolic-ref", "HEAD", "refs/heads/main")
        # No "+": a tag that already exists is never moved.
        git.run(
            "-C", str(history), "fetch", "--quiet", "--no-tags", str(shipped),
            "refs/tags/*:refs/tags/*", f"HEAD:refs/builds/{build_commit}",
            check=False,
        )  # fmt: skip
        if not _has_commit(history, build_commit):
            raise UserError(f"Could not copy the template from {shipped} into {history}.")
        # Fast-forward only, so the store's default branch is the newest template seen.
        git.run("-C", str(history), "fetch", "--quiet", "--no-tags", str(shipped),
             "HEAD:refs/heads/main", check=False)  # fmt: skip
        partial = bundle.with_name(f".{bundle.name}.{os.getpid()}.tmp")
        git.run("-C", str(history), "bundle", "create", "--quiet", str(partial), "--all")
        os.replace(partial, bundle)
    return bundle, build_commit


def bundle_heads(bundle: Path) -> dict[str, str]:
    """Refs recorded in a git bundle, mapped to their object ids."""
    output = git.run("bundle", "list-heads", str(bundle)).stdout
    heads: dict[str, str] = {}
    for line in output.splitlines():
        object_id, _, ref = line.partition(" ")
        heads[ref.strip()] = object_id
    return heads


def _has_refs(history: Path, heads: dict[str, str]) -> bool:
    if not (history / "HEAD").is_file():
        return False
    refs = git.run("-C", str(history), "for-each-ref", "--format=%(refname)").stdout
    existing = set(refs.split())
    wanted = {
        f"refs/builds/{object_id}" if ref == "HEAD" else ref
        for ref, object_id in heads.items()
        if ref == "HEAD" or ref.startswith("refs/tags/")
    }
    return wanted <= existing


def _has_commit(history: Path, object_id: str) -> bool:
    result = git.run("-C", str(history), "cat-file", "-e", f"{object_id}^{{commit}}", check=False)
    return result.returncode == 0


@contextmanager
def _locked(lock_path: Path) -> Iterator[None]:
    """Hold an exclusive lock so two `plugin` runs never write the store at once."""
    with open(lock_path, "a") as handle:
        try:
            import fcntl
        except ImportError:  # no fcntl on Windows: run unlocked
            yield
            return
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


# -- a local checkout as the source -------------------------------------------------------------


@dataclass(frozen=True)
class Checkout:
    """The commit a local checkout is at: its hash, and `git describe` of it."""

    hash: str
    description: str


def checkout_at(src_path: str, ref: str) -> Checkout | None:
    """The commit a local checkout would be rendered at for `ref`, if that commit is its HEAD."""
    path = Path(src_path).expanduser()
    if not path.is_dir():
        return None
    listing = git.output("rev-parse", "--show-toplevel", "HEAD", f"{ref}^{{commit}}", cwd=path)
    if listing is None:
        return None
    toplevel, head, target = (listing.splitlines() + ["", "", ""])[:3]
    # Copier clones only the root of a repository; a subdirectory is read as a plain folder.
    if Path(toplevel).resolve() != path.resolve() or head != target:
        return None
    description = git.output("describe", "--tags", "--always", head, cwd=path)
    if description is None:
        return None
    return Checkout(hash=head, description=description)


def template_files_clean(src_path: str, subdirectory: str) -> bool:
    """True when copier.yml and the template directory hold exactly what HEAD holds."""
    paths = ["copier.yml", "copier.yaml", subdirectory or "."]
    status = git.output(
        "status", "--porcelain", "--ignored", "--untracked-files=all", "--", *paths,
        cwd=Path(src_path).expanduser(),
    )  # fmt: skip
    return status == ""


def is_draft(src_path: str, commit_hash: str | None) -> bool:
    """True when Copier rendered a local checkout's uncommitted changes.

    Copier then commits them in its own clone: the commit it records exists only there, so the
    project cannot be updated later.
    """
    path = Path(src_path).expanduser()
    if not path.is_dir() or commit_hash is None:
        return False
    try:
        known = git.run("cat-file", "-e", f"{commit_hash}^{{commit}}", cwd=path, check=False)
    except UserError:
        return False
    return known.returncode != 0
