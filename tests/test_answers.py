"""The questionnaire: copier.yml's questions, defaults, `when` and validators, as in Copier."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import test_new_support as support

from generator.answers import Given, Prompt, Questionnaire
from generator.errors import UsageError
from generator.render import open_template
from generator.template_source import TemplateSource

git_home = support.git_home  # fixture
template_repo = support.template_repo  # fixture


@pytest.fixture
def questionnaire(template_repo: Path) -> Iterator[Questionnaire]:
    with open_template(TemplateSource(str(template_repo))) as opened:
        yield Questionnaire.from_worker(opened.worker())


def given(**answers: Any) -> dict[str, Given]:
    return {key: Given(value, f"--{key}") for key, value in answers.items()}


def test_defaults_are_derived_from_earlier_answers(questionnaire: Questionnaire) -> None:
    answers = questionnaire.resolve(
        given(name="Todo Plus", domain="todo.example.com"), use_defaults=True, ask=None
    )
    assert answers == {
        "name": "Todo Plus",
        "domain": "todo.example.com",
        "auth": "none",
        "mcp": True,
        "model_name": "todo_plus",
        "package_name": "todo_plus",
        "description": "Keep a todo list in ChatGPT: add, list and delete todos.",
        "model_description": (
            "Plugin for managing a todo list. Use it when the user asks to add, list or delete "
            "todos. List the todos before deleting one, and refer to todos by their text, not "
            "by their id."
        ),
        "contact_email": "support@todo.example.com",
        "legal_info_url": "https://todo.example.com/legal",
    }


def test_local_domain_defaults(questionnaire: Questionnaire) -> None:
    answers = questionnaire.resolve(given(name="Todo"), use_defaults=True, ask=None)
    assert answers["domain"] == "localhost:5003"
    assert answers["contact_email"] == "support@example.com"
    assert answers["legal_info_url"] == "http://localhost:5003/legal"


def test_mode_questions_are_recorded_only_for_their_mode(questionnaire: Questionnaire) -> None:
    oauth = questionnaire.resolve(given(name="T", auth="oauth"), use_defaults=True, ask=None)
    user = questionnaire.resolve(given(name="T", auth="user_http"), use_defaults=True, ask=None)
    assert oauth["oauth_scope"] == "todos" and "authorization_type" not in oauth
    assert user["authorization_type"] == "bearer" and "oauth_scope" not in user


def test_derived_values_are_not_answers(questionnaire: Questionnaire) -> None:
    answers = questionnaire.resolve(given(name="T"), use_defaults=True, ask=None)
    assert "is_local" not in answers and "base_url" not in answers
    assert "is_local" not in questionnaire.answerable_keys
    assert questionnaire.answerable_keys[:3] == ["name", "domain", "auth"]


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        ({"name": "A name far longer than twenty"}, "--name: The name has 29 characters"),
        ({"name": " Todo"}, "--name: The name must not start or end with a space."),
        ({"domain": "https://todo.example.com/api"}, 'Type the host without the scheme: "todo'),
        ({"domain": "Todo.Example.com"}, "is not a host name"),
        ({"auth": "password"}, "--auth must be one of none, service_http, user_http, oauth"),
        ({"package_name": "class"}, "would shadow a Python keyword"),
        ({"contact_email": "nobody"}, '"nobody" is not an e-mail address'),
        ({"legal_info_url": "example.com/legal"}, "is not an absolute URL"),
        ({"model_name": "todo plus"}, "The model name must be 1 to 50 letters"),
        ({"auth": "user_http", "authorization_type": "digest"}, "must be one of bearer, basic"),
        ({"auth": "oauth", "oauth_scope": 'todos "all"'}, "The scope must be space-separated"),
    ],
)
def test_bad_answers_get_the_validators_sentence(
    questionnaire: Questionnaire, answers: dict[str, str], expected: str
) -> None:
    with pytest.raises(UsageError) as refused:
        questionnaire.resolve(given(**{"name": "Todo", **answers}), use_defaults=True, ask=None)
    assert expected in refused.value.message
    assert refused.value.exit_code == 2


def test_unknown_key_lists_the_questions(questionnaire: Questionnaire) -> None:
    with pytest.raises(UsageError) as refused:
        questionnaire.resolve(
            {"name": Given("T", "--name"), "colour": Given("red", "--data colour")},
            use_defaults=True,
            ask=None,
        )
    message = refused.value.message
    assert message.startswith("--data colour: unknown question 'colour'")
    assert "name, domain, auth, authorization_type, oauth_scope, mcp, model_name" in message
    assert "is_local" not in message and "base_url" not in message


def test_answer_for_a_question_of_another_mode_is_refused(questionnaire: Questionnaire) -> None:
    with pytest.raises(UsageError) as refused:
        questionnaire.resolve(given(name="T", oauth_scope="todos"), use_defaults=True, ask=None)
    assert refused.value.message == (
        "--oauth_scope does not apply here: oauth_scope is asked only when auth == 'oauth'."
    )


def test_missing_required_answer_names_the_flag(questionnaire: Questionnaire) -> None:
    with pytest.raises(UsageError) as refused:
        questionnaire.resolve({}, use_defaults=True, ask=None)
    assert refused.value.message == (
        "Missing answer for name: pass --name NAME, or run plugin new in a terminal."
    )


def test_a_default_that_the_validator_refuses_is_an_error(questionnaire: Questionnaire) -> None:
    # "Class" makes the model name "class", and so the package name "class": a keyword.
    with pytest.raises(UsageError) as refused:
        questionnaire.resolve(given(name="Class"), use_defaults=True, ask=None)
    assert refused.value.message.startswith("The default package_name ('class') does not fit:")
    assert refused.value.message.endswith("pass --package-name PACKAGE_NAME.")


def test_asker_gets_the_open_questions_in_order(questionnaire: Questionnaire) -> None:
    asked: list[Prompt] = []
    replies = {"domain": "todo.example.com", "auth": "oauth", "oauth_scope": "todos:read"}

    def ask(prompt: Prompt) -> Any:
        asked.append(prompt)
        return replies.get(prompt.key, prompt.default)

    answers = questionnaire.resolve(given(name="Todo Plus"), use_defaults=False, ask=ask)
    assert [p.key for p in asked] == [
        "domain",
        "auth",
        "oauth_scope",
        "mcp",
        "model_name",
        "package_name",
        "description",
        "model_description",
        "contact_email",
        "legal_info_url",
    ]
    by_key = {p.key: p for p in asked}
    assert by_key["contact_email"].default == "support@todo.example.com"
    assert by_key["model_name"].default == "todo_plus"
    assert [c.value for c in by_key["auth"].choices] == [
        "none",
        "service_http",
        "user_http",
        "oauth",
    ]
    assert by_key["auth"].choices[3].label.startswith("oauth: users sign in on your site")
    assert answers["oauth_scope"] == "todos:read"


def test_with_defaults_the_asker_gets_only_questions_without_one(
    questionnaire: Questionnaire,
) -> None:
    asked: list[str] = []

    def ask(prompt: Prompt) -> Any:
        asked.append(prompt.key)
        return "Todo"

    answers = questionnaire.resolve({}, use_defaults=True, ask=ask)
    assert asked == ["name"]
    assert answers["package_name"] == "todo"


def test_prompt_check_uses_the_validator(questionnaire: Questionnaire) -> None:
    prompts: dict[str, Prompt] = {}

    def ask(prompt: Prompt) -> Any:
        prompts[prompt.key] = prompt
        return prompt.default

    questionnaire.resolve(given(name="Todo"), use_defaults=False, ask=ask)
    domain = prompts["domain"]
    assert domain.check("todo.example.com") is None
    assert domain.check("todo example") == (
        "The domain must not contain spaces: type a host such as todo.example.com."
    )
    assert prompts["auth"].check("nope") is not None
