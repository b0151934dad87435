"""The schema's migrations (Alembic), run by `Database.migrate`: on every start and by `migrate`.

The Alembic configuration is built here rather than read from alembic.ini, so that the
migrations run from an installed wheel too: the scripts are this package's own files.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from alembic import command
from alembic.config import Config

if TYPE_CHECKING:
    from ..db import Database

DIRECTORY = Path(__file__).resolve().parent


def upgrade(db: Database, revision: str = "head") -> tuple[str | None, str | None]:
    """Bring `db` to `revision` (the newest); returns the revisions before and after (None: none).

    Both are read while the migration lock is held (see env.py), so with several processes
    starting at once only the one that did the work reports a change.
    """
    config = Config()
    # ConfigParser reads % as interpolation; the directory may hold one.
    config.set_main_option("script_location", str(DIRECTORY).replace("%", "%%"))
    config.attributes["database"] = db
    command.upgrade(config, revision)
    return config.attributes["before"], config.attributes["after"]
