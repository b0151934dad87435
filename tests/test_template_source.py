"""Where `plugin new` and `plugin update` take the template from, and the per-user store.

A wheel ships a git bundle; these tests build such bundles from local template repositories and
point `generator.template_source.PACKAGE_DIR` at a directory laid out like the installed package.
"""

from __future__ import annotations

from pathlib import Path

import copier
import pytest
from helpers.commands import copier_cli
from helpers.repos import REPO_ROOT, commit_all, git, init_repo, write_tree
from helpers.small_template import make_v1, make_v2, owner_edits
from typer.testing import CliRunner

from generator import template_source
from generator.cli import app
from generator.errors import UserError
from generator.render import open_template
from generator.template_source import TemplateSource, default_source, portable_path, sync_store


def ship(origin: Path, package_dir: Path) -> Path:
    """Bundle ``origin`` the way hatch_build.py does, into an installed-package layout."""
    bundle = package_dir / "_template" / "template.bundle"
    bundle.parent.mkdir(parents=True, exist_ok=True)
    bundle.unlink(missing_ok=True)
    git(origin, "bundle", "create", "--quiet", str(bundle), "HEAD", "--tags")
    return bundle


def store_refs(home: Path) -> dict[str, str]:
    """Refs of the store's bundle, as Copier (git ls-remote) sees them."""
    bundle = home / ".local/share/chatgpt-plugin-generator/template.bundle"
    lines = git(home, "ls-remote", str(bundle)).splitlines()
    return {ref: object_id for object_id, ref in (line.split("\t") for line in lines)}


