"""Import Copier without importing questionary and prompt_toolkit until a prompt needs them.

Copier's modules import four names from questionary and prompt_toolkit as they load (`confirm`,
`unsafe_prompt`, `Choice`, `PygmentsLexer`), and those two libraries are about a quarter of
what `plugin new` imports. Copier needs them only to prompt; `plugin new` asks its own questions
(generator.wizard imports questionary itself when there is a terminal to ask on).

`import_copier()` imports Copier while stand-in modules answer for those four names:

- `confirm`, `unsafe_prompt` and `PygmentsLexer` become functions that import the real module
  on their first call and do what the real name does;
- `Choice` becomes `Choice` below, which holds what questionary's `Choice` holds (Copier builds
  choices to check answers against them, without prompting). The stand-in `unsafe_prompt`
  turns them into questionary's own before a prompt is shown.

So Copier behaves and prompts as before. The stand-in modules are in `sys.modules` only while
Copier is being imported: every later `import questionary`, here or in any library, gets the
real one. If questionary or prompt_toolkit is already imported, or if this Copier imports a
name not listed here, Copier is imported the ordinary way.
"""

from __future__ import annotations

import importlib
import sys
import types
from collections.abc import Callable
from typing import Any

#: The libraries whose import is deferred; `_stand_ins` lists the names Copier takes from them.
DEFERRED_ROOTS = ("questionary", "prompt_toolkit")


class Choice:
    """What questionary's `Choice(title, value, disabled, checked, shortcut_key, description)`
    holds, without importing questionary; `real()` makes questionary's own."""

    def __init__(
        self,
        title: Any,
        value: Any = None,
        disabled: str | None = None,
        checked: bool | None = False,
        shortcut_key: str | bool | None = True,
        description: str | None = None,
    ) -> None:
        self.title = title
        self.disabled = disabled
        self.checked = checked if checked is not None else False
        self.shortcut_key = shortcut_key
        self.description = description
        # As questionary does: a choice given no value has its title's text as value.
        if value is not None:
            self.value = value
        elif isinstance(title, list):
            self.value = "".join(text for _style, text, *_rest in title)
        else:
            self.value = title

    def real(self) -> Any:
        """questionary's `Choice` with the same attributes as this one has now."""
        from questionary import Choice as QuestionaryChoice

        return QuestionaryChoice(
            self.title,
            self.value,
            disabled=self.disabled,
            checked=self.checked,
            shortcut_key=self.shortcut_key,
            description=self.description,
        )


def import_copier() -> None:
    """Import Copier (once), deferring questionary and prompt_toolkit when they are not loaded."""
    if "copier._main" in sys.modules:
        return
    if any(root in sys.modules for root in DEFERRED_ROOTS):
        importlib.import_module("copier")
        return
    stand_ins = _stand_in_modules()
    sys.modules.update(stand_ins)
    try:
        importlib.import_module("copier")
    except ImportError:
        # A name not listed in _stand_ins: forget the half-imported Copier, import it plainly.
        _remove(stand_ins)
        for name in [m for m in sys.modules if m == "copier" or m.startswith("copier.")]:
            del sys.modules[name]
        importlib.import_module("copier")
    finally:
        _remove(stand_ins)


def _remove(stand_ins: dict[str, types.ModuleType]) -> None:
    for name, module in stand_ins.items():
        if sys.modules.get(name) is module:
            del sys.modules[name]


def _stand_ins() -> dict[str, dict[str, Any]]:
    """The names Copier imports, by the module it imports them from, each with its stand-in."""
    return {
        "questionary": {
            "confirm": _deferred("questionary", "confirm"),
            "unsafe_prompt": _unsafe_prompt,
        },
        "questionary.prompts.common": {"Choice": Choice},
        "prompt_toolkit.lexers": {
            "PygmentsLexer": _deferred("prompt_toolkit.lexers", "PygmentsLexer")
        },
    }


def _stand_in_modules() -> dict[str, types.ModuleType]:
    """A module for each entry of `_stand_ins` and each package above it, holding the stand-ins."""
    modules: dict[str, types.ModuleType] = {}
    for module_name, attributes in _stand_ins().items():
        parts = module_name.split(".")
        for depth in range(1, len(parts) + 1):
            package = ".".join(parts[:depth])
            if package not in modules:
                stand_in = types.ModuleType(package, "Stands in while Copier is imported.")
                stand_in.__dict__["__path__"] = []  # a package: its submodules can be imported
                modules[package] = stand_in
        modules[module_name].__dict__.update(attributes)
    return modules


def _deferred(module_name: str, name: str) -> Callable[..., Any]:
    """A function that imports `module_name` when first called and calls its `name`."""

    def call(*args: Any, **kwargs: Any) -> Any:
        return getattr(importlib.import_module(module_name), name)(*args, **kwargs)

    call.__name__ = call.__qualname__ = name
    call.__doc__ = f"{module_name}.{name}, imported when first called."
    return call


def _unsafe_prompt(questions: Any, *args: Any, **kwargs: Any) -> Any:
    """questionary's `unsafe_prompt`, after turning the stand-in choices into questionary's."""
    from questionary import unsafe_prompt

    made: dict[int, Any] = {}  # one real choice per stand-in: a default stays one of the choices

    def real(value: Any) -> Any:
        if isinstance(value, Choice):
            return made.setdefault(id(value), value.real())
        if isinstance(value, list | tuple):
            return type(value)(real(item) for item in value)
        return value

    if isinstance(questions, dict):
        questions = [questions]
    converted = [{key: real(value) for key, value in question.items()} for question in questions]
    return unsafe_prompt(converted, *args, **kwargs)
