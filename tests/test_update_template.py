"""The upgrade story on the real template: copier.yml + template/ copied into a local git origin.

v1 is the repository's template as it is; v2 is made by the test: a new file, a changed file, a
removed file and a new question with a default. The owner's edits touch the files the
architecture contract names (README.md, pyproject.toml, settings.py, routes.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers.commands import copier_cli
from helpers.repos import commit_all, copy_real_template, git, init_repo, write_tree
from helpers.trees import tree_snapshot
from typer.testing import CliRunner

from generator.cli import app
from generator.update import CONFLICT_END, CONFLICT_START

PACKAGE = "todo_plus"
OWNER_TITLE_SUFFIX = " (ACME edition)"
TEMPLATE_TITLE_SUFFIX = " (template v2)"
OWNER_ROUTE = (
    "\n\n# Owner's route: how many todos there are.\n"
    '@router.get("/count", operation_id="countTodos")\n'
    "def count_todos() -> dict[str, int]:\n"
    '    return {"count": 0}\n'
)
DB_ADDITION = "\n# Added by template v2.\n"


def template_file(origin: Path, rendered_name: str) -> Path:
    """The template file that renders to ``rendered_name`` (with or without .jinja)."""
    for candidate in (f"template/{rendered_name}.jinja", f"template/{rendered_name}"):
        if (origin / candidate).is_file():
            return origin / candidate
    raise AssertionError(f"the template has no {rendered_name}, which the contract promises")


def make_v1(origin: Path) -> Path:
    copy_real_template(origin, commit=False)
    commit_all(origin, "Template v1", tag="v1.0.0")
    return origin


def make_v2(origin: Path) -> None:
    """A new file, a changed file (two), a removed file, a new question with a default."""
    copier_yml = origin / "copier.yml"
    copier_yml.write_text(
        copier_yml.read_text() + "\nlicense:\n  type: str\n  help: License\n  default: MIT\n",
        encoding="utf-8",
    )
    write_tree(origin, {"template/docs/upgrading.md.jinja": "{{ name }} is {{ license }}.\n"})
    readme = template_file(origin, "README.md")
    # The title is the first line the README renders: the line that starts with "# ".
    lines = readme.read_text().split("\n")
    title = next(index for index, line in enumerate(lines) if line.startswith("# "))
    lines[title] += TEMPLATE_TITLE_SUFFIX
    readme.write_text("\n".join(lines), encoding="utf-8")
    db = template_file(origin, "src/{{package_name}}/db.py")
    db.write_text(db.read_text() + DB_ADDITION, encoding="utf-8")
    template_file(origin, "Dockerfile").unlink()
    commit_all(origin, "Template v2", tag="v2.0.0")


def generate(origin: Path, dest: Path, auth: str = "none") -> Path:
    """The real copier CLI renders the project; the owner commits it."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    result = copier_cli(
        dest.parent, "copy", "--defaults", "--data", "name=Todo Plus", "--data", f"auth={auth}",
        str(origin), str(dest),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    init_repo(dest)
    commit_all(dest, "Generate the project")
    return dest


def owner_edits(project: Path) -> None:
    """A route, the README title, a setting's default, a dependency."""
    todos = project / f"src/{PACKAGE}/routes.py"
    assert "router = APIRouter(" in todos.read_text()
    todos.write_text(todos.read_text().rstrip("\n") + OWNER_ROUTE, encoding="utf-8")
    readme = project / "README.md"
    first, rest = readme.read_text().split("\n", 1)
    readme.write_text(first + OWNER_TITLE_SUFFIX + "\n" + rest, encoding="utf-8")
    settings = project / f"src/{PACKAGE}/settings.py"
    assert 'Path("data/plugin.db")' in settings.read_text()
    settings.write_text(
        settings.read_text().replace('Path("data/plugin.db")', 'Path("var/todos.sqlite3")'),
        encoding="utf-8",
    )
    pyproject = project / "pyproject.toml"
    assert "dependencies = [\n" in pyproject.read_text()
    pyproject.write_text(
        pyproject.read_text().replace(
            "dependencies = [\n", 'dependencies = [\n    "rich>=13",\n', 1
        ),
        encoding="utf-8",
    )
    commit_all(project, "Owner edits")


@pytest.fixture
def edited_project(tmp_path: Path, git_home: Path) -> Path:
    origin = make_v1(tmp_path / "origin")
    project = generate(origin, tmp_path / "todo-plus")
    owner_edits(project)
    make_v2(origin)
    return project


def assert_outcome(project: Path) -> None:
    """Every owner edit kept, every template change arrived, the shared line marked inline."""
    todos = (project / f"src/{PACKAGE}/routes.py").read_text()
    assert OWNER_ROUTE.strip() in todos
    assert 'Path("var/todos.sqlite3")' in (project / f"src/{PACKAGE}/settings.py").read_text()
    assert '    "rich>=13",\n' in (project / "pyproject.toml").read_text()
    assert (project / f"src/{PACKAGE}/db.py").read_text().endswith(DB_ADDITION)
    assert (project / "docs/upgrading.md").read_text() == "Todo Plus is MIT.\n"
    assert not (project / "Dockerfile").exists()
    answers = (project / ".copier-answers.yml").read_text()
    assert "_commit: v2.0.0" in answers and "license: MIT" in answers
    readme = (project / "README.md").read_text()
    assert readme.startswith(CONFLICT_START + "\n")
    ours, theirs = readme.split("\n=======\n", 1)
    assert ours.rstrip().endswith(OWNER_TITLE_SUFFIX)
    assert theirs.split("\n", 1)[0].endswith(TEMPLATE_TITLE_SUFFIX)
    assert CONFLICT_END in theirs


