"""Load benchmark: each auth mode's rendered project against three baselines, in one run.

    python -m bench.load                      # all modes and baselines, 10 s each
    python -m bench.load --seconds 5 --modes none,oauth --baselines quart-production
    python -m bench.load --project oauth=path/to/edited/copy   # measure a changed project

Every server binds 127.0.0.1 on a free port; wrk (Debian's package) runs -t2 -c16 for a fixed
time with bench/todos_mix.lua (mostly GET /todos, plus POST and DELETE of the thread's own
todos). Prints a Markdown table for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

if __package__ in (None, ""):  # `python bench/load.py` works as well as `python -m bench.load`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import projects
from bench.loadgen import LoadResult, Rounds, run_wrk, wrk_path
from bench.servers import LOCAL_HOST, RunningServer, ServerSpec, free_port, running

BASELINES = ("quart-debug", "quart-production", "fastapi-hello")
BASELINE_LABELS = {
    "quart-debug": "Quart, in memory, `app.run(debug=True)`",
    "quart-production": "Quart, in memory, hypercorn",
    "fastapi-hello": "FastAPI hello (GET only), uvicorn",
}
SEEDED_TODOS = 20
LOCK_MESSAGE = "database is locked"


@dataclass
class Measurement(Rounds):
    """Median figures of one target over the repeats, plus what its log showed."""

    name: str
    label: str
    results: list[LoadResult]
    locked: int
    tracebacks: int


def _baseline_spec(name: str, port: int) -> ServerSpec:
    root = projects.REPOSITORY
    python = sys.executable
    argv = {
        "quart-debug": [python, "bench/baselines/quart_todo.py", "--port", str(port)],
        "quart-production": [
            python, "-m", "hypercorn", "--bind", f"{LOCAL_HOST}:{port}",
            "bench.baselines.quart_todo:app",
        ],
        "fastapi-hello": [
            python, "-m", "uvicorn", "--host", LOCAL_HOST, "--port", str(port),
            "--log-level", "warning", "bench.baselines.fastapi_hello:app",
        ],
    }[name]  # fmt: skip
    return ServerSpec(name=name, argv=argv, port=port, cwd=root, env={"PYTHONPATH": str(root)})


@dataclass
class Target:
    """A started server, ready for load: its URL, credentials and the requests it answers."""

    name: str
    label: str
    server: RunningServer
    headers: dict[str, str]
    reads: int | None = None
    results: list[LoadResult] = field(default_factory=list)


def _run_once(args: argparse.Namespace, target: Target, seconds: int) -> LoadResult:
    return run_wrk(
        target.server.base_url,
        seconds=seconds,
        threads=args.threads,
        connections=args.connections,
        headers=target.headers,
        reads_percent=args.reads if target.reads is None else target.reads,
        text_field="todo",
    )


def _start_project(stack: ExitStack, mode: str, project: Path, work: Path) -> Target:
    port = free_port()
    env = projects.project_env(project, port, work / f"{mode}.db")
    server = stack.enter_context(running(projects.server_spec(mode, project, port, env), work))
    headers = projects.credentials(mode, project, env, server.base_url)
    projects.seed(server.base_url, headers, SEEDED_TODOS)
    return Target(mode, f"generated, auth `{mode}`", server, headers)


def _start_baseline(stack: ExitStack, name: str, work: Path) -> Target:
    server = stack.enter_context(running(_baseline_spec(name, free_port()), work))
    if name == "fastapi-hello":
        # The hello app has no storage: it answers the reads only.
        return Target(name, BASELINE_LABELS[name], server, {}, reads=100)
    projects.seed(server.base_url, {}, SEEDED_TODOS)
    return Target(name, BASELINE_LABELS[name], server, {})


def measure(args: argparse.Namespace, targets: list[Target]) -> list[Measurement]:
    """Load every target in turn, `args.repeat` rounds; all of them are up the whole time.

    Round-robin rather than one target after the other: drift in the machine's load (other
    processes, thermal limits) then spreads over all targets instead of favouring one.
    """
    for target in targets:
        # A short unmeasured run first: imports, caches and the SQLite page cache warm up.
        _run_once(args, target, seconds=1)
    for round_number in range(args.repeat):
        for target in targets:
            print(f"round {round_number + 1}: {target.name}", file=sys.stderr)
            target.results.append(_run_once(args, target, args.seconds))
    measurements = []
    for target in targets:
        log = target.server.log_text()
        measurements.append(
            Measurement(
                target.name,
                target.label,
                target.results,
                log.count(LOCK_MESSAGE),
                log.count("Traceback"),
            )  # fmt: skip
        )
    return measurements


def _ratio(value: float, reference: float | None) -> str:
    return f"{value / reference:.2f}x" if reference else "n/a"


def markdown_table(measurements: list[Measurement]) -> str:
    """The results as a Markdown table, with auth overhead and ratios to the baselines."""
    by_name = {m.name: m for m in measurements}
    none = by_name.get("none")
    debug = by_name.get("quart-debug")
    production = by_name.get("quart-production")
    rows = [
        "| server | req/s | p99 ms | errors | db locked | tracebacks | auth overhead vs none "
        "| vs Quart debug | vs Quart production |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for m in measurements:
        is_mode = m.name in projects.MODES
        overhead = (
            f"{(1 - m.rps / none.rps) * 100:+.1f}%".replace("+-", "-")
            if is_mode and none and m.name != "none"
            else ""
        )
        rows.append(
            f"| {m.label} | {m.rps:,.0f} | {m.p99_ms:.1f} | {m.errors} | {m.locked} | "
            f"{m.tracebacks} | {overhead} | "
            f"{_ratio(m.rps, debug.rps if debug else None) if m.name != 'quart-debug' else ''} | "
            f"{_ratio(m.rps, production.rps if production else None) if m.name != 'quart-production' else ''} |"  # noqa: E501
        )
    return "\n".join(rows)


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Load benchmark of the generated projects.")
    parser.add_argument("--seconds", type=int, default=10, help="measured duration of each run")
    parser.add_argument("--repeat", type=int, default=1, help="runs per target (median reported)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--reads", type=int, default=80, help="percent of requests that are GET")
    parser.add_argument("--modes", default=",".join(projects.MODES))
    parser.add_argument("--baselines", default=",".join(BASELINES))
    parser.add_argument(
        "--project",
        action="append",
        default=[],
        metavar="MODE=DIR",
        help="benchmark an existing project directory for MODE instead of rendering one",
    )
    args = parser.parse_args(argv)
    if not 1 <= args.seconds <= 120:
        parser.error("--seconds must be between 1 and 120.")
    if not 1 <= args.repeat <= 5:
        parser.error("--repeat must be between 1 and 5.")
    for item in args.project:
        mode, sep, directory = item.partition("=")
        if not sep or mode not in projects.MODES or not Path(directory, "src").is_dir():
            parser.error(f"--project {item}: write MODE=DIR with a rendered project in DIR.")
    unknown = set(filter(None, args.modes.split(","))) - set(projects.MODES)
    unknown |= set(filter(None, args.baselines.split(","))) - set(BASELINES)
    if unknown:
        parser.error(f"unknown mode or baseline: {', '.join(sorted(unknown))}.")
    return args


def main(argv: list[str] | None = None) -> int:
    """Render, start and load every requested target; print the table."""
    args = _parse_args(argv)
    wrk_path()
    modes = [m for m in args.modes.split(",") if m]
    baselines = [b for b in args.baselines.split(",") if b]
    given = dict(item.split("=", 1) for item in args.project)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="plugin-bench-") as tmp, ExitStack() as stack:
        work = Path(tmp)
        targets = []
        for mode in modes:
            project = Path(given[mode]) if mode in given else projects.render(mode, work / mode)
            print(f"starting {mode} ({project})", file=sys.stderr)
            targets.append(_start_project(stack, mode, project.resolve(), work))
        for name in baselines:
            print(f"starting {name}", file=sys.stderr)
            targets.append(_start_baseline(stack, name, work))
        measurements = measure(args, targets)
    print(
        f"wrk -t{args.threads} -c{args.connections} -d{args.seconds}s, {args.reads}% reads, "
        f"median of {args.repeat}; {time.monotonic() - started:.0f} s in all.\n"
    )
    print(markdown_table(measurements))
    return 1 if any(m.errors or m.locked or m.tracebacks for m in measurements) else 0


if __name__ == "__main__":
    sys.exit(main())
