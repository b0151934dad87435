"""A tiny template kept in a local git repository, for the update stories.

Small and fully controlled, so a test can name the exact lines the owner and the template
change: v1.0.0 (`make_v1`), then v2.0.0 (`make_v2`: a new file, changed files, a removed file
and a new question with a default), and the owner's edits in between (`owner_edits`).
"""

from __future__ import annotations

from pathlib import Path

from helpers.commands import copier_cli
from helpers.repos import commit_all, init_repo, write_tree

ANSWERS_TEMPLATE = "{{ _copier_answers | to_nice_yaml -}}\n"

V1_FILES = {
    "copier.yml": (
        "_subdirectory: template\n"
        "_answers_file: .copier-answers.yml\n"
        "_templates_suffix: .jinja\n"
        "name:\n  type: str\n  default: Demo\n"
        "port:\n  type: int\n  default: 5003\n"
    ),
    "template/{{ _copier_conf.answers_file }}.jinja": ANSWERS_TEMPLATE,
    "template/README.md.jinja": (
        "# {{ name }}\n\nRun it with `make run`.\n\n"
        "## Configuration\n\nSet PORT (default {{ port }}).\n"
    ),
    "template/app.py.jinja": (
        '"""{{ name }} service."""\n\nROUTES = ["/todos"]\n\n\ndef todos():\n    return []\n'
    ),
    "template/settings.py.jinja": (
        '"""Settings."""\n\nPORT = {{ port }}\n\n# Logging\nDEBUG = False\n'
    ),
    "template/requirements.txt": "fastapi\nuvicorn\n",
    "template/obsolete.txt": "This file leaves the template in v2.\n",
}

OWNER_ROUTE = '\n\ndef stats():\n    """Owner\'s own route."""\n    return {"count": 0}\n'


def make_v1(origin: Path) -> Path:
    """The template repository at v1.0.0."""
    init_repo(origin)
    write_tree(origin, V1_FILES)
    commit_all(origin, "Template v1", tag="v1.0.0")
    return origin


def make_v2(origin: Path) -> None:
    """v2.0.0: a new file, changed files, a removed file and a new question with a default."""
    copier_yml = origin / "copier.yml"
    copier_yml.write_text(
        copier_yml.read_text() + "license:\n  type: str\n  default: MIT\n", encoding="utf-8"
    )
    readme = origin / "template/README.md.jinja"
    readme.write_text(
        readme.read_text().replace("make run", "make serve") + "\n## License\n\n{{ license }}\n",
        encoding="utf-8",
    )
    app_py = origin / "template/app.py.jinja"
    app_py.write_text(
        app_py.read_text().replace("service.", "service: a todo API."), encoding="utf-8"
    )
    write_tree(origin, {"template/CONTRIBUTING.md.jinja": "How to contribute to {{ name }}.\n"})
    (origin / "template/obsolete.txt").unlink()
    commit_all(origin, "Template v2", tag="v2.0.0")


def generate(origin: Path, dest: Path, *extra: str) -> Path:
    """Render with the real copier CLI, then commit the result as its owner would."""
    result = copier_cli(dest.parent, "copy", "--defaults", *extra, str(origin), str(dest))
    assert result.returncode == 0, result.stderr
    init_repo(dest)
    commit_all(dest, "Generate the project")
    return dest


def owner_edits(project: Path) -> None:
    """What an owner does after generating: a route, README, a setting, a dependency."""
    app_py = project / "app.py"
    app_py.write_text(app_py.read_text() + OWNER_ROUTE, encoding="utf-8")
    readme = project / "README.md"
    readme.write_text(readme.read_text().replace("make run", "make dev"), encoding="utf-8")
    settings = project / "settings.py"
    settings.write_text(
        settings.read_text().replace("PORT = 5003", "PORT = 8080"), encoding="utf-8"
    )
    requirements = project / "requirements.txt"
    requirements.write_text(requirements.read_text() + "httpx\n", encoding="utf-8")
    commit_all(project, "Owner edits")
