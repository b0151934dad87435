"""A throwaway PostgreSQL server for the tests: its own cluster in a temporary directory.

The cluster is made with `initdb` and run with `pg_ctl`, the binaries of Debian's `postgresql`
package (found on PATH or in /usr/lib/postgresql/*/bin). It listens on 127.0.0.1 on a free port
and on a socket in its own directory, trusts every connection on loopback (it holds nothing
but test data and lives only as long as the test session), and runs as an unprivileged user
when the tests run as root, since PostgreSQL refuses to run as root.

For speed it does not fsync: a crash of this machine would lose the cluster, which is thrown
away anyway. Commits stay synchronous (each acknowledged commit is in the WAL before the client
hears of it), so a server stopped or killed in a test keeps every commit it acknowledged.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

INSTALL_HINT = (
    "PostgreSQL is not installed: install Debian's postgresql package "
    "(apt-get install postgresql; .ci/run does) to run the tests that need it."
)
BINARIES = ("initdb", "pg_ctl", "postgres", "psql")
UNPRIVILEGED_USER = "nobody"
SUPERUSER = "postgres"
LOOPBACK = "127.0.0.1"
# postgresql.conf lines appended to initdb's defaults.
SETTINGS = {
    "listen_addresses": f"'{LOOPBACK}'",
    "max_connections": "200",
    "shared_buffers": "32MB",
    "fsync": "off",
    "full_page_writes": "off",
    "synchronous_commit": "on",
    "log_min_messages": "warning",
    "log_connections": "off",
}
# Trust on loopback only: the cluster is for this test session and nobody else.
PG_HBA = f"""\
# TYPE  DATABASE  USER  ADDRESS          METHOD
local   all       all                    trust
host    all       all   {LOOPBACK}/32    trust
"""
_DATABASE_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")


class PostgresNotInstalled(RuntimeError):
    """initdb, pg_ctl, postgres or psql is missing; the message says what to install."""


def find_bin_dir(
    path: str | None = None, versions_pattern: str = "/usr/lib/postgresql/*/bin"
) -> Path:
    """The directory holding initdb, pg_ctl, postgres and psql of one PostgreSQL version.

    It looks on `path` (default PATH) first, then in Debian's per-version directories, newest
    first.
    """
    candidates: list[Path] = []
    initdb = shutil.which("initdb", path=path)
    if initdb is not None:
        # /usr/local/bin/initdb is often a link into the version's directory: follow it.
        candidates.append(Path(initdb).resolve().parent)
    versions = glob.glob(versions_pattern)
    candidates += sorted((Path(p) for p in versions), key=_version_key, reverse=True)
    for directory in candidates:
        if all((directory / name).is_file() for name in BINARIES):
            return directory
    raise PostgresNotInstalled(INSTALL_HINT)


def _version_key(bin_dir: Path) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", bin_dir.parent.name)) or (0,)


def free_port() -> int:
    """A loopback TCP port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


@dataclass
class _RunAs:
    """The user the server's processes run as: ourselves, or `nobody` when we are root."""

    uid: int | None = None
    gid: int | None = None

    @classmethod
    def for_this_process(cls) -> _RunAs:
        if os.geteuid() != 0:
            return cls()
        entry = pwd.getpwnam(UNPRIVILEGED_USER)
        return cls(entry.pw_uid, entry.pw_gid)

    def popen_options(self) -> dict[str, object]:
        if self.uid is None:
            return {}
        # extra_groups=[] drops root's supplementary groups as well.
        return {"user": self.uid, "group": self.gid, "extra_groups": []}

    def own(self, path: Path) -> None:
        if self.uid is not None:
            os.chown(path, self.uid, self.gid if self.gid is not None else -1)


