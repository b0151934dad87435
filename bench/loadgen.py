"""Drive a server with wrk and the todo mix script; return what it measured."""

from __future__ import annotations

import json
import shutil
import statistics
import subprocess
from dataclasses import dataclass
from pathlib import Path

SCRIPT = Path(__file__).with_name("todos_mix.lua")


@dataclass(frozen=True)
class LoadResult:
    """One wrk run's figures."""

    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    socket_errors: int
    non_2xx: int

    @property
    def requests_per_second(self) -> float:
        """Completed requests divided by the measured duration."""
        return self.requests / self.seconds if self.seconds else 0.0


class Rounds:
    """Figures over several wrk runs of one target (a class with a `results` list of them)."""

    results: list[LoadResult]

    @property
    def rps(self) -> float:
        """Median over the runs of the requests per second."""
        return statistics.median(r.requests_per_second for r in self.results)

    @property
    def p99_ms(self) -> float:
        """Median over the runs of the p99 latency in milliseconds."""
        return statistics.median(r.p99_ms for r in self.results)

    @property
    def errors(self) -> int:
        """Socket errors and non-2xx answers over every run."""
        return sum(r.socket_errors + r.non_2xx for r in self.results)


def wrk_path() -> str:
    """The wrk binary, or a one-sentence explanation of how to get it."""
    found = shutil.which("wrk")
    if found is None:
        raise SystemExit("wrk is not installed: run `apt-get install -y wrk` (Debian) first.")
    return found


def run_wrk(
    base_url: str,
    *,
    seconds: int,
    threads: int,
    connections: int,
    headers: dict[str, str],
    reads_percent: int,
    text_field: str,
) -> LoadResult:
    """Run wrk against `base_url` for `seconds` and parse the script's WRK_JSON line."""
    argv = [
        wrk_path(),
        f"-t{threads}",
        f"-c{connections}",
        f"-d{seconds}s",
        "--timeout",
        "5s",
        "-s",
        str(SCRIPT),
    ]
    for name, value in headers.items():
        argv += ["-H", f"{name}: {value}"]
    argv += [base_url, "--", str(reads_percent), text_field]
    # wrk stops by itself after -d; the extra margin only guards against a wedged process.
    done = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 30, check=True)
    line = next((ln for ln in done.stdout.splitlines() if ln.startswith("WRK_JSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk printed no summary:\n{done.stdout}\n{done.stderr}")
    data = json.loads(line.removeprefix("WRK_JSON "))
    return LoadResult(
        requests=data["requests"],
        seconds=data["duration_us"] / 1e6,
        p50_ms=data["p50_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        socket_errors=data["connect"] + data["read"] + data["write"] + data["timeout"],
        non_2xx=data["status"],
    )
