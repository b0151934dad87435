"""The throwaway PostgreSQL server of the tests does what the database tests rely on."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest
from helpers.postgres import INSTALL_HINT, PostgresNotInstalled, PostgresServer, find_bin_dir


def test_it_serves_a_fresh_database_on_loopback_as_an_unprivileged_user(
    postgres: PostgresServer,
) -> None:
    name = postgres.create_database()

    assert postgres.psql("SELECT current_database()", name).strip() == name
    assert postgres.psql("SHOW listen_addresses").strip() == "127.0.0.1"
    postmaster = int((postgres.data_dir / "postmaster.pid").read_text().split()[0])
    uid = Path(f"/proc/{postmaster}").stat().st_uid
    assert uid != 0 if os.geteuid() == 0 else uid == os.geteuid()
    with socket.create_connection(("127.0.0.1", postgres.port), timeout=5):
        pass
    assert postgres.url(name) == f"postgresql://postgres@127.0.0.1:{postgres.port}/{name}"


def test_a_restart_keeps_every_committed_row_and_the_port(postgres: PostgresServer) -> None:
    name = postgres.create_database()
    postgres.psql("CREATE TABLE t (n integer); INSERT INTO t SELECT generate_series(1, 100)", name)
    port = postgres.port

    postgres.restart()

    assert postgres.port == port
    assert postgres.psql("SELECT count(*) FROM t", name).strip() == "100"


def test_a_crash_keeps_every_acknowledged_commit(postgres: PostgresServer) -> None:
    name = postgres.create_database()
    postgres.psql("CREATE TABLE t (n integer); INSERT INTO t VALUES (1), (2), (3)", name)

    postgres.stop("immediate")  # no shutdown checkpoint: recovery replays the WAL
    postgres.start()

    assert postgres.psql("SELECT sum(n) FROM t", name).strip() == "6"


def test_without_postgresql_the_error_says_what_to_install(tmp_path: Path) -> None:
    with pytest.raises(PostgresNotInstalled) as raised:
        find_bin_dir(path=str(tmp_path), versions_pattern=str(tmp_path / "*" / "bin"))

    assert str(raised.value) == INSTALL_HINT
    assert "postgresql" in INSTALL_HINT


def test_destroy_removes_the_cluster() -> None:
    server = PostgresServer()
    server.start()
    root = server.root

    server.destroy()

    assert not server.is_running()
    assert not root.exists()