def test_plugin_update_on_the_real_template(edited_project: Path) -> None:
    result = CliRunner().invoke(app, ["update", str(edited_project), "--defaults"])

    assert result.exit_code == 1, result.output
    assert_outcome(edited_project)
    conflicts = result.output.split("Conflicts, marked inline")[1]
    assert "README.md" in conflicts and "routes.py" not in conflicts


def test_copier_update_cli_on_the_real_template(edited_project: Path) -> None:
    result = copier_cli(edited_project, "update", "--defaults", "--conflict", "inline")

    assert result.returncode == 0, result.stderr
    assert_outcome(edited_project)


@pytest.mark.parametrize("auth", ["none", "service_http", "user_http", "oauth"])
def test_untouched_v1_updated_equals_fresh_v2(tmp_path: Path, git_home: Path, auth: str) -> None:
    origin = make_v1(tmp_path / "origin")
    updated = generate(origin, tmp_path / "updated" / "todo-plus", auth)
    make_v2(origin)

    result = CliRunner().invoke(app, ["update", str(updated), "--defaults"])
    fresh = generate(origin, tmp_path / "fresh" / "todo-plus", auth)

    assert result.exit_code == 0, result.output
    assert tree_snapshot(updated, ("_commit:",)) == tree_snapshot(fresh, ("_commit:",))


def rename_package(project: Path, new: str) -> None:
    """What an owner does to rename the package: move the directory, rewrite every mention."""
    git(project, "mv", f"src/{PACKAGE}", f"src/{new}")
    for path in project.rglob("*"):
        if ".git" in path.relative_to(project).parts or not path.is_file():
            continue
        if path.name == ".copier-answers.yml":
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:  # the logo
            continue
        if PACKAGE in text:
            path.write_text(text.replace(PACKAGE, new), encoding="utf-8")
    commit_all(project, f"Rename the package to {new}")


def test_the_update_follows_a_renamed_package_directory(edited_project: Path) -> None:
    rename_package(edited_project, "todo_app")

    result = CliRunner().invoke(app, ["update", str(edited_project), "--defaults"])

    assert result.exit_code == 1, result.output  # the README title conflicts, as in the story
    assert (edited_project / "src/todo_app/db.py").read_text().endswith(DB_ADDITION)
    assert not (edited_project / f"src/{PACKAGE}").exists(), "files stranded in the old package"
    assert "Followed the package's new name, src/todo_app" in result.output
    assert OWNER_ROUTE.strip() in (edited_project / "src/todo_app/routes.py").read_text()
    assert "package_name: todo_app" in (edited_project / ".copier-answers.yml").read_text()
    stale = [
        str(path.relative_to(edited_project))
        for path in (edited_project / "tests").rglob("*.py")
        if PACKAGE in path.read_text()
    ]
    assert stale == [], "tests import the old package name"


def test_a_package_directory_that_cannot_be_followed_is_refused(edited_project: Path) -> None:
    rename_package(edited_project, "todo_app")
    write_tree(edited_project, {"src/helpers/__init__.py": ""})
    commit_all(edited_project, "A second package")
    head = git(edited_project, "rev-parse", "HEAD")

    result = CliRunner().invoke(app, ["update", str(edited_project), "--defaults"])

    assert result.exit_code == 2, result.output
    assert result.output.splitlines() == [
        "Error: src/todo_plus, the package that package_name in .copier-answers.yml names, is "
        "missing and src/ holds helpers, todo_app: set package_name in .copier-answers.yml to "
        "the package's new name and commit, then run plugin update again."
    ]
    assert git(edited_project, "rev-parse", "HEAD") == head
    assert git(edited_project, "status", "--porcelain") == ""


def test_data_package_name_is_refused_with_what_to_do(edited_project: Path) -> None:
    before = tree_snapshot(edited_project, skip_lines=())

    result = CliRunner().invoke(
        app, ["update", str(edited_project), "--defaults", "--data", "package_name=todo_app"]
    )

    assert result.exit_code == 2, result.output
    (line,) = result.output.splitlines()
    assert line.startswith("Error: --data package_name=todo_app would leave your code behind")
    assert "rename src/todo_plus to src/todo_app and its imports yourself" in line
    assert tree_snapshot(edited_project, skip_lines=()) == before
    assert not (edited_project / "src/todo_app").exists()


def test_the_update_follows_a_renamed_package_once_the_answers_name_it(
    edited_project: Path,
) -> None:
    rename_package(edited_project, "todo_app")
    answers = edited_project / ".copier-answers.yml"
    answers.write_text(
        answers.read_text().replace(f"package_name: {PACKAGE}", "package_name: todo_app")
    )
    commit_all(edited_project, "Record the package's new name")

    result = CliRunner().invoke(app, ["update", str(edited_project), "--defaults"])

    assert result.exit_code == 1, result.output  # the README title conflicts, as in the story
    assert not (edited_project / f"src/{PACKAGE}").exists(), "files stranded in the old package"
    assert (edited_project / "src/todo_app/db.py").read_text().endswith(DB_ADDITION)
    assert OWNER_ROUTE.strip() in (edited_project / "src/todo_app/routes.py").read_text()
    stale = [
        str(path.relative_to(edited_project))
        for path in (edited_project / "tests").rglob("*.py")
        if PACKAGE in path.read_text()
    ]
    assert stale == [], "tests import the old package name"
