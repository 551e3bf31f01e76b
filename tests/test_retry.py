"""The retry policy and the retry loop, with fake sleeps (nothing really waits)."""

from __future__ import annotations

import asyncio
import random
from typing import Any

import httpx
import pytest
from _fakeapi import KEY, FakePlatform, error_body

from vibe_notebook import errors
from vibe_notebook._client import AsyncClient
from vibe_notebook._pacing import Pacer
from vibe_notebook._retry import (
    RetryPolicy,
    TransportFailure,
    is_read,
    transport_failure,
    with_retries,
)


class FakeSleep:
    def __init__(self) -> None:
        self.waits: list[float] = []
        self.now = 0.0

    def clock(self) -> float:
        return self.now

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += seconds


def _api(status: int, code: str | None, retry_after: float | None = None):
    return errors.APIError("x", status_code=status, code=code, retry_after=retry_after)


@pytest.mark.parametrize(
    ("method", "path", "read"),
    [
        ("GET", "/v1/deals", True),
        ("get", "/v1/deals/5", True),
        ("HEAD", "/v1/me", True),
        ("POST", "/v1/deals/search", True),
        ("POST", "/v1/deals/search/", True),
        ("POST", "/v1/deals", False),
        ("PATCH", "/v1/deals/5", False),
        ("DELETE", "/v1/deals/5", False),
        ("POST", "/v1/batch", False),
    ],
    ids=lambda v: str(v),
)
def test_is_read(method: str, path: str, read: bool) -> None:
    assert is_read(method, path) is read


@pytest.mark.parametrize(
    ("method", "error", "retry"),
    [
        ("GET", _api(429, "RATE_LIMITED", 2), True),
        ("GET", _api(502, "BITRIX_UNAVAILABLE"), True),
        ("GET", _api(503, None), True),
        ("GET", _api(504, "QUEUE_TIMEOUT"), True),
        ("GET", _api(500, "QUEUE_OVERFLOW"), True),
        ("GET", _api(500, "BITRIX_TIMEOUT"), True),
        ("GET", _api(500, "INTERNAL_ERROR"), False),
        ("GET", _api(503, "OVERLOAD_LIMIT"), False),
        ("GET", _api(429, "KEY_LIMIT_REACHED"), False),
        ("GET", _api(400, "INVALID_PARAMS"), False),
        ("GET", _api(401, "INVALID_API_KEY"), False),
        ("GET", _api(403, "SCOPE_DENIED"), False),
        ("GET", _api(404, "ENTITY_NOT_FOUND"), False),
        ("GET", _api(422, "BITRIX_ERROR"), False),
        ("GET", TransportFailure("dropped", sent=True), True),
        ("GET", errors.TransportError("timeout"), True),
        ("POST", _api(429, "RATE_LIMITED", 1), True),
        ("PATCH", _api(429, "QUEUE_OVERFLOW"), True),
        ("POST", _api(429, "OPERATION_TIME_LIMIT"), False),
        ("POST", _api(502, "BITRIX_UNAVAILABLE"), False),
        ("DELETE", _api(504, "QUEUE_TIMEOUT"), False),
        ("POST", TransportFailure("dropped", sent=True), False),
        ("POST", TransportFailure("refused", sent=False), True),
        ("GET", ValueError("not ours"), False),
    ],
    ids=[
        "get-429",
        "get-502",
        "get-503",
        "get-504",
        "get-queue-overflow",
        "get-bitrix-timeout",
        "get-500-internal",
        "get-overload",
        "get-key-limit",
        "get-400",
        "get-401",
        "get-403",
        "get-404",
        "get-422",
        "get-dropped",
        "get-timeout",
        "post-429-rate-limited",
        "patch-429-queue-overflow",
        "post-429-time-limit",
        "post-502",
        "delete-504",
        "post-dropped",
        "post-refused",
        "foreign-error",
    ],
)
def test_policy_should_retry(method: str, error: Exception, retry: bool) -> None:
    assert RetryPolicy().should_retry(method, "/v1/deals", error) is retry


def test_policy_delay_honours_retry_after_capped() -> None:
    policy = RetryPolicy(rng=random.Random(1), max_delay=30.0)

    assert 2.0 <= policy.delay(0, retry_after=2.0) <= 2.5
    assert policy.delay(3, retry_after=120.0) == 30.0
    assert policy.delay(0, retry_after=0.0) <= 0.5


def test_policy_delay_grows_exponentially_with_jitter() -> None:
    policy = RetryPolicy(rng=random.Random(7), base_delay=0.5, max_delay=30.0)

    delays = [policy.delay(attempt) for attempt in range(10)]

    for attempt, delay in enumerate(delays):
        step = min(30.0, 0.5 * 2**attempt)
        assert step / 2 <= delay <= step
    assert max(delays) <= 30.0
    assert len({round(d, 6) for d in delays}) == len(delays)


