"""The template's questions and their answers, checked with copier.yml's own rules.

copier.yml is the one source of truth. Its questions, their order, `when` conditions, defaults
and validators are evaluated here with Copier's own `Question` class in the Jinja environment
Copier builds for the template, so an answer refused here is refused by `copier copy`, and a
default offered here is the one `copier copy --defaults` would take. Copier's classes are reached
through generator._copier only.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from generator import _copier
from generator.errors import UsageError

if TYPE_CHECKING:
    from generator._copier import AnswersMap, Question, Worker


def data_hint(key: str) -> str:
    """How to answer the question `key` with --data, e.g. "--data name=VALUE"."""
    return f"--data {key}=VALUE"


@dataclass(frozen=True)
class Given:
    """An answer supplied before any prompt, and where it came from (named in error messages)."""

    value: Any
    origin: str


@dataclass(frozen=True)
class Choice:
    """One entry of a choice question: the label shown and the value recorded."""

    label: str
    value: Any


@dataclass(frozen=True)
class Prompt:
    """Everything the wizard needs to ask one question."""

    key: str
    message: str
    type_name: str
    choices: tuple[Choice, ...]
    default: Any
    placeholder: str
    check: Callable[[Any], str | None]
    parse: Callable[[Any], Any]


#: Asks one question and returns the (already checked) answer.
Asker = Callable[[Prompt], Any]


@dataclass(frozen=True)
class Resolved:
    """The outcome of the questionnaire: what Copier records, and what copier.yml derived."""

    #: The answers Copier should record (and be given): no derived value, no unasked question.
    answers: dict[str, Any]
    #: The derived values (`when: false` questions, e.g. `port`, `base_url`), as Copier computes
    #: them for these answers; read them instead of deriving them again.
    derived: dict[str, Any]


class Questionnaire:
    """The questions of one template, asked in copier.yml's order with Copier's Jinja rules."""

    def __init__(
        self,
        questions: Mapping[str, dict[str, Any]],
        jinja_env: Any,
        settings: Any,
        *,
        hint: Callable[[str], str] = data_hint,
        normalize: Mapping[str, Callable[[Any], Any]] | None = None,
    ) -> None:
        self._questions = dict(questions)
        self._jinja_env = jinja_env
        self._settings = settings
        self._hint = hint
        self._normalize = dict(normalize or {})

    @classmethod
    def from_worker(
        cls,
        worker: Worker,
        *,
        hint: Callable[[str], str] = data_hint,
        normalize: Mapping[str, Callable[[Any], Any]] | None = None,
    ) -> Questionnaire:
        """The questions of the template a Copier worker renders, with that worker's settings.

        `hint(key)` says in error messages how to answer a question, e.g. "--name NAME".
        `normalize[key]` rewrites an answer (given or typed) before it is checked, e.g. a host
        in capitals into lowercase; the result is what is checked and recorded.
        """
        return cls(
            _copier.questions_of(worker),
            _copier.jinja_env_of(worker),
            _copier.settings_of(worker),
            hint=hint,
            normalize=normalize,
        )

    @property
    def derived_keys(self) -> list[str]:
        """Keys of the derived values (`when: false`), which nobody may answer."""
        return [key for key in self._questions if self._is_derived(key)]

    @property
    def answerable_keys(self) -> list[str]:
        """Keys a user may answer: every question except the derived ones (`when: false`)."""
        return [key for key in self._questions if not self._is_derived(key)]

    def resolve(
        self,
        given: Mapping[str, Given],
        *,
        use_defaults: bool,
        ask: Asker | None,
        answered: Callable[[str, Mapping[str, Any]], None] | None = None,
    ) -> Resolved:
        """Answer every question, in order; return the answers to record and the derived values.

        A given answer is checked and used; otherwise `ask` is called when there is one (the
        wizard), or the default is taken when `use_defaults` is set. A question that is not
        asked for these answers (its `when` is false) must not be given. Every given answer is
        checked before the first question is asked (`precheck`). `answered(key, answers)` is
        called after each question is answered, with the answers so far; what it raises ends
        the questionnaire there.
        """
        self.precheck(given)
        answers = _copier.new_answers()
        for key in self._questions:
            question = self._question(key, answers)
            if not question.get_when():
                answers.hide(key)
                if key in given:
                    raise UsageError(self._not_asked_message(key, given[key].origin))
                default = self._default(key, answers)
                if default is not _NO_DEFAULT:
                    answers.user[key] = default
                continue
            if key in given:
                answers.user[key] = self._checked(question, given[key].value, given[key].origin)
            elif ask is not None and not (use_defaults and self._has_valid_default(key, answers)):
                reply = ask(self._prompt(question, answers))
                answers.user[key] = self._checked(question, reply, f"The answer to {key}")
            else:
                answers.user[key] = self._default_or_fail(question, answers)
            if answered is not None:
                answered(key, dict(answers.user))
        derived = set(self.derived_keys)
        return Resolved(
            answers={k: v for k, v in answers.user.items() if k not in answers.hidden},
            derived={k: v for k, v in answers.user.items() if k in derived},
        )

    def precheck(self, given: Mapping[str, Given]) -> None:
        """Refuse a wrong given answer before anything is asked, as `resolve` would later.

        Each given answer is parsed and validated in question order, with the given answers
        before it as context. A check whose `when` condition or validator reads an answer that
        was not given waits for `resolve`, where that answer is known.
        """
        self._refuse_unknown(given)
        answers = _copier.new_answers()
        known = set(given)
        for key in self._questions:
            if key not in given or self._is_derived(key):
                continue
            details = self._questions[key]
            if not self._reads_only(details.get("when", True), known):
                continue
            question = self._question(key, answers, validate=False)
            if not question.get_when():
                raise UsageError(self._not_asked_message(key, given[key].origin))
            if not self._reads_only(details.get("validator", ""), known | {key}):
                continue
            question = self._question(key, answers)
            answers.user[key] = self._checked(question, given[key].value, given[key].origin)

    def _reads_only(self, source: Any, names: set[str]) -> bool:
        """True when the Jinja text `source` reads no answer outside `names`."""
        if not isinstance(source, str) or "{" not in source:
            return True
        from jinja2 import meta

        try:
            read = meta.find_undeclared_variables(self._jinja_env.parse(source))
        except Exception:  # noqa: BLE001 - a template that does not parse is checked later
            return False
        return {name for name in read if name in self._questions} <= names

    # -- one question ---------------------------------------------------------------------------

    def _question(self, key: str, answers: AnswersMap, *, validate: bool = True) -> Question:
        details = dict(self._questions[key])
        if not validate:
            details["validator"] = ""
        return _copier.question(key, details, answers, self._jinja_env, self._settings)

    def _default(self, key: str, answers: AnswersMap) -> Any:
        """The default Copier would offer, not yet validated; _NO_DEFAULT when there is none."""
        value = self._question(key, answers, validate=False).get_default()
        return _NO_DEFAULT if _copier.is_missing(value) else value

    def _has_valid_default(self, key: str, answers: AnswersMap) -> bool:
        default = self._default(key, answers)
        if default is _NO_DEFAULT:
            return False
        return validation_message(self._question(key, answers), default) is None

    def _default_or_fail(self, question: Question, answers: AnswersMap) -> Any:
        key = question.var_name
        default = self._default(key, answers)
        if default is _NO_DEFAULT:
            raise UsageError(
                f"Missing answer for {key}: pass {self._hint(key)}, "
                "or run plugin new in a terminal."
            )
        message = validation_message(question, default)
        if message is not None:
            raise UsageError(
                f"The default {key} ({default!r}) does not fit: {_unsentence(message)}; "
                f"pass {self._hint(key)}."
            )
        return default

    def _checked(self, question: Question, value: Any, origin: str) -> Any:
        """`value` parsed as Copier parses it; UsageError naming `origin` when it is refused."""
        value = self._normalized(question.var_name, value)
        try:
            parsed = question.parse_answer(value)
        except Exception:  # noqa: BLE001 - Copier raises several types for a wrong type or choice
            raise UsageError(_parse_error(question, value, origin)) from None
        message = validation_message(question, parsed)
        if message is not None:
            raise UsageError(f"{origin}: {message}")
        return parsed

    def _prompt(self, question: Question, answers: AnswersMap) -> Prompt:
        default = self._default(question.var_name, answers)
        if default is not _NO_DEFAULT and validation_message(question, default) is not None:
            default = _NO_DEFAULT  # a default that would be refused is not offered
        choices = tuple(
            Choice(label=label, value=value) for label, value in _copier.choices_of(question)
        )

        def check(raw: Any) -> str | None:
            try:
                parsed = question.parse_answer(self._normalized(question.var_name, raw))
            except Exception:  # noqa: BLE001 - same as _checked
                return _parse_error(question, raw, "This answer")
            return validation_message(question, parsed)

        return Prompt(
            key=question.var_name,
            message=_help_line(question),
            type_name=question.get_type_name(),
            choices=choices,
            default=None if default is _NO_DEFAULT else default,
            placeholder=question.get_placeholder(),
            check=check,
            parse=lambda raw: question.parse_answer(self._normalized(question.var_name, raw)),
        )

    def _normalized(self, key: str, value: Any) -> Any:
        rewrite = self._normalize.get(key)
        return value if rewrite is None else rewrite(value)

    # -- errors ---------------------------------------------------------------------------------

    def _is_derived(self, key: str) -> bool:
        when = self._questions[key].get("when", True)
        if isinstance(when, str) and "{" not in when:
            return when.strip().lower() in {"false", "no", "off", "0", "n", "f", ""}
        return when is False

    def _refuse_unknown(self, given: Mapping[str, Given]) -> None:
        valid = self.answerable_keys
        for key, answer in given.items():
            if key in self._questions and self._is_derived(key):
                raise UsageError(f"{answer.origin}: {self._derived_refusal(key)}")
            if key not in valid:
                raise UsageError(
                    f"{answer.origin}: unknown question {key!r}; the questions are "
                    f"{', '.join(valid)}."
                )

    def _derived_refusal(self, key: str) -> str:
        """copier.yml's own refusal of an answer for a derived value (its validator's text)."""
        message = validation_message(self._question(key, _copier.new_answers()), None)
        return message or f"{key} is derived from other answers and cannot be given."

    def _not_asked_message(self, key: str, origin: str) -> str:
        condition = str(self._questions[key].get("when", "")).strip()
        condition = condition.removeprefix("{{").removesuffix("}}").strip()
        return f"{origin} does not apply here: {key} is asked only when {condition}."


class _NoDefault:
    """Marks a question without a default (a real default may be None)."""


_NO_DEFAULT: Any = _NoDefault()


def validation_message(question: Question, answer: Any) -> str | None:
    """The message copier.yml's validator gives for `answer`, or None when it accepts it.

    Rendered exactly as Copier's `Question.validate_answer` renders it, so the verdict is Copier's.
    """
    if not question.validator:
        return None
    try:
        message = question.render_value(question.validator, {question.var_name: answer}).strip()
    except Exception as error:  # noqa: BLE001 - a failing validator refuses, as in Copier
        message = str(error)
    return message or None


def _help_line(question: Question) -> str:
    message = question.get_message().strip()
    return message or question.var_name


def _parse_error(question: Question, value: Any, origin: str) -> str:
    choices = [str(choice) for _, choice in _copier.choices_of(question)]
    if choices:
        return f"{origin} must be one of {', '.join(choices)}, not {value!r}."
    return f"{origin}: {value!r} is not a valid {question.get_type_name()}."


def _unsentence(message: str) -> str:
    """A validator's sentence made into a clause, to fit inside another sentence."""
    message = message.rstrip(".")
    return message[:1].lower() + message[1:]
