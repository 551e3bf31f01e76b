"""Sandbox speed: generating 100,000 deals, and serving 5000 of them at once.

Run: ``python benchmarks/bench_sandbox.py``. Goals: generation under 5 s;
``GET /v1/deals?limit=5000`` under 150 ms of server time (``test`` profile).
"""

from __future__ import annotations

import statistics
import time

import httpx

from vibe_notebook.sandbox import Sandbox
from vibe_notebook.sandbox._data import PortalPlan, _context
from vibe_notebook.sandbox._data_deals import deal_table
from vibe_notebook.sandbox._data_rows import leads, users
from vibe_notebook.sandbox._data_words import anchor_time
from vibe_notebook.sandbox._state import Table

DEALS = 100_000
RUNS = 3
REQUESTS = 15


def generate_deals() -> list[float]:
    plan = PortalPlan("bench.bitrix24.com", "Bench", 42, DEALS)
    plan.anchor = anchor_time("2026-12-01", 0)
    ctx = _context(plan, Table(users(plan)))
    ctx.converted_leads = [
        r["id"] for r in leads(plan, ctx) if r["statusId"] == "CONVERTED"
    ]
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        table = deal_table(plan, ctx)
        times.append(time.perf_counter() - started)
        assert len(table) == DEALS
    return times


def serve_pages(sandbox: Sandbox, params: dict[str, object]) -> tuple[float, float]:
    headers = {"X-Api-Key": sandbox.issue_key()}
    server, client = [], []
    with httpx.Client(base_url=sandbox.base_url, headers=headers) as http:
        http.get("/v1/deals", params=params)  # warm up
        for _ in range(REQUESTS):
            started = time.perf_counter()
            response = http.get("/v1/deals", params=params)
            client.append((time.perf_counter() - started) * 1000)
            server.append(float(response.headers["x-server-time-ms"]))
            assert len(response.json()["data"]) == 5000
    return statistics.median(server), statistics.median(client)


def main() -> None:
    times = generate_deals()
    print(
        f"generate {DEALS:,} deals: median {statistics.median(times):.2f} s "
        f"over {RUNS} runs (goal < 5 s)"
    )

    started = time.perf_counter()
    sandbox = Sandbox(deals=DEALS, profile="test", bucket_burst=0)
    print(
        f"whole sandbox with {DEALS:,} deals (users, leads, contacts, companies, "
        f"tasks too): built in {time.perf_counter() - started:.2f} s"
    )

    with sandbox:
        cases = {
            "GET /v1/deals?limit=5000": {"limit": 5000},
            "keyset page id > 50000": {
                "limit": 5000,
                "order[id]": "asc",
                "filter[id][$gt]": 50000,
            },
            "filtered stageId=NEW": {"limit": 5000, "filter[stageId]": "NEW"},
        }
        for label, params in cases.items():
            server, client = serve_pages(sandbox, params)
            print(
                f"{label:<28} server {server:6.1f} ms, client {client:6.1f} ms "
                f"(median of {REQUESTS}; server goal < 150 ms)"
            )
        floor = sandbox.modeled_floor(DEALS)
    demo = Sandbox(deals=10, profile="demo").modeled_floor(DEALS)
    print(
        f"modeled floor to pull {DEALS:,} rows: test profile {floor:.2f} s, "
        f"demo profile {demo:.2f} s"
    )


if __name__ == "__main__":
    main()
