"""Benchmark `plugin new` against plain `copier copy`, and `plugin --help` against bare Python.

`plugin --help` is also timed against `python -c "import typer"`, the floor of any Typer
command, so that its figure says what the generator adds on a machine of any speed.

Every measurement is a cold process, timed from the outside (wall clock), and the two commands
of a pair alternate within each round so that both see the same machine load. By default the
template is a fresh clone of this repository's HEAD, as a user's checkout would be; pass
`--source PATH` to time another template (the working tree itself, for instance).

Every command runs with a private, empty home, so the first `plugin new` finds nothing in its
per-user cache of compiled templates and the later ones reuse what it kept, as a user's second
project does; the table gives that first run on its own too.

    python bench/bench_new.py --rounds 15

Prints a Markdown table of medians and ratios (the figures in docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
BIN_DIR = Path(sys.executable).parent
NAME = "Bench Todo"
TYPER = "python -c 'import typer'"


def timed(argv: Sequence[str], env: dict[str, str], cwd: Path) -> float:
    """Wall time of one run of `argv` as a new process; fails loudly if it fails."""
    start = time.perf_counter()
    result = subprocess.run(
        list(argv), cwd=cwd, env=env, stdin=subprocess.DEVNULL, capture_output=True, check=False
    )
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed:\n{result.stderr.decode(errors='replace')}")
    return elapsed


def clean_clone(workdir: Path) -> Path:
    """A clean clone of this repository's HEAD, tags included: what a user would render from."""
    target = workdir / "template-clone"
    subprocess.run(
        ["git", "clone", "--quiet", str(REPO_ROOT), str(target)], check=True, capture_output=True
    )
    return target


def bench_env(home: Path) -> dict[str, str]:
    """The same environment for every command: a private home, a known git identity."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("GIT_", "COPIER_", "XDG_", "PLUGIN_"))
        # Python writes bytecode as it would on a user's machine.
        and key != "PYTHONDONTWRITEBYTECODE"
    }
    env.update(
        HOME=str(home),
        GIT_CONFIG_NOSYSTEM="1",
        GIT_AUTHOR_NAME="Bench",
        GIT_AUTHOR_EMAIL="bench@example.com",
        GIT_COMMITTER_NAME="Bench",
        GIT_COMMITTER_EMAIL="bench@example.com",
        PATH=f"{BIN_DIR}{os.pathsep}{os.environ.get('PATH', '')}",
    )
    return env


def measure(rounds: int, source: Path, workdir: Path) -> dict[str, list[float]]:
    """Time every command `rounds` times, alternating the order of each pair per round."""
    home = workdir / "home"
    home.mkdir()
    env = bench_env(home)
    out = workdir / "out"
    out.mkdir()
    plugin = str(BIN_DIR / "plugin")
    copier = str(BIN_DIR / "copier")
    times: dict[str, list[float]] = {
        "plugin new": [],
        "copier copy": [],
        "plugin --help": [],
        "python -c pass": [],
        TYPER: [],
    }
    for index in range(rounds):
        new_argv = [
            plugin, "new", str(out / f"plugin-{index}"), "--defaults", "--quiet",
            "--name", NAME, "--template", str(source),
        ]  # fmt: skip
        copy_argv = [
            copier, "copy", "--quiet", "--defaults", "--data", f"name={NAME}",
            str(source), str(out / f"copier-{index}"),
        ]  # fmt: skip
        pairs = [
            (("plugin new", new_argv), ("copier copy", copy_argv)),
            (
                ("plugin --help", [plugin, "--help"]),
                ("python -c pass", [sys.executable, "-c", "pass"]),
            ),
            (
                (TYPER, [sys.executable, "-c", "import typer"]),
                ("python -c pass", None),
            ),
        ]
        for first, second in pairs:
            order = (first, second) if index % 2 == 0 else (second, first)
            for label, argv in order:
                if argv is not None:  # None: measured in another pair already
                    times[label].append(timed(argv, env, workdir))
    same = _same_projects(out / "plugin-0", out / "copier-0")
    if not same:
        raise SystemExit("plugin new and copier copy rendered different projects")
    return times


def _same_projects(ours: Path, theirs: Path) -> bool:
    """Same files and bytes; `_commit` aside, which names a fresh draft commit in a dirty tree."""

    def files(root: Path) -> dict[str, bytes]:
        return {
            p.relative_to(root).as_posix(): b"\n".join(
                line for line in p.read_bytes().splitlines() if not line.startswith(b"_commit:")
            )
            for p in root.rglob("*")
            if p.is_file() and ".git" not in p.relative_to(root).parts
        }

    return files(ours) == files(theirs)


def table(times: dict[str, list[float]]) -> str:
    """Markdown table of medians, best times and the two ratios the targets are about."""
    median = {label: statistics.median(values) for label, values in times.items()}
    lines = [
        "| command | median (s) | best (s) | runs |",
        "|---|---:|---:|---:|",
    ]
    for label, values in times.items():
        lines.append(f"| `{label}` | {median[label]:.3f} | {min(values):.3f} | {len(values)} |")
    lines += [
        "",
        "| ratio | value | target |",
        "|---|---:|---:|",
        f"| `plugin new` / `copier copy` | {median['plugin new'] / median['copier copy']:.2f} "
        "| <= 0.5 |",
        f"| `plugin new`, first run (nothing compiled yet) / `copier copy` | "
        f"{times['plugin new'][0] / median['copier copy']:.2f} | |",
        f"| `plugin --help` (s) | {median['plugin --help']:.3f} | < 0.15 |",
        f"| `plugin --help` - `python -c pass` (s) | "
        f"{median['plugin --help'] - median['python -c pass']:.3f} | |",
        f"| `plugin --help` - `python -c 'import typer'` (s) | "
        f"{median['plugin --help'] - median[TYPER]:.3f} | |",
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print its Markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15, help="runs of each command")
    parser.add_argument(
        "--source", type=Path, default=None, help="template to render (default: a clean clone)"
    )
    args = parser.parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="bench-new-"))
    try:
        source = args.source.resolve() if args.source else clean_clone(workdir)
        print(table(measure(args.rounds, source, workdir)))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
