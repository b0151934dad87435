"""Errors meant for the person at the terminal.

    UserError            one readable sentence, exit code 1 (or the code given)
    ├── UsageError       a wrong flag or answer, exit code 2
    └── Interrupted      Ctrl-C, exit code 130

Anything else that escapes a command is a bug and keeps its traceback.
"""

from __future__ import annotations


class UserError(Exception):
    """A problem the user can fix; its message is one sentence shown without a traceback."""

    exit_code: int = 1

    def __init__(self, message: str, exit_code: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        if exit_code is not None:
            self.exit_code = exit_code


class UsageError(UserError):
    """A wrong flag, a missing answer or an invalid value."""

    exit_code = 2


class Interrupted(UserError):
    """The user pressed Ctrl-C; nothing was written."""

    exit_code = 130
