"""Copier imported without questionary: `plugin new` skips it, and Copier still prompts right.

Each check runs in a new Python process, because what it is about is which modules a process
has imported.
"""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path

import pytest
from helpers.commands import PLUGIN, run

PROMPTING = textwrap.dedent(
    """
    import json, sys
    from pathlib import Path
    if sys.argv[1] == "lazy":
        from generator._lazy_prompts import import_copier
        import_copier()
    import copier
    from prompt_toolkit.application import create_app_session
    from prompt_toolkit.input import create_pipe_input
    from prompt_toolkit.output import DummyOutput

    template, destination = Path(sys.argv[2]), Path(sys.argv[3])
    with create_pipe_input() as keys, create_app_session(input=keys, output=DummyOutput()):
        # color: Enter keeps the default; size: one down from the default; toppings: Enter
        # keeps the checked default; go: Enter keeps the default (yes).
        keys.send_text("\\r" + "\\x1b[B\\r" + "\\r" + "\\r")
        copier.run_copy(str(template), destination, defaults=False, quiet=True, unsafe=False)
    from copier._user_data import Choice
    questionary = sys.modules["questionary"]
    print(json.dumps({
        "answers": (destination / "answers.txt").read_text().strip(),
        "choice_class": f"{Choice.__module__}.{Choice.__qualname__}",
        "questionary": [questionary.__name__, hasattr(questionary, "text")],
    }))
    """
)

COPIER_YML = textwrap.dedent(
    """
    color:
      type: str
      choices: [red, green, blue]
      default: green
    size:
      type: str
      choices:
        Small: s
        Medium: m
        Large: l
      default: m
    toppings:
      type: str
      multiselect: true
      choices: [cheese, olives, basil]
      default: [olives]
    go:
      type: bool
      default: true
    """
)


@pytest.fixture
def choosing_template(tmp_path: Path) -> Path:
    folder = tmp_path / "choosing"
    folder.mkdir()
    (folder / "copier.yml").write_text(COPIER_YML, encoding="utf-8")
    (folder / "answers.txt.jinja").write_text(
        "{{ color }} {{ size }} {{ toppings | join(',') }} {{ go }}\n", encoding="utf-8"
    )
    return folder


@pytest.mark.parametrize("way", ["lazy", "plain"])
def test_copier_prompts_the_same_through_the_stand_ins(
    tmp_path: Path, choosing_template: Path, way: str
) -> None:
    script = tmp_path / "prompting.py"
    script.write_text(PROMPTING, encoding="utf-8")
    result = run(
        sys.executable, str(script), way, str(choosing_template), str(tmp_path / "out"),
        cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["answers"] == "green l olives True"
    assert report["questionary"] == ["questionary", True]  # the real module, once asked for
    stand_in = "generator._lazy_prompts.Choice"
    real = "questionary.prompts.common.Choice"
    assert report["choice_class"] == (stand_in if way == "lazy" else real)


def test_plugin_new_without_prompts_imports_neither_questionary_nor_prompt_toolkit(
    tmp_path: Path, git_home: Path, template_snapshot: Path
) -> None:
    argv = [PLUGIN, "new", str(tmp_path / "todo"), "--defaults", "--quiet", "--name", "Todo"]
    result = run(sys.executable, "-X", "importtime", *argv, "--template", str(template_snapshot),
                 cwd=tmp_path)  # fmt: skip
    assert result.returncode == 0, result.stderr
    imported = {line.split("|")[-1].strip() for line in result.stderr.splitlines()}
    assert "copier._main" in imported  # the import log is really there
    assert {
        name for name in imported if name.split(".")[0] in {"questionary", "prompt_toolkit"}
    } == set()
    assert (tmp_path / "todo" / "README.md").is_file()


def test_copier_is_imported_plainly_when_questionary_already_is(tmp_path: Path) -> None:
    code = (
        "import questionary, sys\n"
        "from generator._lazy_prompts import import_copier\n"
        "import_copier()\n"
        "from copier._user_data import Choice\n"
        "print(Choice is questionary.Choice)\n"
    )
    result = run(sys.executable, "-c", code, cwd=tmp_path)
    assert (result.returncode, result.stdout.strip()) == (0, "True"), result.stderr
