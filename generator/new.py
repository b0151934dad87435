"""`plugin new`."""

from __future__ import annotations

from generator.errors import UserError


def new() -> None:
    """Not built yet."""
    raise UserError("plugin new is not built yet.")
