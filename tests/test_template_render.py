"""Rendering the template: validated answers, escaping, determinism, per-mode files only.

Template-level tests render with pytest-copie's `copie` fixture (Copier's public API, answers as
user defaults, which Copier validates), from a copy of copier.yml and template/ outside git.
"""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml
from helpers.rendering import MODES, render_template

TRICKY_NAME = 'Tom\'s "T" {{x}} ünï😀'
TRICKY_DESCRIPTION = "Quotes ' \" and braces {{ }} {% %} and <b>html</b> & ünïcödé 😀"
TRICKY_MODEL_DESCRIPTION = 'Line one with "quotes" and \\backslash\\.\nLine two: {{ x }}\t<tab>'

# (answers, the message copier.yml's validator must give), written out here by hand.
INVALID_ANSWERS = [
    ({"name": ""}, 'The name is required: type the name people see in ChatGPT, e.g. "Todo Plus".'),
    ({"name": "   "}, "The name is required"),
    ({"name": " Todo"}, "The name must not start or end with a space."),
    ({"name": "x" * 21}, "The name has 21 characters; ChatGPT allows at most 20."),
    ({"name": "two\nlines"}, "The name must be one line, without control characters."),
    (
        {"domain": "https://todo.example.com"},
        'Type the host without the scheme: "todo.example.com"',
    ),
    ({"domain": "todo.example.com/api"}, 'Type the host without a path: "todo.example.com"'),
    ({"domain": "todo example.com"}, "The domain must not contain spaces"),
    ({"domain": "Todo.Example.com"}, '"Todo.Example.com" is not a host name'),
    ({"domain": "localhost:70000"}, '"localhost:70000" is not a host name'),
    ({"domain": "example"}, '"example" is not a host name'),
    # A dot in the rule is a literal dot, not "any character".
    ({"domain": "127x0x0x1"}, '"127x0x0x1" is not a host name'),
    ({"auth": "oauth", "oauth_scope": 'say "hi"'}, "The scope must be space-separated words"),
    ({"auth": "oauth", "oauth_scope": "a  b"}, "The scope must be space-separated words"),
    ({"auth": "oauth", "oauth_scope": "back\\slash"}, "The scope must be space-separated words"),
    ({"model_name": "has space"}, "The model name must be 1 to 50 letters, digits or underscores"),
    ({"model_name": "x" * 51}, "The model name must be 1 to 50 letters, digits or underscores"),
    ({"model_name": "todo-plus"}, "The model name must be 1 to 50 letters, digits or underscores"),
    ({"package_name": "1todo"}, "The package name must start with a lowercase letter"),
    ({"package_name": "Todo"}, "The package name must start with a lowercase letter"),
    ({"package_name": "json"}, '"json" would shadow a Python keyword or module'),
    ({"package_name": "import"}, '"import" would shadow a Python keyword or module'),
    ({"package_name": "fastapi"}, '"fastapi" would shadow a Python keyword or module'),
    ({"description": ""}, "The description is required"),
    ({"description": "x" * 101}, "The description has 101 characters; ChatGPT allows at most 100."),
    ({"description": "a\tb"}, "The description must be one line, without control characters."),
    ({"model_description": " "}, "The model description is required"),
    ({"model_description": "x" * 8001}, "The model description has 8001 characters"),
    ({"contact_email": "support"}, '"support" is not an e-mail address'),
    ({"contact_email": "a@b"}, '"a@b" is not an e-mail address'),
    ({"contact_email": "a@bxcom"}, '"a@bxcom" is not an e-mail address'),
    ({"legal_info_url": "https://example.com/terms of use"}, "is not an absolute URL"),
    ({"legal_info_url": "/legal"}, '"/legal" is not an absolute URL'),
    ({"legal_info_url": "ftp://example.com/legal"}, "is not an absolute URL"),
    ({"legal_info_url": "https://example.com/" + "x" * 2000}, "longer than 2,000 characters"),
]


def refused(result: Any) -> str:
    """The refusal of a copie render that must fail: its message; nothing may be written."""
    assert result.exit_code != 0 and result.exception is not None, result
    assert result.project_dir is None
    return str(result.exception)


@pytest.mark.parametrize(("answers", "message"), INVALID_ANSWERS, ids=lambda v: str(v)[:40])
def test_invalid_answers_fail_with_the_questions_message(
    copie: Any, template_snapshot: Path, answers: dict[str, str], message: str
) -> None:
    answers = {"name": "Todo", **answers}

    result = copie.copy(extra_answers=answers, template_dir=template_snapshot)

    question = next(iter(answers.keys() - {"name", "auth"}), "name")
    assert f"question '{question}'" in refused(result)
    assert message in refused(result)
    assert not any(copie.test_dir.glob("copie*/*"))


