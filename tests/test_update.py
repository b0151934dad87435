"""`plugin update` and plain `copier update` on a small template kept in a local git repository.

The template here is tiny and fully controlled, so each test can name the exact lines the owner
and the template change. tests/test_update_template.py runs the same story on the real template.
"""

from __future__ import annotations

from pathlib import Path

from helpers.commands import copier_cli, plugin
from helpers.repos import commit_all, git, init_repo, write_tree
from helpers.small_template import generate, make_v1, make_v2
from helpers.trees import tree_snapshot

from generator.update import CONFLICT_END, CONFLICT_START


def assert_scenario_outcome(project: Path) -> None:
    """Owner edits kept, template changes arrived, the overlapping line conflicts inline."""
    app_py = (project / "app.py").read_text()
    assert "def stats():" in app_py, "the owner's route was lost"
    assert "service: a todo API." in app_py, "the template's change to app.py did not arrive"
    assert "PORT = 8080" in (project / "settings.py").read_text()
    assert (project / "requirements.txt").read_text() == "fastapi\nuvicorn\nhttpx\n"
    assert (project / "CONTRIBUTING.md").read_text() == "How to contribute to Demo.\n"
    assert not (project / "obsolete.txt").exists()
    answers = (project / ".copier-answers.yml").read_text()
    assert "_commit: v2.0.0" in answers
    assert "license: MIT" in answers
    readme = (project / "README.md").read_text()
    assert readme.count(CONFLICT_START) == 1 and readme.count(CONFLICT_END) == 1
    assert "make dev" in readme and "make serve" in readme, "one side of the conflict was lost"
    assert readme.rstrip().endswith("MIT"), "the template's non-conflicting README change is gone"
    assert readme.index(CONFLICT_START) < readme.index("make dev") < readme.index(CONFLICT_END)


def test_plugin_update_keeps_owner_edits_and_marks_conflicts(edited_small_project) -> None:
    origin, project = edited_small_project

    code, output = plugin("update", str(project), "--defaults")

    assert code == 1, output
    assert "Updated the template" in output, output
    assert_scenario_outcome(project)
    assert "Updated the template from v1.0.0 to v2.0.0." in output
    assert "README.md" in output.split("Conflicts, marked inline")[1]
    assert "CONTRIBUTING.md" in output.split("Changed files")[1]
    assert "1 file still holds conflict markers" in output


def test_plain_copier_update_cli_gives_the_same_result(edited_small_project) -> None:
    _, project = edited_small_project

    result = copier_cli(project, "update", "--defaults", "--conflict", "inline")

    assert result.returncode == 0, result.stderr
    assert_scenario_outcome(project)


def test_update_refuses_while_conflict_markers_remain_in_a_file_it_changes(
    edited_small_project,
) -> None:
    origin, project = edited_small_project
    plugin("update", str(project), "--defaults")
    commit_all(project, "Commit without resolving")
    readme = origin / "template/README.md.jinja"
    readme.write_text(readme.read_text() + "\n## Support\n\nAsk us.\n", encoding="utf-8")
    commit_all(origin, "Template v3", tag="v3.0.0")

    code, output = plugin("update", str(project), "--defaults")

    assert code == 2
    assert "Conflict markers from an earlier update remain in README.md" in output
    assert git(project, "status", "--porcelain") == ""
    assert "_commit: v2.0.0" in (project / ".copier-answers.yml").read_text()


def test_untouched_v1_updated_to_v2_equals_fresh_v2(tmp_path: Path, git_home: Path) -> None:
    origin = make_v1(tmp_path / "origin")
    updated = generate(origin, tmp_path / "updated")
    make_v2(origin)

    code, output = plugin("update", str(updated), "--defaults")
    fresh = generate(origin, tmp_path / "fresh")

    assert code == 0, output
    assert tree_snapshot(updated, ("_commit:",)) == tree_snapshot(fresh, ("_commit:",))
    assert "_commit: v2.0.0" in (updated / ".copier-answers.yml").read_text()


def test_data_answers_the_new_question(tmp_path: Path, git_home: Path) -> None:
    origin = make_v1(tmp_path / "origin")
    project = generate(origin, tmp_path / "project")
    make_v2(origin)

    code, output = plugin("update", str(project), "--data", "license=Apache-2.0")

    assert code == 0, output
    assert "license: Apache-2.0" in (project / ".copier-answers.yml").read_text()
    assert (project / "README.md").read_text().rstrip().endswith("Apache-2.0")


