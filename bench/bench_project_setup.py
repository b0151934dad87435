"""Benchmark a generated project's first `make test` against a plain venv + pip + pytest.

    python bench/bench_project_setup.py --rounds 2

Renders one oauth project with `copier copy`, then per round, in fresh copies of it (no .venv):

- `make test`: the project's Makefile, with no uv on PATH (unless `--uv-on-path DIR` puts one
  there): it uses the uv it installed once per user, in PLUGIN_TOOLS, which the benchmark points
  at a directory of its own (the real one in ~/.cache is never touched);
- plain: `python -m venv .venv && .venv/bin/pip install -e '.[dev]' && .venv/bin/pytest`.

The two alternate (which goes first flips every round), so both see the same machine load.
Before the measured rounds each way installs once unmeasured: the Makefile's run installs uv
into PLUGIN_TOOLS, and both warm pip's and uv's caches. Then one more `make` into an empty
PLUGIN_TOOLS, timed apart, is what the first project on a machine pays (installing uv too).
Every measured `make test` must say it created .venv with that per-user uv and installed none.
Prints the load average and Markdown tables (the figures in docs/benchmarks.md).
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


def run(argv: Sequence[str | Path], cwd: Path, env: dict[str, str]) -> tuple[float, str]:
    """Wall time and standard output of one command; fails loudly with its output if it fails."""
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
    return elapsed, done.stdout


def render(destination: Path) -> Path:
    """The oauth project, rendered from this checkout's HEAD with the real copier CLI."""
    argv = [
        sys.executable, "-m", "copier", "copy", "--quiet", "--defaults", "--vcs-ref", "HEAD",
        "--data", "name=Bench Todo", "--data", f"auth={MODE}", str(REPO_ROOT), str(destination),
    ]  # fmt: skip
    subprocess.run(argv, check=True, capture_output=True, text=True)
    return destination


def bench_env(uv_dir: Path | None, tools: Path) -> dict[str, str]:
    """This environment without any uv on PATH (or with only `uv_dir`'s), no active venv, and
    the Makefile's per-user directory (PLUGIN_TOOLS) at `tools`. Python writes bytecode, as on
    a user's machine, even where this environment says not to (PYTHONDONTWRITEBYTECODE)."""
    kept = [
        entry
        for entry in os.environ.get("PATH", os.defpath).split(os.pathsep)
        if entry and not (Path(entry) / "uv").exists()
    ]
    left_out = {"VIRTUAL_ENV", "MAKEFLAGS", "MFLAGS", "PYTHONDONTWRITEBYTECODE"}
    env = {k: v for k, v in os.environ.items() if k not in left_out}
    env["PATH"] = os.pathsep.join(([str(uv_dir)] if uv_dir else []) + kept)
    env["PLUGIN_TOOLS"] = str(tools)
    return env


def with_make(project: Path, env: dict[str, str], tests: bool = True) -> dict[str, float]:
    """The Makefile's way: `make test` on a project without .venv (timed in its two parts)."""
    times = {}
    times["install"], output = run(["make", ".venv/.installed"], project, env)
    if shutil.which("uv", path=env["PATH"]) is None and (
        "installing uv" in output or f"with uv ({env['PLUGIN_TOOLS']}/uv-" not in output
    ):
        raise SystemExit(f"make did not reuse the per-user uv in {env['PLUGIN_TOOLS']}:\n{output}")
    if tests:
        times["tests"] = run(["make", "test"], project, env)[0]
    return times


def plain(project: Path, env: dict[str, str], tests: bool = True) -> dict[str, float]:
    """The plain way: a venv, pip install -e '.[dev]', pytest."""
    python = os.environ.get("BENCH_PYTHON", "python3")
    times = {"install": run([python, "-m", "venv", ".venv"], project, env)[0]}
    times["install"] += run([".venv/bin/pip", "install", "-q", "-e", ".[dev]"], project, env)[0]
    if tests:
        times["tests"] = run([".venv/bin/pytest", "-q"], project, env)[0]
    return times


def measure(
    rounds: int, workdir: Path, env: dict[str, str]
) -> tuple[dict[str, list[dict[str, float]]], float]:
    """Warm both installers' caches (and install the per-user uv), time one first project's
    install into an empty PLUGIN_TOOLS, then alternate the two setups for `rounds` rounds."""
    source = render(workdir / "source")
    ways = {"make test": with_make, "plain venv + pip + pytest": plain}
    copies = 0

    def fresh() -> Path:
        nonlocal copies
        copies += 1
        return Path(shutil.copytree(source, workdir / f"copy-{copies}"))

    run(["make", ".venv/.installed"], fresh(), env)  # installs uv into PLUGIN_TOOLS
    plain(fresh(), env, tests=False)
    first_env = {**env, "PLUGIN_TOOLS": str(workdir / "tools-first")}
    first, output = run(["make", ".venv/.installed"], fresh(), first_env)
    if shutil.which("uv", path=env["PATH"]) is None and "installing uv" not in output:
        raise SystemExit(f"make into an empty PLUGIN_TOOLS did not install uv:\n{output}")
    print(f"first project (installs uv too): install {first:.1f} s", file=sys.stderr)
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
    return results, first


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
        env = bench_env(args.uv_on_path, workdir / "tools")
        results, first = measure(args.rounds, workdir, env)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    ended = os.getloadavg()
    print(
        f"{MODE} project, {args.rounds} rounds; load average {started[0]:.1f} at the start, "
        f"{ended[0]:.1f} at the end.\n"
    )
    print(table(results))
    print(
        f"\nThe first project on a machine (uv installed into an empty PLUGIN_TOOLS first, "
        f"caches warm): install {first:.1f} s."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
