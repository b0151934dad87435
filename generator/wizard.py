"""The interactive wizard: questionary prompts for the questions the flags left open.

Only used on a terminal. questionary (and prompt_toolkit) are imported here, when the first
question is asked, so `plugin --help` and scripted runs never load them.
"""

from __future__ import annotations

import sys
from typing import Any

from generator.answers import Asker, Prompt


def is_terminal() -> bool:
    """True when a person can answer prompts: both stdin and stdout are terminals."""
    return sys.stdin.isatty() and sys.stdout.isatty()


def make_asker() -> Asker:
    """An Asker that prompts with questionary, re-asking a refused answer with its reason.

    Ctrl-C (or end of input) at any prompt raises KeyboardInterrupt.
    """
    import questionary

    def ask(prompt: Prompt) -> Any:
        question = _build(questionary, prompt)
        try:
            answer = question.unsafe_ask()
        except EOFError:
            raise KeyboardInterrupt from None
        return prompt.parse(answer)

    return ask


def _build(questionary: Any, prompt: Prompt) -> Any:
    if prompt.choices:
        choices = [questionary.Choice(title=c.label, value=c.value) for c in prompt.choices]
        default = next((c for c in choices if c.value == prompt.default), None)
        return questionary.select(
            prompt.message, choices=choices, default=default, instruction="(arrow keys, Enter)"
        )
    if prompt.type_name == "bool":
        return questionary.confirm(prompt.message, default=bool(prompt.default))
    default = "" if prompt.default is None else str(prompt.default)
    message = prompt.message
    if prompt.placeholder and not default:
        # An example, not a default: said in words on the question line, never drawn in the
        # input (grey text there looks like a default, and is the same text under NO_COLOR).
        message = f"{message} (e.g. {prompt.placeholder})"
    return questionary.text(
        message,
        default=default,
        validate=lambda raw: prompt.check(raw) or True,
    )
