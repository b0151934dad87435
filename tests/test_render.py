"""Rendering: the same verdicts and projects as plain `copier copy`, and all-or-nothing writes."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml
from copier._main import Worker
from helpers.commands import COPIER, run
from helpers.repos import MINIMAL_TREE, commit_all, copy_real_template, git, make_template
from helpers.trees import leftovers, tree_snapshot
from typer.testing import CliRunner

from generator.cli import app
from generator.render import open_template
from generator.template_source import TemplateSource

IGNORED = ("_src_path:", "_commit:")


def plugin_new(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["new", *args])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stderr


def copier_copy(src: Path, dest: Path, answers: dict[str, str], *extra: str):
    data = [arg for key, value in answers.items() for arg in ("--data", f"{key}={value}")]
    return run(
        COPIER, "copy", "--quiet", "--defaults", *data, *extra, str(src), str(dest),
        cwd=dest.parent,
    )  # fmt: skip


def as_flags(answers: dict[str, str]) -> list[str]:
    return [arg for key, value in answers.items() for arg in ("--data", f"{key}={value}")]


def answers_file(project: Path) -> dict[str, object]:
    return yaml.safe_load((project / ".copier-answers.yml").read_text(encoding="utf-8"))


# -- one source of truth: plain copier copy agrees ------------------------------------------------


@pytest.mark.parametrize(
    "bad",
    [
        {"name": "A name far longer than twenty"},
        {"name": "Todo", "domain": "https://todo.example.com"},
        {"name": "Todo", "domain": "todo example.com"},
        {"name": "Todo", "auth": "password"},
        {"name": "Todo", "package_name": "json"},
        {"name": "Todo", "model_name": "todo-plus"},
        {"name": "Todo", "contact_email": "not-an-address"},
        {"name": "Todo", "legal_info_url": "ftp://example.com/legal"},
        {"name": "Todo", "description": "x" * 101},
        {"name": "Todo", "auth": "user_http", "authorization_type": "digest"},
        {"name": "Todo", "auth": "oauth", "oauth_scope": "todos\\read"},
    ],
    ids=lambda bad: ",".join(f"{k}" for k in bad if k != "name") or "name",
)
def test_bad_answers_are_refused_by_both(
    tmp_path: Path, template_repo: Path, bad: dict[str, str]
) -> None:
    code, err = plugin_new(
        str(tmp_path / "by-plugin"), "--template", str(template_repo), *as_flags(bad)
    )
    by_copier = copier_copy(template_repo, tmp_path / "by-copier", bad)
    assert code == 2 and err.startswith("Error: ") and err.count("\n") == 1
    assert by_copier.returncode != 0, by_copier.stdout
    assert not (tmp_path / "by-plugin").exists()


GOOD = {
    "none": {"name": "Todo Plus"},
    "service_http": {"name": "Service Todo", "auth": "service_http", "domain": "api.example.com"},
    "user_http": {
        "name": "User Todo",
        "auth": "user_http",
        "domain": "todo.example.org:8443",
        "authorization_type": "basic",
        "contact_email": "me@example.org",
    },
    "oauth": {
        "name": "OAuth Todo",
        "auth": "oauth",
        "domain": "todo.example.com",
        "oauth_scope": "todos:read todos:write",
        "package_name": "oauth_todo_app",
    },
}


@pytest.mark.parametrize("auth", list(GOOD))
def test_good_answers_give_the_same_project_as_copier_copy(
    tmp_path: Path, git_home: Path, auth: str
) -> None:
    origin = copy_real_template(tmp_path / "real-template")
    code, err = plugin_new(
        str(tmp_path / "by-plugin"), "--template", str(origin), "--no-git", *as_flags(GOOD[auth])
    )
    by_copier = copier_copy(origin, tmp_path / "by-copier", GOOD[auth])
    assert (code, err) == (0, "")
    assert by_copier.returncode == 0, by_copier.stderr
    ours = tree_snapshot(tmp_path / "by-plugin", IGNORED)
    theirs = tree_snapshot(tmp_path / "by-copier", IGNORED)
    assert sorted(ours) == sorted(theirs)
    assert ours == theirs
    package = answers_file(tmp_path / "by-plugin")["package_name"]
    assert any(path.startswith(f"src/{package}/") for path in ours)


def test_clean_checkout_is_read_in_place_with_the_commit_copier_records(
    tmp_path: Path, template_repo: Path
) -> None:
    git(template_repo, "tag", "v1.0.0")
    with open_template(TemplateSource(str(template_repo))) as opened:
        # Read where it is: Copier's template directory is the checkout itself, not a clone.
        assert opened.template.local_abspath == template_repo.resolve()
        assert not opened.draft
    assert (
        plugin_new(str(tmp_path / "ours"), "--template", str(template_repo), "--name", "T")[0] == 0
    )
    assert copier_copy(template_repo, tmp_path / "theirs", {"name": "T"}).returncode == 0
    # Nothing ignored: the answers files match, _commit and _src_path included.
    assert tree_snapshot(tmp_path / "ours") == tree_snapshot(tmp_path / "theirs")
    assert answers_file(tmp_path / "ours")["_commit"] == "v1.0.0"


@pytest.mark.parametrize("change", ["untracked template file", "edited copier.yml"])
def test_uncommitted_template_changes_are_rendered_as_copier_does(
    tmp_path: Path, template_repo: Path, change: str
) -> None:
    if change == "untracked template file":
        (template_repo / "template" / "EXTRA.md").write_text("draft\n")
    else:
        copier_yml = template_repo / "copier.yml"
        copier_yml.write_text(
            copier_yml.read_text().replace("default: localhost:5003", "default: localhost:7000")
        )
    with open_template(TemplateSource(str(template_repo), vcs_ref="HEAD")) as opened:
        assert opened.template.local_abspath != template_repo.resolve()
        assert opened.draft
    answers = {"name": "T"}
    code, err = plugin_new(str(tmp_path / "ours"), "--template", str(template_repo), "--name", "T")
    assert code == 0
    assert err.startswith("Note: the template checkout has uncommitted changes; they were rendered")
    assert copier_copy(template_repo, tmp_path / "theirs", answers).returncode == 0
    assert tree_snapshot(tmp_path / "ours", IGNORED) == tree_snapshot(tmp_path / "theirs", IGNORED)
    if change == "untracked template file":
        assert (tmp_path / "ours" / "EXTRA.md").read_text() == "draft\n"
    else:
        assert answers_file(tmp_path / "ours")["domain"] == "localhost:7000"


def test_latest_tag_is_rendered_by_default_and_vcs_ref_picks_another(
    tmp_path: Path, template_repo: Path
) -> None:
    git(template_repo, "tag", "v1.0.0")
    (template_repo / "template" / "README.md.jinja").write_text("# {{ name }} v2\n")
    commit_all(template_repo, "Template v2")
    runs = {
        "default": [],
        "head": ["--vcs-ref", "HEAD"],
        "v1": ["--vcs-ref", "v1.0.0"],
    }
    for label, extra in runs.items():
        dest = tmp_path / label
        assert (
            plugin_new(str(dest), "--template", str(template_repo), "--name", "T", *extra)[0] == 0
        )
    assert (tmp_path / "default" / "README.md").read_text().startswith("# T\n")
    assert answers_file(tmp_path / "default")["_commit"] == "v1.0.0"
    assert (tmp_path / "head" / "README.md").read_text() == "# T v2\n"
    assert answers_file(tmp_path / "head")["_commit"].startswith("v1.0.0-1-g")
    assert (tmp_path / "v1" / "README.md").read_text().startswith("# T\n")
    theirs = copier_copy(template_repo, tmp_path / "theirs", {"name": "T"})
    assert theirs.returncode == 0
    assert tree_snapshot(tmp_path / "default") == tree_snapshot(tmp_path / "theirs")


def test_unreadable_template_source_is_one_sentence(tmp_path: Path) -> None:
    code, err = plugin_new(
        str(tmp_path / "todo"), "--template", str(tmp_path / "nowhere"), "--name", "T"
    )
    assert code == 2  # a wrong --template is a wrong flag (README: "Exit status")
    assert err.startswith(f"Error: Cannot read the template {tmp_path / 'nowhere'}: ")
    assert err.count("\n") == 1


def test_unknown_vcs_ref_is_one_sentence(tmp_path: Path, template_repo: Path) -> None:
    code, err = plugin_new(
        str(tmp_path / "todo"), "--template", str(template_repo), "--vcs-ref", "v9", "-y"
    )
    assert code == 2  # a wrong --vcs-ref is a wrong flag
    assert err.startswith("Error: Cannot read the template")
    assert not (tmp_path / "todo").exists()


# -- all or nothing -----------------------------------------------------------------------------


def broken_template(root: Path) -> Path:
    tree = dict(MINIMAL_TREE)
    tree["zz_broken.txt.jinja"] = "{% if name %}never closed\n"
    return make_template(root, tree)


def test_a_file_that_fails_to_render_leaves_nothing(tmp_path: Path, git_home: Path) -> None:
    origin = broken_template(tmp_path / "broken-origin")
    work = tmp_path / "work"
    work.mkdir()
    dest = work / "a" / "b" / "todo"
    code, err = plugin_new(str(dest), "--template", str(origin), "--name", "T")
    assert code == 1
    assert err.startswith("Error: The template could not be rendered: ")
    assert os.listdir(work) == []  # not even the parent directories


def test_a_failed_forced_render_leaves_the_destination_untouched(
    tmp_path: Path, git_home: Path
) -> None:
    origin = broken_template(tmp_path / "broken-origin")
    dest = tmp_path / "taken"
    dest.mkdir()
    (dest / "README.md").write_text("mine")
    code, _ = plugin_new(str(dest), "--template", str(origin), "--name", "T", "--force")
    assert code == 1
    assert os.listdir(dest) == ["README.md"]
    assert (dest / "README.md").read_text() == "mine"
    assert leftovers(tmp_path) == []


def interrupt_after_first_file(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Make Copier's renderer raise KeyboardInterrupt (Ctrl-C) once it has written one file."""
    written: list[Path] = []
    render_file = Worker._render_file

    def render_then_interrupt(self: Worker, *args: object, **kwargs: object) -> None:
        render_file(self, *args, **kwargs)
        written.append(self.dst_path)
        raise KeyboardInterrupt

    monkeypatch.setattr(Worker, "_render_file", render_then_interrupt)
    return written


