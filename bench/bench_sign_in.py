"""The oauth token endpoint's latency while sign-ins flood the password check.

    .venv/bin/python -m bench.bench_sign_in [--concurrency 60] [--seconds 15]

Renders an oauth project, starts it with its own command at the production scrypt cost
(SCRYPT_N=16384), and measures `POST /oauth/token` (an unknown code: client authentication,
lookup, invalid_grant) one request after another: first on the idle server (the baseline), then
while another process keeps `--concurrency` sign-in POSTs in flight, each with a wrong password
for a random name from a random X-Forwarded-For address (the proxy is trusted), so that no
throttle refuses them before the password check: the worst case for the hashing bound. Prints
p50/p99 of both, their ratio, the sign-in answers by status, the server's peak memory (VmHWM)
and the load average.
"""

from __future__ import annotations

import argparse
import asyncio
import html
import os
import random
import re
import secrets
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import httpx

from bench.projects import (
    FIXED_SECRETS,
    REDIRECT_URI,
    package_name,
    project_env,
    render,
    server_spec,
)
from bench.servers import free_port, running

HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)"')


def _token_latencies(base_url: str, seconds: float) -> list[float]:
    """Seconds per token request, sent one after another for `seconds`."""
    form = {
        "grant_type": "authorization_code",
        "code": "no-such-code",
        "redirect_uri": REDIRECT_URI,
        "client_id": FIXED_SECRETS["OAUTH_CLIENT_ID"],
        "client_secret": FIXED_SECRETS["OAUTH_CLIENT_SECRET"],
    }
    latencies = []
    with httpx.Client(base_url=base_url, timeout=30) as client:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            started = time.perf_counter()
            answer = client.post("/oauth/token", data=form)
            latencies.append(time.perf_counter() - started)
            assert answer.json().get("error") == "invalid_grant", answer.text
            time.sleep(0.02)
    return latencies


async def _flood(base_url: str, concurrency: int, seconds: float) -> Counter[int]:
    """Keep `concurrency` sign-ins in flight for `seconds`; count the answers by status."""
    statuses: Counter[int] = Counter()
    params = {
        "response_type": "code",
        "client_id": FIXED_SECRETS["OAUTH_CLIENT_ID"],
        "redirect_uri": REDIRECT_URI,
        "state": "bench",
    }
    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(base_url=base_url, timeout=60, limits=limits) as client:
        page = await client.get("/oauth/authorize", params=params)
        fields = {html.unescape(k): html.unescape(v) for k, v in HIDDEN.findall(page.text)}
        # Every answer sets a fresh CSRF cookie: the workers keep sending the first one, which
        # matches the form's token, as one browser tab per worker would.
        cookie = {"Cookie": f"oauth_csrf={page.cookies['oauth_csrf']}"}
        deadline = time.monotonic() + seconds

        async def worker() -> None:
            while time.monotonic() < deadline:
                form = {
                    **fields,
                    "username": secrets.token_hex(6),
                    "password": "wrong-password",
                    "decision": "allow",
                }
                address = (
                    f"10.{random.randrange(256)}.{random.randrange(256)}.{random.randrange(1, 255)}"
                )
                answer = await client.post(
                    "/oauth/authorize", data=form, headers={**cookie, "X-Forwarded-For": address}
                )
                statuses[answer.status_code] += 1

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return statuses


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def _peak_memory_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--concurrency", type=int, default=60)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--slots", help="SIGN_IN_CONCURRENCY of the server (its default)")
    parser.add_argument("--template", type=Path, help="another checkout to render (a baseline)")
    parser.add_argument("--flood", metavar="BASE_URL", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.flood:
        counts = asyncio.run(_flood(options.flood, options.concurrency, options.seconds))
        print(" ".join(f"{status}:{count}" for status, count in sorted(counts.items())))
        return
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        project = render("oauth", work / "project", *filter(None, [options.template]))
        port = free_port()
        env = {
            **project_env(project, port, work / "bench.db"),
            "SCRYPT_N": "16384",
            "TRUSTED_PROXIES": "127.0.0.1",
            **({"SIGN_IN_CONCURRENCY": options.slots} if options.slots else {}),
        }
        with running(server_spec("oauth", project, port, env), work) as server:
            baseline = _token_latencies(server.base_url, 5)
            flood = subprocess.Popen(
                [sys.executable, "-m", "bench.bench_sign_in", "--flood", server.base_url,
                 "--concurrency", str(options.concurrency), "--seconds", str(options.seconds)],
                stdout=subprocess.PIPE, text=True, cwd=Path(__file__).resolve().parent.parent,
            )  # fmt: skip
            time.sleep(1)  # let the flood fill the queue first
            loaded = _token_latencies(server.base_url, options.seconds - 2)
            answers = flood.communicate(timeout=120)[0].strip()
            memory = _peak_memory_mib(server.process.pid)
            package = package_name(project)
    base50, base99 = _percentile(baseline, 0.5), _percentile(baseline, 0.99)
    load50, load99 = _percentile(loaded, 0.5), _percentile(loaded, 0.99)
    ms = 1000
    print(f"project: {package}, SCRYPT_N=16384, {options.concurrency} concurrent sign-ins")
    print(f"token endpoint idle:   p50 {base50 * ms:.1f} ms, p99 {base99 * ms:.1f} ms")
    print(f"token endpoint loaded: p50 {load50 * ms:.1f} ms, p99 {load99 * ms:.1f} ms")
    print(f"requests: {len(baseline)} idle, {len(loaded)} loaded")
    print(f"ratio loaded/idle: p50 {load50 / base50:.1f}x, p99 {load99 / base99:.1f}x")
    print(f"sign-in answers by status: {answers}")
    print(f"server peak memory (VmHWM): {memory:.0f} MiB")
    print(f"load average: {' '.join(f'{value:.2f}' for value in os.getloadavg())}")


if __name__ == "__main__":
    main()
