"""`plugin check`."""

from __future__ import annotations

from generator.errors import UserError


def check() -> None:
    """Not built yet."""
    raise UserError("plugin check is not built yet.")