@pytest.fixture
def installed(tmp_path: Path, git_home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A package directory that holds no checkout around it, as in site-packages."""
    package_dir = tmp_path / "site-packages" / "generator"
    package_dir.mkdir(parents=True)
    monkeypatch.setattr(template_source, "PACKAGE_DIR", package_dir)
    return package_dir


def test_checkout_renders_its_own_head() -> None:
    source = default_source()

    assert Path(source.src_path) == REPO_ROOT
    assert source.vcs_ref == "HEAD"


def test_checkout_with_uncommitted_changes_is_rendered_as_a_draft(
    tmp_path: Path, git_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    checkout = make_v1(tmp_path / "checkout")
    monkeypatch.setattr(template_source, "PACKAGE_DIR", checkout / "generator")

    source = default_source()
    with open_template(source) as clean:
        clean_draft = clean.draft
    write_tree(checkout, {"template/draft.txt": "work in progress\n"})
    with open_template(default_source()) as dirty:
        dirty_draft = dirty.draft

    assert source == TemplateSource(src_path=str(checkout), vcs_ref="HEAD")
    assert (clean_draft, dirty_draft) == (False, True)


def test_installed_package_renders_from_the_store_with_a_portable_path(
    tmp_path: Path, git_home: Path, installed: Path
) -> None:
    origin = make_v1(tmp_path / "origin")
    ship(origin, installed)

    source = default_source()
    copier.run_copy(
        source.src_path, tmp_path / "project", vcs_ref=source.vcs_ref, defaults=True, quiet=True
    )

    assert source.src_path == "~/.local/share/chatgpt-plugin-generator/template.bundle"
    assert source.vcs_ref == git(origin, "rev-parse", "HEAD").strip()
    answers = (tmp_path / "project/.copier-answers.yml").read_text()
    assert "_src_path: ~/.local/share/chatgpt-plugin-generator/template.bundle" in answers
    assert "_commit: v1.0.0" in answers
    assert str(tmp_path) not in answers, "a machine path leaked into the answers file"


def test_plain_copier_update_after_upgrading_the_generator(
    tmp_path: Path, git_home: Path, installed: Path
) -> None:
    origin, project = project_at_v1(tmp_path, installed)
    owner_edits(project)
    make_v2(origin)
    ship(origin, installed)  # the upgraded wheel replaces the bundle in site-packages
    default_source()  # any later `plugin` run merges it into the store

    result = copier_cli(project, "update", "--defaults", "--conflict", "inline")

    assert result.returncode == 0, result.stderr
    assert "_commit: v2.0.0" in (project / ".copier-answers.yml").read_text()
    assert (project / "CONTRIBUTING.md").is_file()
    assert "def stats():" in (project / "app.py").read_text()


def test_an_older_generator_never_removes_newer_versions_from_the_store(
    tmp_path: Path, git_home: Path
) -> None:
    origin = make_v1(tmp_path / "origin")
    old_bundle = ship(origin, tmp_path / "old")
    make_v2(origin)
    new_bundle = ship(origin, tmp_path / "new")

    sync_store(new_bundle)
    _, old_commit = sync_store(old_bundle)
    refs = store_refs(git_home)

    assert "refs/tags/v2.0.0" in refs and "refs/tags/v1.0.0" in refs
    assert refs["refs/heads/main"] == git(origin, "rev-parse", "HEAD").strip()
    assert f"refs/builds/{old_commit}" in refs


def project_at_v1(tmp_path: Path, installed: Path) -> tuple[Path, Path]:
    """The v1 origin, and a committed project the installed v1 generator made from it."""
    origin = make_v1(tmp_path / "origin")
    ship(origin, installed)
    source = default_source()
    project = tmp_path / "project"
    copier.run_copy(source.src_path, project, vcs_ref=source.vcs_ref, defaults=True, quiet=True)
    init_repo(project)
    commit_all(project, "Generate")
    return origin, project


def project_at_v1_with_v2_shipped(tmp_path: Path, installed: Path) -> tuple[Path, Path]:
    """A committed project generated from v1, after the installed generator moved to v2."""
    origin, project = project_at_v1(tmp_path, installed)
    make_v2(origin)
    ship(origin, installed)
    return origin, project


def test_plugin_update_recreates_a_deleted_store(
    tmp_path: Path, git_home: Path, installed: Path
) -> None:
    origin, project = project_at_v1_with_v2_shipped(tmp_path, installed)
    store = git_home / ".local/share/chatgpt-plugin-generator"
    for path in sorted(store.rglob("*"), reverse=True):
        path.rmdir() if path.is_dir() else path.unlink()

    result = CliRunner().invoke(app, ["update", str(project), "--defaults"])

    assert result.exit_code == 0, result.output
    assert "Updated the template from v1.0.0 to v2.0.0." in result.output
    assert (project / "CONTRIBUTING.md").is_file()


def test_plugin_update_defaults_to_the_version_the_generator_ships(
    tmp_path: Path, git_home: Path, installed: Path
) -> None:
    origin, project = project_at_v1_with_v2_shipped(tmp_path, installed)
    write_tree(origin, {"template/LATER.md": "v3\n"})
    commit_all(origin, "Template v3", tag="v3.0.0")
    sync_store(ship(origin, tmp_path / "newer-generator"))  # another, newer install on the machine

    result = CliRunner().invoke(app, ["update", str(project), "--defaults"])

    assert result.exit_code == 0, result.output
    assert "_commit: v2.0.0" in (project / ".copier-answers.yml").read_text()
    assert not (project / "LATER.md").exists()


def test_missing_template_is_one_sentence(installed: Path) -> None:
    with pytest.raises(UserError, match="has no template: reinstall it"):
        default_source()


def test_portable_path_outside_home_stays_absolute(tmp_path: Path, git_home: Path) -> None:
    outside = tmp_path / "elsewhere" / "template.bundle"

    assert portable_path(outside) == outside.resolve().as_posix()
    assert portable_path(git_home / "x.bundle") == "~/x.bundle"


def test_xdg_data_home_moves_the_store(
    tmp_path: Path, git_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(git_home / "data"))
    origin = make_v1(tmp_path / "origin")

    bundle, _ = sync_store(ship(origin, tmp_path / "pkg"))

    assert bundle == git_home / "data/chatgpt-plugin-generator/template.bundle"
    assert portable_path(bundle) == "~/data/chatgpt-plugin-generator/template.bundle"
