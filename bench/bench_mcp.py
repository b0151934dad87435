"""Benchmark /mcp: `tools/call listTodos` per second against `GET /todos` on the same server,
and against a bare MCPServer whose tool returns a constant.

    python -m bench.bench_mcp --seconds 3 --rounds 3

Renders the template (auth none) with `copier copy`, starts the project with its own command
(`python -m <package> serve --no-access-log`, one uvicorn worker) and the bare server
(bench/baselines/mcp_constant.py, one uvicorn worker), each on a loopback port. One client,
one request at a time: the official MCP client over one connection (protocol 2026-07-28), and
httpx for the REST route. The targets alternate round by round so that all see the same load.
Prints a Markdown table of medians and ratios (the figures in docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx2
from mcp import Client

from bench.projects import package_name, project_env, render
from bench.servers import LOCAL_HOST, ServerSpec, free_port, running

REPOSITORY = Path(__file__).resolve().parent.parent


async def rate(call: Callable[[], Awaitable[object]], seconds: float) -> float:
    """Calls per second of `call`, awaited back to back for `seconds` (after a short warm-up)."""
    for _ in range(20):
        await call()
    count, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        await call()
        count += 1
    return count / elapsed


async def measure(project_url: str, bare_url: str, seconds: float, rounds: int) -> dict:
    results: dict[str, list[float]] = {"mcp": [], "rest": [], "bare": []}
    async with (
        Client(f"{project_url}/mcp") as project,
        Client(f"{bare_url}/mcp") as bare,
        httpx2.AsyncClient(base_url=project_url) as rest,
    ):
        await project.call_tool("addTodo", {"todo": "measured"})

        async def mcp_call() -> None:
            result = await project.call_tool("listTodos", {})
            assert not result.is_error

        async def rest_call() -> None:
            (await rest.get("/todos")).raise_for_status()

        async def bare_call() -> None:
            result = await bare.call_tool("listTodos", {})
            assert not result.is_error

        for _ in range(rounds):
            results["mcp"].append(await rate(mcp_call, seconds))
            results["rest"].append(await rate(rest_call, seconds))
            results["bare"].append(await rate(bare_call, seconds))
    return {name: statistics.median(values) for name, values in results.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="length of one measurement")
    parser.add_argument("--rounds", type=int, default=3, help="rounds per target (median)")
    args = parser.parse_args()
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="bench-mcp-") as workdir:
        work = Path(workdir)
        project = render("none", work / "project")
        port, bare_port = free_port(), free_port()
        project_spec = ServerSpec(
            name="project",
            argv=[sys.executable, "-m", package_name(project), "serve", "--no-access-log"],
            port=port,
            cwd=project,
            env=project_env(project, port, work / "bench.db"),
            ready_path="/todos",
        )
        bare_spec = ServerSpec(
            name="bare",
            argv=[
                sys.executable,
                "-m",
                "uvicorn",
                "--host",
                LOCAL_HOST,
                "--port",
                str(bare_port),
                "--no-access-log",
                "--log-level",
                "warning",
                "bench.baselines.mcp_constant:app",
            ],  # fmt: skip
            port=bare_port,
            cwd=REPOSITORY,
            env={"PYTHONPATH": str(REPOSITORY)},
            ready_path="/mcp",
        )
        with running(project_spec, work) as served, running(bare_spec, work) as bare:
            medians = asyncio.run(
                measure(served.base_url, bare.base_url, args.seconds, args.rounds)
            )
    print(f"load average {load:.1f} at the start, {args.rounds} rounds of {args.seconds:g} s\n")
    print("| target | calls/s (median) |")
    print("|---|---|")
    print(f"| `tools/call listTodos` over /mcp | {medians['mcp']:.0f} |")
    print(f"| `GET /todos`, same server | {medians['rest']:.0f} |")
    print(f"| bare MCPServer, constant tool | {medians['bare']:.0f} |")
    print()
    print(f"/mcp vs GET /todos: {medians['mcp'] / medians['rest']:.2f}")
    print(f"/mcp vs bare MCPServer: {medians['mcp'] / medians['bare']:.2f}")


if __name__ == "__main__":
    main()
