"""The schema's migrations (Alembic), run by `Database.migrate`: on every start and by `migrate`.

The Alembic configuration is built here rather than read from alembic.ini, so that the
migrations run from an installed wheel too: the scripts are this package's own files.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

if TYPE_CHECKING:
    from ..db import Database

DIRECTORY = Path(__file__).resolve().parent


@cache
def heads() -> tuple[str, ...]:
    """The newest revision among the scripts (read once per process: they are package files)."""
    return tuple(ScriptDirectory(str(DIRECTORY)).get_heads())


def upgrade(db: Database, revision: str = "head") -> tuple[str | None, str | None]:
    """Bring `db` to `revision` (the newest); returns the revisions before and after (None: none).

    Both are read while the migration lock is held (see env.py), so with several processes
    starting at once only the one that did the work reports a change. A database already at the
    newest revision, as on most starts, is only read: no lock is taken, no writer waited for.
    """
    if revision == "head":
        with db.connect() as conn:
            current = tuple(MigrationContext.configure(conn).get_current_heads())
        if len(current) == 1 and current == heads():
            return current[0], current[0]
    config = Config()
    # ConfigParser reads % as interpolation; the directory may hold one.
    config.set_main_option("script_location", str(DIRECTORY).replace("%", "%%"))
    config.attributes["database"] = db
    command.upgrade(config, revision)
    return config.attributes["before"], config.attributes["after"]
