"""The client against the embedded sandbox over real sockets."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Iterator
from typing import Any

import pytest

import vibe_notebook.sandbox as sandbox_pkg
from vibe_notebook._client import Client
from vibe_notebook._pacing import Pacer
from vibe_notebook._retry import RetryPolicy

pytestmark = pytest.mark.skipif(
    not hasattr(sandbox_pkg, "Sandbox"), reason="the sandbox server is not built yet"
)

DEALS = 12_000  # enough for a first page, id windows and a tail


class FakeTime:
    """Retries and pacing wait on this clock, so faults cost no real seconds."""

    def __init__(self) -> None:
        self.now = 0.0
        self.waits: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)


def _expected(sb: Any, match: Any = None) -> list[dict[str, Any]]:
    table = sb.state.portals[sb.portal_domain].tables["deals"]
    rows = [table[i] for i in table]
    return [row for row in rows if match is None or match(row)]


def _client(sb: Any, fake: FakeTime | None = None) -> Client:
    key = sb.issue_key(scopes=["crm"])
    if fake is None:
        return Client(key, base_url=sb.base_url)
    return Client(
        key,
        base_url=sb.base_url,
        max_retries=12,
        pacer=Pacer(clock=fake.clock, sleep=fake.sleep),
        retry=RetryPolicy(max_retries=12, rng=random.Random(1), sleep=fake.sleep),
    )


@pytest.fixture(scope="module")
def sb() -> Iterator[Any]:
    with sandbox_pkg.Sandbox(deals=DEALS) as sandbox:
        yield sandbox


def test_sandbox_pull_all_deals_matches_its_data(sb: Any) -> None:
    with _client(sb) as client:
        rows = client.pull("deals")
        stats = client.stats

    assert rows == _expected(sb)
    assert [r["id"] for r in rows] == sorted({r["id"] for r in rows})
    assert stats["requests"] >= 4  # first page, max probe, windows, tail


def test_sandbox_pull_with_filter(sb: Any) -> None:
    with _client(sb) as client:
        rows = client.pull("deals", filter={"stageSemanticId": "S"})
        sample = client.pull("deals", limit=25)

    assert rows == _expected(sb, lambda r: r["stageSemanticId"] == "S")
    assert sample == _expected(sb)[:25]


def test_sandbox_me(sb: Any) -> None:
    with _client(sb) as client:
        me = client.me()

    assert me
    assert sb.portal_domain in str(me)


def test_sandbox_faults_give_the_same_rows() -> None:
    rates = {"429": 0.1, "502": 0.1, "504": 0.1, "drop": 0.1}
    fake = FakeTime()

    with sandbox_pkg.Sandbox(deals=DEALS, fault_rates=rates, fault_seed=7) as faulty:
        with _client(faulty, fake) as client:
            rows = client.pull("deals")
            stats = client.stats
        expected = _expected(faulty)

    assert rows == expected
    assert stats["retries"] >= 1
    assert stats["errors"] == stats["retries"]  # every fault was retried away