def test_ctrl_c_during_rendering_leaves_nothing(
    tmp_path: Path, template_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    written = interrupt_after_first_file(monkeypatch)
    work = tmp_path / "work"
    work.mkdir()
    code, err = plugin_new(str(work / "todo"), "--template", str(template_repo), "--name", "T")
    assert written, "the interrupt was not reached"
    assert (code, err) == (130, "Interrupted: nothing was written.\n")
    assert os.listdir(work) == []


def test_ctrl_c_during_a_forced_render_keeps_the_destination(
    tmp_path: Path, template_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    written = interrupt_after_first_file(monkeypatch)
    dest = tmp_path / "taken"
    dest.mkdir()
    (dest / "README.md").write_text("mine")
    code, _ = plugin_new(str(dest), "--template", str(template_repo), "--name", "T", "--force")
    assert written and code == 130
    assert os.listdir(dest) == ["README.md"]
    assert (dest / "README.md").read_text() == "mine"
    assert leftovers(tmp_path) == []


def test_ctrl_c_during_the_first_commit_leaves_nothing(
    tmp_path: Path, template_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import generator.render

    calls: list[Path] = []

    def interrupted_commit(path: Path, message: str) -> None:
        calls.append(path)
        raise KeyboardInterrupt

    monkeypatch.setattr(generator.render, "commit_project", interrupted_commit)
    work = tmp_path / "work"
    work.mkdir()
    code, _ = plugin_new(str(work / "todo"), "--template", str(template_repo), "--name", "T")
    assert calls and code == 130
    assert os.listdir(work) == []


@pytest.mark.parametrize(
    ("copier_yml", "expected"),
    [
        ("_subdirectory: template\nname: [unclosed\n", "Error: Cannot read the template "),
        (
            '_subdirectory: template\nname:\n  type: str\n  default: "{{ nope.attr }}"\n',
            "Error: The template's copier.yml cannot be used: 'nope' is undefined\n",
        ),
    ],
    ids=["not-yaml", "broken-default"],
)
def test_a_broken_copier_yml_is_one_sentence(
    tmp_path: Path, git_home: Path, copier_yml: str, expected: str
) -> None:
    origin = make_template(tmp_path / "origin", {"README.md": "x\n"})
    (origin / "copier.yml").write_text(copier_yml, encoding="utf-8")
    commit_all(origin, "Break copier.yml")
    code, err = plugin_new(str(tmp_path / "todo"), "--template", str(origin), "-y")
    assert code == 1
    assert err.startswith(expected) and err.count("\n") == 1, err
    assert not (tmp_path / "todo").exists()
