"""`plugin update`."""

from __future__ import annotations

from generator.errors import UserError


def update() -> None:
    """Not built yet."""
    raise UserError("plugin update is not built yet.")