@pytest.mark.parametrize(
    ("answers", "copier_says"),
    [
        ({"auth": "ldap"}, "Invalid choice for 'auth': 'ldap'"),
        (
            {"auth": "user_http", "authorization_type": "digest"},
            "Invalid choice for 'authorization_type': 'digest'",
        ),
    ],
)
def test_values_outside_the_choices_are_refused(
    copie: Any, template_snapshot: Path, answers: dict[str, str], copier_says: str
) -> None:
    result = copie.copy(extra_answers={"name": "Todo", **answers}, template_dir=template_snapshot)

    assert copier_says in refused(result)
    assert not any(copie.test_dir.glob("copie*/*"))


def test_the_copier_cli_reports_an_invalid_answer_and_writes_nothing(
    template_snapshot: Path, tmp_path: Path
) -> None:
    destination = tmp_path / "project"

    done = subprocess.run(
        [sys.executable, "-m", "copier", "copy", "--defaults", "--data", "name=" + "x" * 21,
         str(template_snapshot), str(destination)],
        capture_output=True,
        text=True,
        timeout=120,
    )  # fmt: skip

    assert done.returncode != 0
    assert "The name has 21 characters; ChatGPT allows at most 20." in done.stderr
    assert not destination.exists()


def _files(root: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(root)): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


@pytest.mark.parametrize("mode", MODES)
def test_rendering_twice_gives_identical_files(
    copie: Any, template_snapshot: Path, mode: str
) -> None:
    answers = {"name": "Twice", "auth": mode}
    first = copie.copy(extra_answers=answers, template_dir=template_snapshot)
    second = copie.copy(extra_answers=answers, template_dir=template_snapshot)

    assert first.exit_code == 0 and second.exit_code == 0, (first, second)
    assert _files(first.project_dir) == _files(second.project_dir)
    assert len(_files(first.project_dir)) > 20


@pytest.fixture(scope="module")
def tricky_projects(tmp_path_factory: pytest.TempPathFactory, template_snapshot: Path):
    root = tmp_path_factory.mktemp("tricky")
    answers = {
        "name": TRICKY_NAME,
        "description": TRICKY_DESCRIPTION,
        "model_description": TRICKY_MODEL_DESCRIPTION,
        "model_name": "tricky_todo",
        "package_name": "tricky_todo",
    }
    return {
        mode: render_template(root / mode, src=template_snapshot, auth=mode, **answers)
        for mode in MODES
    }


@pytest.mark.parametrize("mode", MODES)
def test_a_tricky_name_renders_files_that_parse(tricky_projects, mode: str) -> None:
    project = tricky_projects[mode]

    for path in project.rglob("*.py"):
        ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for path in [*project.rglob("*.yml"), *project.rglob("*.yaml")]:
        yaml.safe_load(path.read_text(encoding="utf-8"))
    pyproject = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text(encoding="utf-8"))

    assert pyproject["project"]["description"].startswith("Quotes ' \" and braces {{ }}")
    assert answers["name"] == TRICKY_NAME


@pytest.mark.parametrize("mode", MODES)
def test_a_tricky_name_reaches_the_manifest_unchanged(tricky_projects, mode: str) -> None:
    project = tricky_projects[mode]
    code = (
        "import json\n"
        "from tricky_todo import plugin_info\n"
        "print(json.dumps([plugin_info.NAME, plugin_info.DESCRIPTION, "
        "plugin_info.MODEL_DESCRIPTION]))\n"
    )

    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=project,
        env={"PYTHONPATH": str(project / "src"), "PYTHONDONTWRITEBYTECODE": "1"},
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == [TRICKY_NAME, TRICKY_DESCRIPTION, TRICKY_MODEL_DESCRIPTION]


def test_a_tricky_name_is_escaped_in_the_readme(tricky_projects) -> None:
    readme = (tricky_projects["none"] / "README.md").read_text(encoding="utf-8")

    assert "<b>html</b>" not in readme
    assert "&lt;b&gt;html&lt;/b&gt;" in readme


EXPECTED_ONLY_IN = {
    "users.py": {"user_http", "oauth"},
    "storage.py": {"oauth"},
    "endpoints.py": {"oauth"},
    "oauth_sign_in.html": {"oauth"},
    "test_oauth.py": {"oauth"},
    "test_auth.py": {"service_http", "user_http", "oauth"},
}


