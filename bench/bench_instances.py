"""The store under load: SQLite against PostgreSQL, one instance against two, and the cost of
the SQLAlchemy layer against the raw sqlite3 store it replaced, in one run.

    python -m bench.bench_instances --seconds 2 --rounds 3      # about a minute

Renders auth `none` twice with `copier copy`: today's template (the working tree's HEAD) and
the template of commit 4053f69, the last one on raw sqlite3 (`git archive` of this repository).
Starts, each with the project's own command (`python -m <package> serve --no-access-log`, one
uvicorn worker, 127.0.0.1):

- `sqlite3 store (4053f69)`: the old project on a SQLite file;
- `SQLAlchemy, SQLite`: today's project on a SQLite file;
- `SQLAlchemy, PostgreSQL, 1 instance`: today's project on a throwaway PostgreSQL cluster
  (tests/helpers/postgres.py, with fsync and full-page writes on, as a deployment runs it);
- `SQLAlchemy, PostgreSQL, 2 instances`: two processes of today's project on one database of
  that cluster, each driven by its own wrk at the same moment; their requests are summed and
  the worse p99 is shown.

wrk runs bench/todos_mix.lua (80% GET /todos, 10% POST, 10% DELETE of its own todos) with the
same total of threads and connections for every target (the two-instance target splits them).
Targets alternate round by round, after a 1 s warm-up each; medians of the rounds. Prints a
Markdown table and the ratios for docs/benchmarks.md, with the load average at start and end.
"""

from __future__ import annotations

import argparse
import io
import os
import subprocess
import sys
import tarfile
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

if __package__ in (None, ""):  # `python bench/bench_instances.py` works too
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import projects
from bench.loadgen import LoadResult, Rounds, run_wrk, wrk_path
from bench.servers import RunningServer, free_port, start, stop, wait_until_ready

REPOSITORY = projects.REPOSITORY
# The last commit whose template stored todos with raw sqlite3.
RAW_SQLITE_COMMIT = "4053f69"
SEEDED_TODOS = 20
# A deployment's PostgreSQL: every commit reaches the disk.
DURABLE = {"fsync": "on", "full_page_writes": "on"}

sys.path.insert(0, str(REPOSITORY / "tests"))
from helpers.postgres import PostgresServer  # noqa: E402


@dataclass
class Target(Rounds):
    """One measured configuration: one or more servers loaded at the same moment.

    A round's result sums the servers' requests per second and keeps the worst server's p99.
    """

    name: str
    servers: list[RunningServer]
    results: list[LoadResult] = field(default_factory=list)

    def tracebacks(self) -> int:
        """Tracebacks in the servers' output."""
        return sum(server.log_text().count("Traceback") for server in self.servers)


def old_template(destination: Path) -> Path:
    """copier.yml and template/ at RAW_SQLITE_COMMIT, committed in a repository of their own."""
    archive = subprocess.run(
        ["git", "archive", "--format=tar", RAW_SQLITE_COMMIT, "copier.yml", "template"],
        cwd=REPOSITORY,
        capture_output=True,
        check=True,
    )
    destination.mkdir(parents=True)
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(destination, filter="data")
    git = ["git", "-c", "user.name=bench", "-c", "user.email=bench@localhost"]
    for argv in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", RAW_SQLITE_COMMIT]):
        subprocess.run([*git, *argv], cwd=destination, check=True, capture_output=True)
    return destination