def test_vcs_ref_picks_the_version(tmp_path: Path, git_home: Path) -> None:
    origin = make_v1(tmp_path / "origin")
    project = generate(origin, tmp_path / "project")
    make_v2(origin)
    write_tree(origin, {"template/LATER.md": "v3\n"})
    commit_all(origin, "Template v3", tag="v3.0.0")

    code, output = plugin("update", str(project), "--vcs-ref", "v2.0.0", "--defaults")

    assert code == 0, output
    assert "_commit: v2.0.0" in (project / ".copier-answers.yml").read_text()
    assert (project / "CONTRIBUTING.md").exists() and not (project / "LATER.md").exists()


def test_pretend_reports_and_writes_nothing(edited_small_project) -> None:
    origin, project = edited_small_project
    head_before = git(project, "rev-parse", "HEAD")
    files_before = tree_snapshot(project)

    code, output = plugin("update", str(project), "--pretend")

    assert code == 0, output
    assert "nothing was written" in output
    assert "CONTRIBUTING.md" in output and "obsolete.txt" in output
    assert "README.md" in output.split("Would conflict")[1]
    assert tree_snapshot(project) == files_before
    assert git(project, "rev-parse", "HEAD") == head_before
    assert git(project, "status", "--porcelain") == ""


def test_refuses_a_dirty_tree(edited_small_project) -> None:
    origin, project = edited_small_project
    (project / "settings.py").write_text("PORT = 1\n", encoding="utf-8")

    code, output = plugin("update", str(project), "--defaults")

    assert code == 2
    assert "has uncommitted changes in settings.py: commit them, or put them aside with " in output
    assert "git stash -u" in output
    assert (project / "settings.py").read_text() == "PORT = 1\n"
    assert not (project / "CONTRIBUTING.md").exists()


def test_refuses_an_untracked_file(edited_small_project) -> None:
    origin, project = edited_small_project
    (project / "notes.txt").write_text("draft\n", encoding="utf-8")

    code, output = plugin("update", str(project), "--defaults")

    assert code == 2
    assert (
        "has untracked files notes.txt: commit them, or put them aside with git stash -u" in output
    )


def test_refuses_a_project_without_answers_file(tmp_path: Path, git_home: Path) -> None:
    project = init_repo(tmp_path / "plain")
    write_tree(project, {"README.md": "not generated\n"})
    commit_all(project, "A project of its own")

    code, output = plugin("update", str(project), "--defaults")

    assert code == 2
    assert "has no .copier-answers.yml" in output
    assert output.count("\n") == 1, "the refusal must be one line"


def test_refuses_a_directory_that_is_not_a_git_repository(tmp_path: Path, git_home: Path) -> None:
    origin = make_v1(tmp_path / "origin")
    result = copier_cli(tmp_path, "copy", "--defaults", str(origin), str(tmp_path / "loose"))
    assert result.returncode == 0, result.stderr

    code, output = plugin("update", str(tmp_path / "loose"))

    assert code == 2
    assert "is not a git repository" in output


def test_refuses_a_downgrade_in_one_sentence(tmp_path: Path, git_home: Path) -> None:
    origin = make_v1(tmp_path / "origin")
    make_v2(origin)
    project = generate(origin, tmp_path / "project")
    before = tree_snapshot(project)

    code, output = plugin("update", str(project), "--vcs-ref", "v1.0.0", "--defaults")

    assert code == 2
    error_lines = [line for line in output.splitlines() if line.startswith("Error:")]
    assert error_lines == [
        "Error: The project is at template version 2.0.0, newer than 1.0.0: plugin update never "
        "downgrades; install a newer chatgpt-plugin-generator or pass --vcs-ref with a newer "
        "version."
    ]
    assert tree_snapshot(project) == before


def test_refuses_an_unknown_version(edited_small_project) -> None:
    origin, project = edited_small_project

    code, output = plugin("update", str(project), "--vcs-ref", "v9.9.9", "--defaults")

    assert code == 2
    assert "Template version v9.9.9 does not exist" in output
    assert "pass --vcs-ref with one of v1.0.0, v2.0.0." in output
    assert git(project, "status", "--porcelain") == ""


def test_rejects_malformed_data(edited_small_project) -> None:
    origin, project = edited_small_project

    code, output = plugin("update", str(project), "--data", "license")

    assert code == 2
    assert "--data 'license': write it as KEY=VALUE" in output


def test_update_at_the_same_version_changes_nothing(tmp_path: Path, git_home: Path) -> None:
    origin = make_v1(tmp_path / "origin")
    project = generate(origin, tmp_path / "project")

    code, output = plugin("update", str(project), "--defaults")

    assert code == 0, output
    assert "Template version v1.0.0 kept." in output
    assert "Nothing changed." in output
    assert git(project, "status", "--porcelain") == ""
