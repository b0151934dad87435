"""The wizard: questionary prompts fed keystrokes, in-process and in a real pseudo-terminal."""

from __future__ import annotations

import io
import os
import re
from pathlib import Path

import pexpect
import pytest
from helpers.commands import PLUGIN
from helpers.repos import git
from helpers.trees import leftovers
from prompt_toolkit.application import create_app_session
from prompt_toolkit.data_structures import Size
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output.vt100 import Vt100_Output

from generator.answers import Questionnaire
from generator.wizard import make_asker

ENTER = "\r"
DOWN = "\x1b[B"
CLEAR_LINE = "\x15"  # Ctrl-U: the text fields start filled with their default
CTRL_C = "\x03"


def run_wizard(questionnaire: Questionnaire, keys: str) -> tuple[dict[str, object], str]:
    """Answer the wizard with `keys` typed ahead; return the answers and what was shown."""
    screen = io.StringIO()
    output = Vt100_Output(screen, lambda: Size(rows=40, columns=160), term="xterm")
    with create_pipe_input() as typed, create_app_session(input=typed, output=output):
        typed.send_text(keys)
        answers = questionnaire.resolve({}, use_defaults=False, ask=make_asker()).answers
    return answers, screen.getvalue()


def test_every_prompt_answered_with_a_wrong_name_corrected(questionnaire: Questionnaire) -> None:
    keys = (
        "A name far longer than twenty" + ENTER  # refused: stays on the prompt
        + CLEAR_LINE + "Todo Plus" + ENTER
        + CLEAR_LINE + "todo.example.com" + ENTER
        + DOWN + DOWN + ENTER  # auth: none -> service_http -> user_http
        + DOWN + ENTER  # authorization_type: basic
        + ENTER  # mcp: yes, the default
        + CLEAR_LINE + "todo_plus_v2" + ENTER  # model_name
        + ENTER  # package_name: its default follows the model name
        + CLEAR_LINE + "Todos, from ChatGPT." + ENTER
        + ENTER  # model_description
        + CLEAR_LINE + "help@todo.example.com" + ENTER
        + ENTER  # legal_info_url
    )  # fmt: skip
    answers, screen = run_wizard(questionnaire, keys)
    assert answers == {
        "name": "Todo Plus",
        "domain": "todo.example.com",
        "auth": "user_http",
        "authorization_type": "basic",
        "mcp": True,
        "model_name": "todo_plus_v2",
        "package_name": "todo_plus_v2",
        "description": "Todos, from ChatGPT.",
        "model_description": (
            "Plugin for managing a todo list. Use it when the user asks to add, list or delete "
            "todos. List the todos before deleting one, and refer to todos by their text, not "
            "by their id."
        ),
        "contact_email": "help@todo.example.com",
        "legal_info_url": "https://todo.example.com/legal",
    }
    # The refused name was never accepted: the name prompt closed on the corrected one.
    shown = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", screen)
    assert "(name_for_human, at most 20 characters) (e.g. Todo Plus) Todo Plus\r\n" in shown
    assert "A name far longer than twenty" not in shown


def test_defaults_derive_from_earlier_answers(questionnaire: Questionnaire) -> None:
    keys = "Todo Plus" + ENTER + CLEAR_LINE + "todo.example.com" + ENTER + ENTER * 9
    answers, _ = run_wizard(questionnaire, keys)
    assert answers["auth"] == "none"
    assert answers["model_name"] == "todo_plus"
    assert answers["contact_email"] == "support@todo.example.com"
    assert answers["legal_info_url"] == "https://todo.example.com/legal"


def test_wrong_domain_is_asked_again(questionnaire: Questionnaire) -> None:
    keys = (
        "Todo" + ENTER
        + CLEAR_LINE + "https://todo.example.com" + ENTER
        + CLEAR_LINE + "todo.example.com" + ENTER
        + ENTER * 9
    )  # fmt: skip
    answers, _ = run_wizard(questionnaire, keys)
    assert answers["domain"] == "todo.example.com"


def test_ctrl_c_at_a_prompt_raises_keyboard_interrupt(questionnaire: Questionnaire) -> None:
    with pytest.raises(KeyboardInterrupt):
        run_wizard(questionnaire, "Todo" + ENTER + ENTER + CTRL_C)


# -- the whole command in a pseudo-terminal -------------------------------------------------------


