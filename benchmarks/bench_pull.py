"""Pulling 100,000 deals: vibe_notebook against the loop from the docs.

Run: ``python benchmarks/bench_pull.py [--deals 100000] [--rounds 3]``.

Three contenders, each timed from the first request to the finished frame:

- *loop*: what an analyst writes from the platform docs: sequential
  ``GET /v1/deals?limit=5000&offset=...`` until a short page, then
  ``pandas.DataFrame(records)``.
- *vn.pull*: ``Client.pull("deals")`` (keyset windows fetched concurrently)
  then ``pandas.DataFrame(rows)``: the same work as the loop.
- *vn.deals*: ``vn.Client(key, base_url=...).deals(progress=False)``: the
  pull plus lookups (pipelines, stages, users) and the typed, labelled frame.

Fairness: the sandbox runs in its own process (``demo`` profile: modeled
latency, 4 requests in flight per key, the 300-a-minute key window and the
portal's leaky bucket of 50 units draining 2 a second). A 100,000-row pull
spends about 40 of those 50 units, so a run right after another would start
with a half-full bucket and wait for it. Every measurement therefore gets a
fresh sandbox process (empty bucket, empty key window), and the order of the
contenders rotates from round to round; the report gives medians.

Goals: vibe_notebook at least 3x faster than the loop, and within 85% of the
sandbox's modeled floor (the least time any client could take: it counts
latency and limits, not the CPU either side spends on JSON).
"""

from __future__ import annotations

import argparse
import math
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx
import pandas as pd

import vibe_notebook as vn
from vibe_notebook.sandbox import SandboxConfig, modeled_floor


@dataclass
class Run:
    name: str
    seconds: float
    rows: int
    requests: int
    client_cpu: float = math.nan
    server_cpu: float = math.nan

    @property
    def rate(self) -> float:
        return self.rows / self.seconds


@contextmanager
def sandbox_process(deals: int) -> Iterator[tuple[str, str, int]]:
    """Serve a demo-profile sandbox in a subprocess; yield (base_url, key, pid)."""
    port = _free_port()
    command = [
        sys.executable,
        "-u",
        "-m",
        "vibe_notebook.sandbox",
        "--profile",
        "demo",
        "--deals",
        str(deals),
        "--port",
        str(port),
    ]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    try:
        key = _read_key(process)
        base_url = f"http://127.0.0.1:{port}"
        _wait_until_serving(base_url, key)
        yield base_url, key, process.pid
    finally:
        process.terminate()
        process.wait(timeout=30)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _read_key(process: subprocess.Popen[str]) -> str:
    assert process.stdout is not None
    expect_key = False
    for line in process.stdout:
        if expect_key:
            return line.strip()
        expect_key = line.startswith("Ready API key")
    raise RuntimeError("The sandbox exited before printing its API key.")


def _wait_until_serving(base_url: str, key: str, timeout: float = 120.0) -> None:
    # the banner comes out just before the server starts listening
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            httpx.get(base_url + "/v1/connect/authorize", timeout=5)
            return
        except httpx.TransportError:
            time.sleep(0.2)
    raise RuntimeError(f"The sandbox at {base_url} did not answer in {timeout} s.")


def naive_loop(base_url: str, key: str) -> Run:
    """The loop from the platform docs: offset paging, one request at a time."""
    started = time.perf_counter()
    records: list[dict] = []
    requests = 0
    with httpx.Client(base_url=base_url, headers={"X-Api-Key": key}) as http:
        offset = 0
        while True:
            response = http.get("/v1/deals", params={"limit": 5000, "offset": offset})
            requests += 1
            response.raise_for_status()
            page = response.json()["data"]
            records.extend(page)
            if len(page) < 5000:
                break
            offset += 5000
    frame = pd.DataFrame(records)
    return Run("loop", time.perf_counter() - started, len(frame), requests)


def vn_pull(base_url: str, key: str) -> Run:
    """``Client.pull`` then a plain DataFrame: the same work as the loop."""
    started = time.perf_counter()
    with vn.Client(key, base_url=base_url) as client:
        frame = pd.DataFrame(client.pull("deals"))
        requests = client.stats["requests"]
    return Run("vn.pull", time.perf_counter() - started, len(frame), requests)


def vn_deals(base_url: str, key: str) -> Run:
    """``Client.deals()``: pull, lookups and the typed, labelled frame."""
    started = time.perf_counter()
    with vn.Client(key, base_url=base_url) as client:
        frame = client.deals(progress=False)
        requests = client.stats["requests"]
    return Run("vn.deals", time.perf_counter() - started, len(frame), requests)


CONTENDERS = {"loop": naive_loop, "vn.pull": vn_pull, "vn.deals": vn_deals}


def measure(pull: Callable[[str, str], Run], deals: int) -> Run:
    """One run of ``pull`` against a fresh sandbox, with CPU on both sides."""
    with sandbox_process(deals) as (base_url, key, pid):
        server_before = _process_cpu(pid)
        client_before = time.process_time()
        run = pull(base_url, key)
        run.client_cpu = time.process_time() - client_before
        run.server_cpu = _process_cpu(pid) - server_before
    return run


def _process_cpu(pid: int) -> float:
    """CPU seconds of process ``pid`` so far (Linux /proc; NaN elsewhere)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return math.nan
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deals", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    print(
        "Each run gets a fresh demo sandbox process, so no run inherits "
        "another's\nspent leaky bucket or key window; the order rotates "
        f"every round ({args.rounds} rounds)."
    )
    names = list(CONTENDERS)
    results: dict[str, list[Run]] = {name: [] for name in names}
    for round_no in range(args.rounds):
        order = names[round_no % len(names) :] + names[: round_no % len(names)]
        for name in order:
            run = measure(CONTENDERS[name], args.deals)
            results[name].append(run)
            print(f"  round {round_no + 1}: {name:9}{run.seconds:6.2f} s")
    report(results, args.deals)


def report(results: dict[str, list[Run]], deals: int) -> None:
    floor = modeled_floor(deals, config=SandboxConfig(profile="demo", deals=deals))
    median = {name: _median_run(runs) for name, runs in results.items()}
    print(f"Pull of {deals:,} deals, demo profile, {os.cpu_count()} CPUs (medians)")
    print(
        f"{'':9}{'seconds':>9}{'rows':>10}{'rows/s':>9}{'requests':>9}"
        f"{'client CPU':>11}{'server CPU':>11}"
    )
    for run in median.values():
        print(
            f"{run.name:9}{run.seconds:>9.2f}{run.rows:>10,}{run.rate:>9,.0f}"
            f"{run.requests:>9}{run.client_cpu:>10.2f}s{run.server_cpu:>10.2f}s"
        )
    print(f"modeled floor {floor:.2f} s (latency and limits only, no CPU)")
    loop = median["loop"].seconds
    for name in ("vn.pull", "vn.deals"):
        seconds = median[name].seconds
        speedup, share = loop / seconds, floor / seconds
        print(
            f"{name}: {speedup:.2f}x the loop ({_verdict(speedup >= 3)}, goal 3x); "
            f"{share:.0%} of the floor ({_verdict(share >= 0.85)}, goal 85%)"
        )


def _median_run(runs: list[Run]) -> Run:
    return sorted(runs, key=lambda run: run.seconds)[(len(runs) - 1) // 2]


def _verdict(met: bool) -> str:
    return "met" if met else "MISSED"


if __name__ == "__main__":
    main()