#: Answer sets, one per mode, with non-default answers the project must record as given.
ANSWER_SETS = {
    "none": {"name": "Todo", "auth": "none", "mcp": False},
    "service_http": {"name": "Service", "auth": "service_http", "domain": "api.example.com"},
    "user_http": {"name": "Users", "auth": "user_http", "authorization_type": "basic"},
    "oauth": {
        "name": "OAuth",
        "auth": "oauth",
        "domain": "todo.example.com:8443",
        "oauth_scope": "todos:read todos:write",
    },
}


@pytest.mark.parametrize("mode", MODES)
def test_only_the_chosen_modes_files_exist(copie: Any, template_snapshot: Path, mode: str) -> None:
    result = copie.copy(extra_answers=ANSWER_SETS[mode], template_dir=template_snapshot)

    assert result.exit_code == 0, result.exception
    assert ANSWER_SETS[mode].items() <= result.answers.items()
    names = {path.name for path in result.project_dir.rglob("*") if path.is_file()}
    for name, modes in EXPECTED_ONLY_IN.items():
        assert (name in names) == (mode in modes), name
    # No empty files left behind by a condition that rendered nothing.
    assert all(path.stat().st_size > 0 for path in result.project_dir.rglob("*") if path.is_file())


@pytest.mark.parametrize("mode", MODES)
def test_every_mode_serves_mcp_by_default(rendered_projects, mode: str) -> None:
    project = rendered_projects[mode]

    assert (project / "src" / f"todo_{mode}" / "mcp_server.py").is_file()
    assert (project / "tests" / "test_mcp.py").is_file()
    assert '"mcp>=' in (project / "pyproject.toml").read_text(encoding="utf-8")


@pytest.mark.parametrize("mode", MODES)
def test_without_mcp_nothing_of_mcp_is_rendered(
    template_snapshot: Path, tmp_path: Path, mode: str
) -> None:
    project = render_template(
        tmp_path / "plain", src=template_snapshot, name="Plain Todo", auth=mode, mcp=False
    )
    files = [path for path in project.rglob("*") if path.is_file()]

    assert not [path for path in files if "mcp" in path.name.lower()]
    for path in files:
        if path.suffix in (".py", ".toml", ".md", ".html", ".example"):
            text = path.read_text(encoding="utf-8")
            assert re.search(r"\bmcp\b", text, re.I) is None, path
        if path.suffix in (".py", ".md", ".example") and path.parent != project / "tests":
            # Nor anything of ChatGPT apps, which are MCP servers: no RFC 9728 document, no
            # domain verification of an app submission (the project's tests check their 404).
            text = path.read_text(encoding="utf-8").lower().replace("_", "-")
            assert "oauth-protected-resource" not in text, path
            assert "openai-apps-challenge" not in text, path


@pytest.mark.parametrize("mode", MODES)
def test_no_code_of_other_modes_is_rendered(rendered_projects, mode: str) -> None:
    package = rendered_projects[mode] / "src" / f"todo_{mode}"
    code = "\n".join(path.read_text() for path in package.glob("*.py"))

    for other in set(MODES) - {mode, "none"}:
        assert f'"{other}"' not in code, other
    if mode != "service_http":
        assert "service_token" not in code
    if mode != "oauth":
        assert re.search(r"\boauth", code, re.IGNORECASE) is None


@pytest.mark.parametrize("mode", MODES)
def test_the_answers_file_holds_answers_and_no_secret(rendered_projects, mode: str) -> None:
    project = rendered_projects[mode]
    text = (project / ".copier-answers.yml").read_text(encoding="utf-8")
    answers = yaml.safe_load(text)

    assert text.startswith("# Changes here will be overwritten by Copier")
    assert answers["auth"] == mode
    assert answers["name"] == f"Todo {mode}"[:20]
    assert "_src_path" in answers
    assert "is_local" not in answers and "base_url" not in answers
    lowered = text.lower()
    for word in ("secret", "token", "password", "client_id"):
        assert word not in lowered, word


@pytest.mark.parametrize("mode", MODES)
def test_secrets_are_git_ignored_and_not_rendered(rendered_projects, mode: str) -> None:
    project = rendered_projects[mode]

    assert not (project / ".env").exists()
    ignored = (project / ".gitignore").read_text().splitlines()
    assert ".env" in ignored and "/data/" in ignored and ".venv/" in ignored