def load_once(target: Target, seconds: int, threads: int, connections: int) -> LoadResult:
    """wrk against every server of `target` at once; the figures combined."""
    count = len(target.servers)

    def one(server: RunningServer) -> LoadResult:
        return run_wrk(
            server.base_url,
            seconds=seconds,
            threads=max(1, threads // count),
            connections=max(1, connections // count),
            headers={},
            reads_percent=80,
            text_field="todo",
        )

    with ThreadPoolExecutor(count) as pool:
        results = list(pool.map(one, target.servers))
    return LoadResult(
        requests=sum(r.requests for r in results),
        seconds=max(r.seconds for r in results),
        p50_ms=max(r.p50_ms for r in results),
        p99_ms=max(r.p99_ms for r in results),
        socket_errors=sum(r.socket_errors for r in results),
        non_2xx=sum(r.non_2xx for r in results),
    )


def start_servers(
    stack: ExitStack, work: Path, wanted: list[tuple[str, Path, dict[str, str]]]
) -> list[RunningServer]:
    """Start every (name, project, extra env) at once, then wait until all of them serve."""
    servers = []
    for name, project, extra in wanted:
        port = free_port()
        env = {**projects.project_env(project, port, work / f"{name}.db"), **extra}
        spec = projects.server_spec(name, project, port, env, ["serve", "--no-access-log"])
        server = start(spec, work)
        stack.callback(stop, server)
        servers.append(server)
    for server in servers:
        wait_until_ready(server, timeout=120)
    return servers


def main(argv: list[str] | None = None) -> int:
    """Render, start and load every target; print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=2, help="measured duration of each run")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args(argv)
    wrk_path()
    started, load_start = time.monotonic(), os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="plugin-bench-") as tmp, ExitStack() as stack:
        work = Path(tmp)
        old = projects.render("none", work / "old", old_template(work / "old-template"))
        new = projects.render("none", work / "new")
        postgres = stack.enter_context(PostgresServer(settings=DURABLE))
        shared = postgres.url(postgres.create_database("bench"), driver="postgresql+psycopg")

        on_postgres = {"DATABASE_URL": shared}
        old_sqlite, new_sqlite, pg, pg_1, pg_2 = start_servers(
            stack,
            work,
            [
                ("old", old, {}),
                ("new", new, {}),
                ("pg", new, on_postgres),
                ("pg-1", new, on_postgres),
                ("pg-2", new, on_postgres),
            ],
        )
        targets = [
            Target("sqlite3 store (4053f69), SQLite", [old_sqlite]),
            Target("SQLAlchemy, SQLite", [new_sqlite]),
            Target("SQLAlchemy, PostgreSQL, 1 instance", [pg]),
            Target("SQLAlchemy, PostgreSQL, 2 instances", [pg_1, pg_2]),
        ]
        for target in targets:
            projects.seed(target.servers[0].base_url, {}, SEEDED_TODOS)
            load_once(target, 1, args.threads, args.connections)  # warm-up, not measured
        for round_number in range(args.rounds):
            for target in targets:
                print(f"round {round_number + 1}: {target.name}", file=sys.stderr)
                target.results.append(
                    load_once(target, args.seconds, args.threads, args.connections)
                )
        tracebacks = {target.name: target.tracebacks() for target in targets}
    load_end = os.getloadavg()[0]
    print(
        f"wrk -t{args.threads} -c{args.connections} -d{args.seconds}s in total per target, "
        f"80% reads, median of {args.rounds} rounds; load average {load_start:.1f} at the "
        f"start, {load_end:.1f} at the end; {time.monotonic() - started:.0f} s in all.\n"
    )
    print("| target | req/s | p99 ms | errors | tracebacks |")
    print("|---|---:|---:|---:|---:|")
    for target in targets:
        print(
            f"| {target.name} | {target.rps:,.0f} | {target.p99_ms:.1f} | {target.errors} | "
            f"{tracebacks[target.name]} |"
        )
    old_rps, new_rps, pg_rps, pair_rps = (target.rps for target in targets)
    print("\n| ratio | value | target |")
    print("|---|---:|---:|")
    print(f"| cost of SQLAlchemy on SQLite (1 - new / old) | {1 - new_rps / old_rps:.1%} | < 15% |")
    print(f"| PostgreSQL / SQLite, 1 instance | {pg_rps / new_rps:.2f} | |")
    print(f"| PostgreSQL, 2 instances / 1 instance | {pair_rps / pg_rps:.2f} | |")
    failed = any(target.errors for target in targets) or any(tracebacks.values())
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
