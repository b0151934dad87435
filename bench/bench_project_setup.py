"""Benchmark a generated project's first `make test` against a plain venv + pip + pytest.

    python bench/bench_project_setup.py --rounds 2

Renders one oauth project with `copier copy`, then per round, in fresh copies of it (no .venv):

- `make test`: the project's Makefile (uv; bootstrapped from PyPI into .venv when uv is not on
  PATH, which is how the benchmark runs unless `--uv-on-path DIR` puts one there);
- plain: `python -m venv .venv && .venv/bin/pip install -e '.[dev]' && .venv/bin/pytest`.

The two alternate (which goes first flips every round), so both see the same machine load.
Before the measured rounds each installer runs once unmeasured, so pip's and uv's caches are
warm for both. Prints the load average and a Markdown table (the figures in docs/benchmarks.md).
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
MODE = "oauth"


def run(argv: Sequence[str | Path], cwd: Path, env: dict[str, str]) -> float:
    """Wall time of one command; fails loudly with its output if it fails."""
    start = time.perf_counter()
    done = subprocess.run(
        [str(arg) for arg in argv],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(map(str, argv))} failed:\n{done.stdout[-3000:]}{done.stderr}")
    return elapsed


def render(destination: Path) -> Path:
    """The oauth project, rendered from this checkout's HEAD with the real copier CLI."""
    argv = [
        sys.executable, "-m", "copier", "copy", "--quiet", "--defaults", "--vcs-ref", "HEAD",
        "--data", "name=Bench Todo", "--data", f"auth={MODE}", str(REPO_ROOT), str(destination),
    ]  # fmt: skip
    subprocess.run(argv, check=True, capture_output=True, text=True)
    return destination


def bench_env(uv_dir: Path | None) -> dict[str, str]:
    """This environment without any uv on PATH (or with only `uv_dir`'s), no active venv."""
    kept = [
        entry
        for entry in os.environ.get("PATH", os.defpath).split(os.pathsep)
        if entry and not (Path(entry) / "uv").exists()
    ]
    env = {k: v for k, v in os.environ.items() if k not in {"VIRTUAL_ENV", "MAKEFLAGS", "MFLAGS"}}
    env["PATH"] = os.pathsep.join(([str(uv_dir)] if uv_dir else []) + kept)
    return env


def with_make(project: Path, env: dict[str, str], tests: bool = True) -> dict[str, float]:
    """The Makefile's way: `make test` on a project without .venv (timed in its two parts)."""
    times = {"install": run(["make", ".venv/.installed"], project, env)}
    if tests:
        times["tests"] = run(["make", "test"], project, env)
    return times


def plain(project: Path, env: dict[str, str], tests: bool = True) -> dict[str, float]:
    """The plain way: a venv, pip install -e '.[dev]', pytest."""
    python = os.environ.get("BENCH_PYTHON", "python3")
    times = {"install": run([python, "-m", "venv", ".venv"], project, env)}
    times["install"] += run([".venv/bin/pip", "install", "-q", "-e", ".[dev]"], project, env)
    if tests:
        times["tests"] = run([".venv/bin/pytest", "-q"], project, env)
    return times


def measure(rounds: int, workdir: Path, env: dict[str, str]) -> dict[str, list[dict[str, float]]]:
    """Warm both installers' caches, then alternate the two setups for `rounds` rounds."""
    source = render(workdir / "source")
    ways = {"make test": with_make, "plain venv + pip + pytest": plain}
    copies = 0

    def fresh() -> Path:
        nonlocal copies
        copies += 1
        return Path(shutil.copytree(source, workdir / f"copy-{copies}"))

    for way in ways.values():
        way(fresh(), env, tests=False)
    results: dict[str, list[dict[str, float]]] = {label: [] for label in ways}
    for index in range(rounds):
        order = list(ways.items()) if index % 2 == 0 else list(reversed(ways.items()))
        for label, way in order:
            times = way(fresh(), env)
            results[label].append(times)
            print(
                f"round {index + 1}: {label}: install {times['install']:.1f} s, "
                f"tests {times['tests']:.1f} s, load {os.getloadavg()[0]:.1f}",
                file=sys.stderr,
            )
    return results


def table(results: dict[str, list[dict[str, float]]]) -> str:
    """Markdown: median install, tests and total per setup, and the ratio of the totals."""
    lines = [
        "| setup | install (s) | tests (s) | total (s) | runs |",
        "|---|---:|---:|---:|---:|",
    ]
    totals = {}
    for label, runs in results.items():
        install = statistics.median(r["install"] for r in runs)
        tests = statistics.median(r["tests"] for r in runs)
        totals[label] = statistics.median(r["install"] + r["tests"] for r in runs)
        lines.append(
            f"| {label} | {install:.1f} | {tests:.1f} | {totals[label]:.1f} | {len(runs)} |"
        )
    ours, theirs = totals["make test"], totals["plain venv + pip + pytest"]
    lines += ["", f"Ratio `make test` / plain: {ours / theirs:.2f} (target <= 0.5)."]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print the load average and the Markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2, help="measured runs of each setup")
    parser.add_argument(
        "--uv-on-path", type=Path, default=None, metavar="DIR", help="a directory holding uv"
    )
    args = parser.parse_args(argv)
    if shutil.which("make") is None:
        parser.error("make is not installed.")
    started = os.getloadavg()
    workdir = Path(tempfile.mkdtemp(prefix="bench-setup-"))
    try:
        results = measure(args.rounds, workdir, bench_env(args.uv_on_path))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    ended = os.getloadavg()
    print(
        f"{MODE} project, {args.rounds} rounds; load average {started[0]:.1f} at the start, "
        f"{ended[0]:.1f} at the end.\n"
    )
    print(table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