class PostgresServer:
    """One throwaway cluster: `start()`, `stop()`, `restart()`, `url()`, `create_database()`.

    Use it as a context manager, or call `start()` and finally `destroy()`, which stops the
    server and deletes its directory.
    """

    def __init__(self, root: Path | None = None, settings: dict[str, str] | None = None) -> None:
        """A cluster in `root` (default a new temporary directory); `settings` override SETTINGS.

        The benchmarks pass `{"fsync": "on", "full_page_writes": "on"}`: a deployment's
        durability costs belong in their figures.
        """
        self.bin_dir = find_bin_dir()
        self.settings = {**SETTINGS, **(settings or {})}
        self._run_as = _RunAs.for_this_process()
        # Not under pytest's tmp_path: that is private to root, and the server may be `nobody`.
        self.root = Path(root or tempfile.mkdtemp(prefix="plugin-tests-pg-"))
        self._run_as.own(self.root)
        self.data_dir = self.root / "data"
        self.socket_dir = self.root / "sockets"
        self.log_path = self.root / "server.log"
        self.port = free_port()
        self._initialized = False
        self._databases = 0

    # -- lifecycle -------------------------------------------------------------------------

    def __enter__(self) -> PostgresServer:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.destroy()

    def _run(self, *argv: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [str(self.bin_dir / argv[0]), *argv[1:]],
            cwd=self.root,
            env={**os.environ, "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8", "PGTZ": "UTC"},
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            **self._run_as.popen_options(),  # type: ignore[arg-type]
        )
        if done.returncode != 0:
            raise RuntimeError(
                f"{argv[0]} failed with exit status {done.returncode}:\n{done.stdout}"
                f"{done.stderr}{self.log_tail()}"
            )
        return done

    def _initdb(self) -> None:
        self.socket_dir.mkdir(mode=0o700)
        self._run_as.own(self.socket_dir)
        self._run(
            "initdb",
            "--pgdata",
            str(self.data_dir),
            "--username",
            SUPERUSER,
            "--auth",
            "trust",
            "--encoding",
            "UTF8",
            "--locale",
            "C.UTF-8",
            "--no-sync",
            timeout=120,
        )
        settings = {**self.settings, "unix_socket_directories": f"'{self.socket_dir}'"}
        with (self.data_dir / "postgresql.conf").open("a", encoding="utf-8") as conf:
            conf.write("\n# The test session's settings.\n")
            conf.writelines(f"{name} = {value}\n" for name, value in settings.items())
        (self.data_dir / "pg_hba.conf").write_text(PG_HBA, encoding="utf-8")
        self._initialized = True

    def start(self) -> None:
        """Start the server (making the cluster first) and wait until it accepts connections."""
        first = not self._initialized
        if first:
            self._initdb()
        for attempt in range(3):
            try:
                self._pg_ctl_start()
                return
            except RuntimeError:
                # Another process may have taken the free port in the meantime; only a first
                # start may move to another one (later starts keep the URLs valid).
                if not first or attempt == 2 or "could not bind" not in self.log_tail():
                    raise
                self.port = free_port()

    def _pg_ctl_start(self) -> None:
        self._run(
            "pg_ctl", "start", "--wait", "--timeout", "60", "--pgdata", str(self.data_dir),
            "--log", str(self.log_path), "--silent", "--options", f"-p {self.port}",
        )  # fmt: skip

    def stop(self, mode: str = "fast") -> None:
        """Stop the server: `fast` (the default) ends sessions cleanly, `immediate` is a crash."""
        self._run(
            "pg_ctl", "stop", "--wait", "--timeout", "60", "--pgdata", str(self.data_dir),
            "--mode", mode, "--silent",
        )  # fmt: skip

    def restart(self) -> None:
        """Stop and start again, on the same port; every open connection is cut."""
        self.stop()
        self.start()

    def is_running(self) -> bool:
        """Whether the postmaster of this cluster is running."""
        if not self._initialized:
            return False
        done = subprocess.run(
            [str(self.bin_dir / "pg_ctl"), "status", "--pgdata", str(self.data_dir)],
            capture_output=True,
            text=True,
            check=False,
            **self._run_as.popen_options(),  # type: ignore[arg-type]
        )
        return done.returncode == 0

    def destroy(self) -> None:
        """Stop the server if it runs (as a crash: nothing needs to be kept) and delete it all."""
        with contextlib.suppress(RuntimeError):
            if self.is_running():
                self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)

    def log_tail(self, characters: int = 3000) -> str:
        """The end of the server's log, for failure messages."""
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return "\nserver log:\n" + text[-characters:]

    # -- databases -------------------------------------------------------------------------

    def url(self, database: str = "postgres", driver: str = "postgresql") -> str:
        """The URL of `database` over TCP on loopback, e.g. postgresql://postgres@127.0.0.1:N/x.

        `driver="postgresql+psycopg"` gives the form SQLAlchemy names psycopg 3 with.
        """
        return f"{driver}://{SUPERUSER}@{LOOPBACK}:{self.port}/{database}"

    def psql(self, sql: str, database: str = "postgres") -> str:
        """Run `sql` with psql over the socket, stopping at the first error; return its output."""
        done = self._run(
            "psql", "--no-psqlrc", "--quiet", "--tuples-only", "--no-align",
            "--host", str(self.socket_dir), "--port", str(self.port), "--username", SUPERUSER,
            "--dbname", database, "--set", "ON_ERROR_STOP=1", "--command", sql,
        )  # fmt: skip
        return done.stdout

    def create_database(self, name: str | None = None) -> str:
        """Create an empty database (a fresh name unless given) and return its name."""
        if name is None:
            self._databases += 1
            name = f"test_{os.getpid()}_{self._databases}"
        if not _DATABASE_NAME.fullmatch(name):
            raise ValueError(f"{name!r} is not a plain lowercase database name")
        self.psql(f"CREATE DATABASE {name}")
        return name

    def drop_database(self, name: str) -> None:
        """Drop `name`, cutting any session still connected to it."""
        if not _DATABASE_NAME.fullmatch(name):
            raise ValueError(f"{name!r} is not a plain lowercase database name")
        self.psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