def spawn_plugin(*args: str, cwd: Path) -> pexpect.spawn:
    child = pexpect.spawn(
        PLUGIN,
        list(args),
        cwd=str(cwd),
        env={**os.environ, "TERM": "xterm", "COLUMNS": "160", "LINES": "40"},
        encoding="utf-8",
        timeout=60,
        dimensions=(40, 160),
    )
    return child


def test_terminal_session_creates_the_project(tmp_path: Path, template_repo: Path) -> None:
    child = spawn_plugin("new", "--template", str(template_repo), "--auth", "none", cwd=tmp_path)
    child.expect("name_for_human")
    child.send("Way too long for a plugin name" + ENTER)
    child.expect("The name has 30 characters; ChatGPT allows at most 20.")
    child.send(CLEAR_LINE + "Terminal Todo" + ENTER)
    child.expect("Host")
    child.send(CLEAR_LINE + "https://todo.example.com" + ENTER)
    child.expect('Type the host without the scheme: "todo.example.com"')
    child.send(CLEAR_LINE + "todo.example.com" + ENTER)
    for _ in range(7):  # mcp, model_name .. legal_info_url: accept the defaults
        child.expect(r"\?")
        child.send(ENTER)
    child.expect("Next steps")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    project = tmp_path / "terminal-todo"
    answers = (project / ".copier-answers.yml").read_text()
    assert "name: Terminal Todo" in answers and "auth: none" in answers
    assert "contact_email: support@todo.example.com" in answers
    assert (project / "src" / "terminal_todo").is_dir()
    assert git(project, "status", "--porcelain") == ""


def test_ctrl_c_in_a_terminal_exits_130_and_writes_nothing(
    tmp_path: Path, template_repo: Path
) -> None:
    child = spawn_plugin("new", "--template", str(template_repo), "project", cwd=tmp_path)
    child.expect("name_for_human")
    child.send("Todo" + ENTER)
    child.expect("Host")
    child.send(ENTER)
    child.expect("How ChatGPT authenticates")
    child.expect("oauth: users sign in on your site")
    child.sendintr()
    child.expect("Interrupted: nothing was written.")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 130
    assert not (tmp_path / "project").exists()
    assert leftovers(tmp_path) == []


def test_the_names_example_is_words_on_the_question_line_not_a_default(
    questionnaire: Questionnaire,
) -> None:
    """The example name is said as "(e.g. Todo Plus)", visible without colours; the input
    starts empty, so Enter is refused and the example is never taken as an answer."""
    keys = ENTER + "Todo" + ENTER + CLEAR_LINE + "todo.example.com" + ENTER + ENTER * 9
    answers, screen = run_wizard(questionnaire, keys)
    shown = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", screen)
    assert "at most 20 characters) (e.g. Todo Plus) " in shown
    assert answers["name"] == "Todo"
    # nothing drawn as text in the input besides what was typed
    assert "characters) (e.g. Todo Plus) Todo Plus" not in shown


def test_a_wrong_flag_is_refused_before_the_first_prompt(tmp_path: Path) -> None:
    child = spawn_plugin("new", "--name", "X", "--auth", "bogus", cwd=tmp_path)
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 2
    assert "--auth must be one of none, service_http, user_http, oauth, not 'bogus'." in (
        child.before
    )
    assert "Host" not in child.before, "nothing may be asked before the flags are checked"
    assert leftovers(tmp_path) == []


def test_a_flag_for_a_question_the_given_mode_does_not_ask_is_refused_at_once(
    tmp_path: Path,
) -> None:
    child = spawn_plugin("new", "--auth", "none", "--oauth-scope", "todos", cwd=tmp_path)
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 2
    assert "--oauth-scope does not apply here" in child.before
    assert "name_for_human" not in child.before


def test_a_taken_default_destination_is_refused_right_after_the_name(
    tmp_path: Path, template_repo: Path
) -> None:
    (tmp_path / "todo-plus").mkdir()
    (tmp_path / "todo-plus" / "notes.txt").write_text("mine\n")
    child = spawn_plugin("new", "--template", str(template_repo), cwd=tmp_path)
    child.expect("name_for_human")
    child.send("Todo Plus" + ENTER)
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 2
    assert "todo-plus is not empty: choose another directory" in child.before
    assert "Host" not in child.before, "the next question must not be asked"
    assert (tmp_path / "todo-plus" / "notes.txt").read_text() == "mine\n"
