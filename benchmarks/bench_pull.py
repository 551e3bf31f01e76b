"""Pulling 100,000 deals: vn.Client().deals() against the loop from the docs.

Run: ``python benchmarks/bench_pull.py [--deals 100000] [--runs 1]``.

Each measurement gets a fresh sandbox (``demo`` profile: modeled latency,
the 300-a-minute key window and the portal's leaky bucket) in its own
process, so the server's work does not share the client's interpreter.

- *loop*: what an analyst writes from the platform docs: sequential
  ``GET /v1/deals?limit=5000&offset=...`` until a short page, then
  ``pandas.DataFrame(records)``.
- *vn*: ``vn.Client(key, base_url=...).deals(progress=False)``: lookups,
  keyset windows fetched concurrently, and the typed, labelled frame.

Goals: vn at least 3x faster than the loop, and within 85% of the
sandbox's modeled floor (the least time any client could take).
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
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

    @property
    def rate(self) -> float:
        return self.rows / self.seconds


@contextmanager
def sandbox_process(deals: int) -> Iterator[tuple[str, str]]:
    """Serve a demo-profile sandbox in a subprocess; yield (base_url, key)."""
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
        yield base_url, key
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
    started = time.perf_counter()
    with vn.Client(key, base_url=base_url) as client:
        frame = client.deals(progress=False)
        requests = client.stats["requests"]
    return Run("vn", time.perf_counter() - started, len(frame), requests)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deals", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args()

    results: dict[str, list[Run]] = {"loop": [], "vn": []}
    for _ in range(args.runs):
        for name, pull in (("loop", naive_loop), ("vn", vn_pull)):
            with sandbox_process(args.deals) as (base_url, key):
                results[name].append(pull(base_url, key))
    report(results, args.deals)


def report(results: dict[str, list[Run]], deals: int) -> None:
    floor = modeled_floor(deals, config=SandboxConfig(profile="demo", deals=deals))
    best = {name: min(runs, key=lambda r: r.seconds) for name, runs in results.items()}
    print(f"Pull of {deals:,} deals, demo profile, {os.cpu_count()} CPUs (best run)")
    print(f"{'':6}{'seconds':>10}{'rows':>10}{'rows/s':>10}{'requests':>10}")
    for run in best.values():
        print(
            f"{run.name:6}{run.seconds:>10.2f}{run.rows:>10,}"
            f"{run.rate:>10,.0f}{run.requests:>10}"
        )
    speedup = best["loop"].seconds / best["vn"].seconds
    share = floor / best["vn"].seconds
    print(f"vn is {speedup:.2f}x faster than the loop (goal: at least 3x)")
    print(
        f"modeled floor {floor:.2f} s; vn reaches {share:.0%} of it "
        "(goal: at least 85%)"
    )
    for goal, met in (("3x the loop", speedup >= 3), ("85% of floor", share >= 0.85)):
        print(f"  {goal}: {'met' if met else 'MISSED'}")


if __name__ == "__main__":
    main()
