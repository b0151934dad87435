"""The data survives the upgrade: a real database file made by a project of commit 19ed184 (its
own create-user command and its own application wrote the rows) is adopted by today's template
after `plugin update`, with every row intact, and today's application serves those rows.

The old project's commands run in subprocesses with its own code; the migration runs as the
updated project's `migrate` command, as an owner would run it (the server does the same on start).
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from helpers.upgrade import PACKAGE, old_project, todays_template
from typer.testing import CliRunner

from generator.cli import app

# Run in the project (old or updated) with its own code: adds todos through its application,
# deletes the first (so that ids have a gap), and prints the headers and the todos it listed.
USE_THE_APP = """
import json, sys
from fastapi.testclient import TestClient
from todo_plus.app import create_app
from todo_plus.settings import Settings

auth, key, texts = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
settings = Settings()
application = create_app(settings)
with TestClient(application) as client:
    if auth == "oauth" and not key:
        from todo_plus import oauth
        key = oauth.issue_token_for_tests(application.state.db, settings, "alice")
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    added = [client.post("/todos", json={"todo": text}, headers=headers) for text in texts]
    assert all(answer.status_code == 201 for answer in added), [a.text for a in added]
    if added and len(texts) > 1:
        first = added[0].json()["id"]
        assert client.delete(f"/todos/{first}", headers=headers).status_code == 200
    listed = client.get("/todos", headers=headers)
    assert listed.status_code == 200, listed.text
print(json.dumps({"key": key, "todos": listed.json()["todos"]}))
"""


def run(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """A command of the project's own code, in the project, with its default database file."""
    plugin_settings = {"BASE_URL", "HOST", "PORT", "DATABASE_PATH", "DATABASE_URL"}
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in plugin_settings | {"SERVICE_TOKEN", "SECRET_KEY"}
        and not key.startswith("OAUTH_")
    }
    env.update(PYTHONPATH=str(project / "src"), PYTHONDONTWRITEBYTECODE="1")
    return subprocess.run(
        [sys.executable, *args], cwd=project, env=env, capture_output=True, text=True, timeout=120
    )


def rows(database: Path) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table of the SQLite file (and SQLite's own sequence of ids)."""
    conn = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        tables = [
            name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        ]
        return {
            table: conn.execute(f'SELECT * FROM "{table}" ORDER BY rowid').fetchall()
            for table in tables
        }
    finally:
        conn.close()


@pytest.mark.parametrize("auth", ["none", "user_http", "oauth"])
def test_a_19ed184_database_keeps_every_row_through_the_update(
    tmp_path: Path, git_home: Path, auth: str
) -> None:
    origin, project = old_project(tmp_path, auth)
    key = ""
    if auth == "user_http":
        created = run(project, "-m", PACKAGE, "create-user", "alice")
        assert created.returncode == 0, created.stderr
        key = created.stdout.strip().splitlines()[-1]
    elif auth == "oauth":
        for name in ("alice", "bob"):
            created = run(project, "-m", PACKAGE, "create-user", name, "--password", "a password")
            assert created.returncode == 0, created.stderr
    texts = ["gone", "buy milk", 'Tom\'s "ünï" 😀']
    used = run(project, "-c", USE_THE_APP, auth, key, json.dumps(texts))
    assert used.returncode == 0, used.stderr
    before_use = json.loads(used.stdout)
    assert [todo["todo"] for todo in before_use["todos"]] == texts[1:]
    database = project / "data" / "plugin.db"
    before = rows(database)
    assert before["todos"] and "alembic_version" not in before
    todays_template(origin)

    updated = CliRunner().invoke(app, ["update", str(project), "--defaults"])
    assert updated.exit_code == 0, updated.output
    migrated = run(project, "-m", PACKAGE, "migrate")

    assert migrated.returncode == 0, migrated.stderr
    head = re.search(r"from no revision to (\w+)\.", migrated.stdout)
    assert head is not None, migrated.stdout
    after = rows(database)
    # Every table and row that was there is there, unchanged; only new tables were added.
    # SQLite's sequence of ids may gain the tables that got AUTOINCREMENT, and keeps the rest.
    sequence = "sqlite_sequence"
    assert {table: after[table] for table in before if table != sequence} == {
        table: rows for table, rows in before.items() if table != sequence
    }
    assert set(before[sequence]) <= set(after[sequence])
    assert after["alembic_version"] == [(head[1],)]
    if auth == "oauth":
        assert {"oauth_grants", "oauth_clients"} <= set(after) - set(before)
    # Today's application serves the old rows with the old credentials, and adds after them.
    used = run(project, "-c", USE_THE_APP, auth, before_use["key"], json.dumps(["new"]))
    assert used.returncode == 0, used.stderr
    todos = json.loads(used.stdout)["todos"]
    assert todos[:-1] == before_use["todos"]
    assert todos[-1]["todo"] == "new"
    assert todos[-1]["id"] > max(todo["id"] for todo in before_use["todos"])