def test_with_retries_succeeds_after_transient_errors() -> None:
    sleep = FakeSleep()
    policy = RetryPolicy(rng=random.Random(0), sleep=sleep)
    outcomes: list[Any] = [_api(502, None), _api(429, "RATE_LIMITED", 4.0), "ok"]
    seen: list[Exception] = []

    async def once() -> str:
        outcome = outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    result = asyncio.run(
        with_retries(
            once, method="GET", path="/v1/deals", policy=policy, on_error=seen.append
        )
    )

    assert result == "ok"
    assert len(seen) == 2
    assert len(sleep.waits) == 2
    assert 4.0 <= sleep.waits[1] <= 4.5


def test_with_retries_gives_up_after_max_retries() -> None:
    sleep = FakeSleep()
    policy = RetryPolicy(max_retries=3, sleep=sleep)
    calls = 0

    async def once() -> None:
        nonlocal calls
        calls += 1
        raise _api(503, None)

    with pytest.raises(errors.APIError):
        asyncio.run(with_retries(once, method="GET", path="/v1/x", policy=policy))

    assert calls == 4
    assert len(sleep.waits) == 3


def test_with_retries_does_not_retry_other_4xx_or_writes() -> None:
    sleep = FakeSleep()
    policy = RetryPolicy(sleep=sleep)
    calls: list[str] = []

    async def fail(method: str, error: Exception) -> None:
        async def once() -> None:
            calls.append(method)
            raise error

        with pytest.raises(type(error)):
            await with_retries(once, method=method, path="/v1/deals", policy=policy)

    asyncio.run(fail("GET", _api(404, "ENTITY_NOT_FOUND")))
    asyncio.run(fail("POST", _api(502, "BITRIX_UNAVAILABLE")))

    assert calls == ["GET", "POST"]
    assert sleep.waits == []


def test_transport_failure_knows_whether_the_request_left() -> None:
    refused = transport_failure(httpx.ConnectError("refused"), "POST /v1/deals")
    dropped = transport_failure(httpx.ReadError("reset"), "POST /v1/deals")

    assert refused.sent is False
    assert dropped.sent is True
    assert "POST /v1/deals got no answer (ReadError)" in str(dropped)


def _client(fake: FakePlatform, sleep: FakeSleep) -> AsyncClient:
    return AsyncClient(
        KEY,
        base_url="http://fake",
        transport=fake.transport(),
        pacer=Pacer(clock=sleep.clock, sleep=sleep),
        retry=RetryPolicy(rng=random.Random(3), sleep=sleep),
    )


def test_client_retries_429_with_retry_after_and_slows_down() -> None:
    fake = FakePlatform(range(1, 4))
    sleep = FakeSleep()
    fake.faults = [
        httpx.Response(
            429,
            headers={"Retry-After": "2"},
            json=error_body("RATE_LIMITED", retryAfter=2),
        ),
    ]
    client = _client(fake, sleep)

    rows = asyncio.run(client.pull("deals"))

    assert [r["id"] for r in rows] == [1, 2, 3]
    assert client.stats["retries"] == 1
    assert sum(sleep.waits) >= 2.0
    assert client._pacer.current_budget() < client._pacer.budget


def test_client_retries_dropped_connections_on_reads() -> None:
    fake = FakePlatform(range(1, 4))
    sleep = FakeSleep()
    fake.faults = [
        httpx.ReadError("reset"),
        httpx.ReadTimeout("slow"),
        httpx.Response(504, json=error_body("QUEUE_TIMEOUT")),
    ]
    client = _client(fake, sleep)

    rows = asyncio.run(client.pull("deals"))

    assert len(rows) == 3
    assert client.stats["retries"] == 3
    assert client.stats["requests"] == 5  # 3 failures, one page, one max probe


def test_client_does_not_retry_a_write_after_a_drop() -> None:
    fake = FakePlatform()
    sleep = FakeSleep()
    fake.faults = [httpx.ReadError("reset")]
    client = _client(fake, sleep)

    with pytest.raises(errors.TransportError) as caught:
        asyncio.run(client.request("POST", "/v1/deals", json={"title": "x"}))

    assert len(fake.requests) == 1
    assert "POST /v1/deals" in str(caught.value)


def test_client_gives_up_and_raises_the_platform_error() -> None:
    fake = FakePlatform()
    sleep = FakeSleep()
    fake.faults = [
        httpx.Response(502, json=error_body("BITRIX_UNAVAILABLE", "down"))
    ] * 10
    client = _client(fake, sleep)

    with pytest.raises(errors.ServerError) as caught:
        asyncio.run(client.get_json("/v1/deals"))

    assert caught.value.code == "BITRIX_UNAVAILABLE"
    assert len(fake.requests) == 7  # first try + max_retries (6)
