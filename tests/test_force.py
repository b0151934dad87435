"""`plugin new --force` over a non-empty DEST: writes only inside DEST, leaves no stale files."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from helpers.repos import copy_real_template
from helpers.trees import leftovers, tree_snapshot
from typer.testing import CliRunner

from generator.cli import app


def plugin_new(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["new", *args])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.output


def test_force_never_writes_through_a_symlinked_directory(
    tmp_path: Path, template_repo: Path
) -> None:
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "keep.txt").write_text("not the project's\n")
    dest = tmp_path / "taken"
    dest.mkdir()
    (dest / "notes.txt").write_text("mine\n")
    (dest / "src").symlink_to(outside, target_is_directory=True)
    before = tree_snapshot(dest)

    code, output = plugin_new(
        str(dest), "--template", str(template_repo), "--name", "Forced", "--force", "--no-git"
    )

    assert code == 2, output
    assert output.splitlines() == [
        f"Error: {dest / 'src'} is a symbolic link, and --force writes only inside {dest}: "
        "replace the link by a directory, or choose another destination."
    ]
    assert sorted(path.name for path in outside.iterdir()) == ["keep.txt"]
    assert tree_snapshot(dest) == before
    assert (dest / "src").is_symlink()
    assert leftovers(tmp_path) == []


def test_force_replaces_a_symlinked_file_without_following_it(
    tmp_path: Path, template_repo: Path
) -> None:
    outside = tmp_path / "elsewhere.md"
    outside.write_text("not the project's\n")
    dest = tmp_path / "taken"
    dest.mkdir()
    (dest / "README.md").symlink_to(outside)

    code, output = plugin_new(
        str(dest), "--template", str(template_repo), "--name", "Forced", "--force", "--no-git"
    )

    assert code == 0, output
    assert outside.read_text() == "not the project's\n"
    assert not (dest / "README.md").is_symlink()
    assert (dest / "README.md").read_text().startswith("# Forced")


@pytest.fixture
def oauth_project(tmp_path: Path, template_repo: Path) -> Path:
    dest = tmp_path / "todo"
    code, output = plugin_new(
        str(dest), "--template", str(template_repo), "--name", "Todo", "--auth", "oauth",
        "--domain", "todo.example.com", "--no-git",
    )  # fmt: skip
    assert code == 0, output
    assert (dest / "oauth.txt").is_file()
    (dest / "notes.txt").write_text("mine\n")
    return dest


def test_force_over_another_mode_removes_the_files_that_mode_had(
    oauth_project: Path, template_repo: Path
) -> None:
    code, output = plugin_new(
        str(oauth_project), "--template", str(template_repo), "--name", "Todo", "--auth",
        "none", "--force", "--no-git",
    )  # fmt: skip

    assert code == 0, output
    assert not (oauth_project / "oauth.txt").exists(), "the oauth mode's file was left behind"
    assert (oauth_project / "notes.txt").read_text() == "mine\n"
    answers = yaml.safe_load((oauth_project / ".copier-answers.yml").read_text())
    assert answers["auth"] == "none"
    assert "with auth none" in (oauth_project / "README.md").read_text()


def test_force_over_another_mode_refuses_when_that_mode_s_file_was_edited(
    oauth_project: Path, template_repo: Path
) -> None:
    (oauth_project / "oauth.txt").write_text("scope=todos admin\n")
    before = tree_snapshot(oauth_project)

    code, output = plugin_new(
        str(oauth_project), "--template", str(template_repo), "--name", "Todo", "--auth",
        "none", "--force", "--no-git",
    )  # fmt: skip

    assert code == 1, output
    assert output.splitlines() == [
        f"Error: {oauth_project / 'oauth.txt'} belongs to the project already in "
        f"{oauth_project} (as its .copier-answers.yml describes it), holds changes, and the "
        "new answers no longer produce it: move it away, or choose another destination."
    ]
    assert tree_snapshot(oauth_project) == before


def test_force_over_another_mode_of_the_real_template_gives_that_mode_s_project(
    tmp_path: Path, git_home: Path
) -> None:
    origin = copy_real_template(tmp_path / "origin")
    common = ["--template", str(origin), "--name", "Todo", "--defaults", "--no-git"]
    forced = tmp_path / "forced"
    assert (
        plugin_new(str(forced), *common, "--auth", "service_http", "--domain", "t.example.com")[0]
        == 0
    )
    assert (forced / "tests/test_auth.py").is_file()

    code, output = plugin_new(str(forced), *common, "--auth", "none", "--force")
    fresh = tmp_path / "fresh"
    assert plugin_new(str(fresh), *common, "--auth", "none")[0] == 0

    assert code == 0, output
    assert tree_snapshot(forced) == tree_snapshot(fresh)
