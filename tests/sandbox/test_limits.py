"""Per-key and per-portal limits, latency, faults and the modeled floor."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from vibe_notebook.sandbox import Sandbox
from vibe_notebook.sandbox._faults import FaultInjector, wrap_app
from vibe_notebook.sandbox._limits import (
    Limits,
    modeled_floor,
    portal_units,
    request_latency,
)
from vibe_notebook.sandbox._state import SandboxConfig, SandboxHTTPError, SandboxState


class FakeClock:
    def __init__(self, now: float = 1_000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class FakeSleep:
    def __init__(self) -> None:
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def make_limits(clock: FakeClock | None = None, **config: object) -> Limits:
    state = SandboxState(SandboxConfig(**config), clock=clock or FakeClock())  # type: ignore[arg-type]
    return Limits(state, sleep=FakeSleep())


async def admit(
    limits: Limits, key: str = "k", portal: str = "p", rows: int = 0
) -> None:
    async with limits.slot(key, portal) as slot:
        await slot.serve(rows=rows)


# Per-key window ---------------------------------------------------------------


@pytest.mark.anyio
async def test_slot_refuses_requests_over_the_key_window() -> None:
    clock = FakeClock()
    limits = make_limits(clock, requests_per_minute=3, bucket_burst=0)
    for _ in range(3):
        await admit(limits)
        clock.advance(1)

    with pytest.raises(SandboxHTTPError) as caught:
        await admit(limits)

    error = caught.value
    assert (error.status, error.code) == (429, "RATE_LIMITED")
    assert error.extra["retryAfter"] == 57
    assert error.headers["Retry-After"] == "57"
    assert error.headers["X-RateLimit-Limit"] == "3"
    assert error.headers["X-RateLimit-Remaining"] == "0"
    assert error.body()["error"]["retryAfter"] == 57


@pytest.mark.anyio
async def test_slot_window_slides_one_request_at_a_time() -> None:
    clock = FakeClock()
    limits = make_limits(clock, requests_per_minute=2, bucket_burst=0)
    await admit(limits)
    clock.advance(30)
    await admit(limits)

    clock.advance(30)  # the first request is now 60 s old and leaves
    await admit(limits)
    with pytest.raises(SandboxHTTPError):
        await admit(limits)

    clock.advance(30)
    await admit(limits)


@pytest.mark.anyio
async def test_slot_windows_are_per_key() -> None:
    limits = make_limits(requests_per_minute=1, bucket_burst=0)
    await admit(limits, key="a")
    await admit(limits, key="b")

    with pytest.raises(SandboxHTTPError):
        await admit(limits, key="a")


@pytest.mark.anyio
async def test_headers_count_down_and_reset() -> None:
    clock = FakeClock()
    limits = make_limits(clock, requests_per_minute=300)
    assert limits.headers("k")["X-RateLimit-Remaining"] == "300"

    await admit(limits)
    clock.advance(15)
    await admit(limits)

    headers = limits.headers("k")
    assert headers["X-RateLimit-Limit"] == "300"
    assert headers["X-RateLimit-Remaining"] == "298"
    assert headers["X-RateLimit-Reset"] == "45"


@pytest.mark.anyio
async def test_slot_with_zero_requests_per_minute_is_unlimited() -> None:
    limits = make_limits(requests_per_minute=0, bucket_burst=0)
    for _ in range(500):
        await admit(limits)
    assert limits.headers("k") == {}


# In flight and queue -------------------------------------------------------------


async def hold(
    limits: Limits, release: asyncio.Event, order: list[int], n: int
) -> None:
    async with limits.slot("k", "p"):
        order.append(n)
        await release.wait()


@pytest.mark.anyio
async def test_slot_queues_past_in_flight_cap_in_fifo_order() -> None:
    limits = make_limits(max_in_flight=2, queue_size=3, bucket_burst=0)
    release = asyncio.Event()
    order: list[int] = []
    tasks = [asyncio.create_task(hold(limits, release, order, n)) for n in range(5)]
    await asyncio.sleep(0.01)

    assert order == [0, 1]
    release.set()
    await asyncio.gather(*tasks)
    assert order == [0, 1, 2, 3, 4]


@pytest.mark.anyio
async def test_slot_refuses_with_queue_overflow_when_queue_is_full() -> None:
    limits = make_limits(max_in_flight=1, queue_size=2, bucket_burst=0)
    release = asyncio.Event()
    order: list[int] = []
    tasks = [asyncio.create_task(hold(limits, release, order, n)) for n in range(3)]
    await asyncio.sleep(0.01)

    with pytest.raises(SandboxHTTPError) as caught:
        await admit(limits)
    release.set()
    await asyncio.gather(*tasks)

    assert (caught.value.status, caught.value.code) == (429, "QUEUE_OVERFLOW")
    assert caught.value.headers["Retry-After"] == "1"
    assert order == [0, 1, 2]


@pytest.mark.anyio
async def test_slot_cancelled_while_queued_frees_its_place() -> None:
    limits = make_limits(max_in_flight=1, queue_size=1, bucket_burst=0)
    release = asyncio.Event()
    order: list[int] = []
    first = asyncio.create_task(hold(limits, release, order, 0))
    queued = asyncio.create_task(hold(limits, release, order, 1))
    await asyncio.sleep(0.01)

    queued.cancel()
    await asyncio.sleep(0.01)
    late = asyncio.create_task(hold(limits, release, order, 2))
    await asyncio.sleep(0.01)
    release.set()
    await asyncio.gather(first, late)

    assert queued.cancelled()
    assert order == [0, 2]


# Portal bucket ----------------------------------------------------------------


def test_portal_units_charge_one_per_wave_of_2500_rows() -> None:
    assert [portal_units(n) for n in (0, 1, 2500, 2501, 5000)] == [1, 1, 1, 2, 2]


@pytest.mark.anyio
async def test_serve_refuses_with_query_limit_exceeded_when_bucket_is_full() -> None:
    clock = FakeClock()
    limits = make_limits(clock, bucket_burst=4, bucket_drain_per_second=2.0)
    await admit(limits, key="a", rows=5000)
    await admit(limits, key="b", rows=5000)

    with pytest.raises(SandboxHTTPError) as caught:
        await admit(limits, key="c", rows=1)

    error = caught.value
    assert (error.status, error.code, error.message) == (
        429,
        "RATE_LIMITED",
        "QUERY_LIMIT_EXCEEDED",
    )
    assert error.extra["retryAfter"] == 1
    assert error.headers["Retry-After"] == "1"
    assert "X-RateLimit-Limit" in error.headers


@pytest.mark.anyio
async def test_slot_refuses_a_full_bucket_before_the_request_runs() -> None:
    limits = make_limits(bucket_burst=2)
    await admit(limits, rows=5000)
    ran = False

    with pytest.raises(SandboxHTTPError, match="QUERY_LIMIT_EXCEEDED"):
        async with limits.slot("k", "p"):
            ran = True

    assert ran is False


@pytest.mark.anyio
async def test_serve_charges_an_admitted_request_in_full() -> None:
    clock = FakeClock()
    limits = make_limits(clock, bucket_burst=2, bucket_drain_per_second=2.0)
    await admit(limits, rows=2500)
    await admit(limits, rows=5000)  # admitted at level 1, leaves it at 3

    with pytest.raises(SandboxHTTPError) as caught:
        await admit(limits)

    assert caught.value.extra["retryAfter"] == 1
    clock.advance(1)
    await admit(limits)


@pytest.mark.anyio
async def test_serve_bucket_drains_at_configured_rate() -> None:
    clock = FakeClock()
    limits = make_limits(clock, bucket_burst=4, bucket_drain_per_second=2.0)
    await admit(limits, rows=10_000)  # 4 units: full

    clock.advance(0.4)  # 0.8 units drained: one unit does not fit yet
    with pytest.raises(SandboxHTTPError):
        await admit(limits)
    clock.advance(0.1)
    await admit(limits)


@pytest.mark.anyio
async def test_serve_buckets_are_per_portal() -> None:
    limits = make_limits(bucket_burst=2)
    await admit(limits, portal="one", rows=5000)
    await admit(limits, portal="two", rows=5000)

    with pytest.raises(SandboxHTTPError):
        await admit(limits, portal="one")


# Latency ----------------------------------------------------------------------


def test_request_latency_demo_profile_matches_the_model() -> None:
    assert request_latency(5000, "demo") == pytest.approx(0.55)
    assert request_latency(50, "demo") == pytest.approx(0.055)
    assert request_latency(5000, "test") == 0


@pytest.mark.anyio
async def test_serve_sleeps_the_demo_latency() -> None:
    limits = make_limits(profile="demo")
    await admit(limits, rows=120)

    assert isinstance(limits.sleep, FakeSleep)
    assert limits.sleep.calls == [pytest.approx(0.065)]


@pytest.mark.anyio
async def test_serve_does_not_sleep_in_test_profile() -> None:
    limits = make_limits(profile="test")
    await admit(limits, rows=5000)

    assert isinstance(limits.sleep, FakeSleep)
    assert limits.sleep.calls == []


@pytest.mark.anyio
async def test_serve_sleeps_only_the_latency_left_after_the_work() -> None:
    clock = FakeClock()
    limits = make_limits(clock, profile="demo")
    async with limits.slot("k", "p") as slot:
        clock.advance(0.2)  # building and encoding 5000 rows
        await slot.serve(rows=5000)

    assert isinstance(limits.sleep, FakeSleep)
    assert limits.sleep.calls == [pytest.approx(0.35)]


@pytest.mark.anyio
async def test_serve_does_not_sleep_when_the_work_took_longer() -> None:
    clock = FakeClock()
    limits = make_limits(clock, profile="demo")
    async with limits.slot("k", "p") as slot:
        clock.advance(0.8)
        await slot.serve(rows=5000)

    assert isinstance(limits.sleep, FakeSleep)
    assert limits.sleep.calls == []


@pytest.mark.anyio
async def test_serve_counts_time_from_admission_not_from_the_queue() -> None:
    clock = FakeClock()
    limits = make_limits(clock, profile="demo", max_in_flight=1, bucket_burst=0)
    first = limits.slot("k", "p")
    await first.__aenter__()
    queued = asyncio.ensure_future(admit(limits, rows=5000))
    await asyncio.sleep(0)

    clock.advance(0.3)  # the second request waits for the first one's slot
    await first.__aexit__(None, None, None)
    await queued

    assert isinstance(limits.sleep, FakeSleep)
    assert limits.sleep.calls == [pytest.approx(0.55)]


@pytest.mark.anyio
async def test_serve_sleeps_the_full_latency_when_the_clock_goes_back() -> None:
    clock = FakeClock()
    limits = make_limits(clock, profile="demo")
    async with limits.slot("k", "p") as slot:
        clock.advance(-5)
        await slot.serve(rows=5000)

    assert isinstance(limits.sleep, FakeSleep)
    assert limits.sleep.calls == [pytest.approx(0.55)]


def test_limits_rejects_unknown_profile() -> None:
    with pytest.raises(ValueError, match="demo"):
        make_limits(profile="fast")


def test_limits_for_state_attaches_one_instance() -> None:
    state = SandboxState()
    limits = Limits.for_state(state)

    assert Limits.for_state(state) is limits
    assert state.limits is limits


# Modeled floor ----------------------------------------------------------------


def test_modeled_floor_is_latency_bound_for_a_medium_pull() -> None:
    demo = SandboxConfig(profile="demo")
    assert modeled_floor(100_000, config=demo) == pytest.approx(20 * 0.55 / 4)


def test_modeled_floor_is_bucket_bound_for_a_large_pull() -> None:
    demo = SandboxConfig(profile="demo")
    assert modeled_floor(1_000_000, config=demo) == pytest.approx(349 / 2 + 0.55)


def test_modeled_floor_is_window_bound_when_pages_are_small() -> None:
    config = SandboxConfig(requests_per_minute=10, bucket_burst=0)
    assert modeled_floor(2_500, page_size=100, config=config) == 120


def test_modeled_floor_rejects_pages_over_5000() -> None:
    with pytest.raises(ValueError, match="5000"):
        modeled_floor(10, page_size=10_000)


@pytest.mark.anyio
async def test_modeled_floor_matches_a_paced_pull_under_a_fake_clock() -> None:
    clock = FakeClock()
    config = {"requests_per_minute": 0, "bucket_burst": 4}
    limits = make_limits(clock, **config)
    start = clock.now
    for _ in range(6):  # 30,000 rows in pages of 5000: 12 units, burst 4
        while True:
            try:
                await admit(limits, rows=5000)
                break
            except SandboxHTTPError:
                clock.advance(0.25)

    floor = modeled_floor(30_000, config=SandboxConfig(**config))  # type: ignore[arg-type]
    assert floor == 3.5
    assert clock.now - start == pytest.approx(floor)


# Faults -----------------------------------------------------------------------


async def echo(request: Request) -> JSONResponse:
    request.app.state.calls += 1
    return JSONResponse({"success": True, "data": [{"id": 1, "title": "x" * 200}]})


def fault_app(state: SandboxState, sleep: FakeSleep | None = None) -> FaultInjector:
    app = Starlette(
        routes=[
            Route("/v1/deals", echo, methods=["GET", "POST"]),
            Route("/v1/connect/token", echo, methods=["POST"]),
            Route("/callback", echo),
        ]
    )
    app.state.calls = 0
    return wrap_app(app, state, sleep=sleep or FakeSleep())


async def statuses(app: FaultInjector, n: int, path: str = "/v1/deals") -> list[int]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sbx") as client:
        return [(await client.get(path)).status_code for _ in range(n)]


def faulty_state(seed: int = 7, **rates: float) -> SandboxState:
    return SandboxState(SandboxConfig(fault_seed=seed, fault_rates=rates))


@pytest.mark.anyio
async def test_faults_are_reproducible_for_a_seed() -> None:
    rates = {"429": 0.2, "502": 0.2, "504": 0.2}
    first = await statuses(fault_app(faulty_state(7, **rates)), 40)
    again = await statuses(fault_app(faulty_state(7, **rates)), 40)
    other = await statuses(fault_app(faulty_state(8, **rates)), 40)

    assert first == again
    assert first != other
    assert {200, 429, 502, 504} == set(first)


@pytest.mark.anyio
async def test_faults_answer_with_the_platform_envelope() -> None:
    transport = httpx.ASGITransport(app=fault_app(faulty_state(**{"504": 1.0})))
    async with httpx.AsyncClient(transport=transport, base_url="http://sbx") as client:
        response = await client.get("/v1/deals")

    assert response.status_code == 504
    assert response.headers["Retry-After"] == "2"
    assert response.json()["error"]["code"] == "QUEUE_TIMEOUT"
    assert response.json()["error"]["retryAfter"] == 2


@pytest.mark.anyio
async def test_faults_429_carries_retry_after_and_query_limit_message() -> None:
    transport = httpx.ASGITransport(app=fault_app(faulty_state(**{"429": 1.0})))
    async with httpx.AsyncClient(transport=transport, base_url="http://sbx") as client:
        response = await client.get("/v1/deals")

    error = response.json()["error"]
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "2"
    assert (error["code"], error["message"]) == ("RATE_LIMITED", "QUERY_LIMIT_EXCEEDED")


@pytest.mark.anyio
async def test_faults_502_is_bitrix_unavailable_and_not_executed() -> None:
    app = fault_app(faulty_state(**{"502": 1.0}))
    codes = await statuses(app, 3)

    assert codes == [502, 502, 502]
    assert app.counts["502"] == 3
    assert app.app.state.calls == 0  # type: ignore[attr-defined]


@pytest.mark.anyio
async def test_faults_spare_connect_and_callback() -> None:
    app = fault_app(faulty_state(**{"502": 1.0}))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sbx") as client:
        token = await client.post("/v1/connect/token")
        callback = await client.get("/callback")

    assert (token.status_code, callback.status_code) == (200, 200)
    assert app.counts["502"] == 0


@pytest.mark.anyio
async def test_faults_slow_waits_then_answers() -> None:
    sleep = FakeSleep()
    codes = await statuses(fault_app(faulty_state(slow=1.0), sleep), 2)

    assert codes == [200, 200]
    assert sleep.calls == [2.0, 2.0]


@pytest.mark.anyio
async def test_faults_can_be_switched_on_at_run_time() -> None:
    state = faulty_state()
    app = fault_app(state)
    before = await statuses(app, 2)
    state.config.fault_rates = {"502": 1.0}
    after = await statuses(app, 2)

    assert (before, after) == ([200, 200], [502, 502])


@pytest.mark.parametrize("rates", [{"timeout": 0.1}, {"502": 0.7, "504": 0.7}])
def test_wrap_app_rejects_bad_fault_rates(rates: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="fault_rates"):
        fault_app(faulty_state(**rates))


@contextlib.contextmanager
def serve(app: FaultInjector) -> Iterator[str]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(app, log_config=None, lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]})
    thread.start()
    try:
        while not server.started:
            time.sleep(0.01)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


def test_faults_drop_cuts_the_connection_over_a_real_socket(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = fault_app(faulty_state(drop=1.0))

    with (
        caplog.at_level(logging.ERROR, logger="uvicorn.error"),
        serve(app) as base_url,
        pytest.raises(httpx.RemoteProtocolError),
    ):
        httpx.post(f"{base_url}/v1/deals", timeout=5)

    assert app.app.state.calls == 1  # type: ignore[attr-defined]
    assert app.counts["drop"] == 1
    assert "without completing" not in caplog.text


# Over the real sandbox ------------------------------------------------------------


def test_sandbox_answers_carry_rate_limit_headers_and_refuse_past_window() -> None:
    with Sandbox(requests_per_minute=2, bucket_burst=0) as sb:
        headers = {"X-Api-Key": sb.issue_key()}
        answers = [
            httpx.get(f"{sb.base_url}/v1/deals", params={"limit": 1}, headers=headers)
            for _ in range(3)
        ]

    ok, last, refused = answers
    assert ok.headers["X-RateLimit-Limit"] == "2"
    assert ok.headers["X-RateLimit-Remaining"] == "1"
    assert last.headers["X-RateLimit-Remaining"] == "0"
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "RATE_LIMITED"
    assert int(refused.headers["Retry-After"]) == refused.json()["error"]["retryAfter"]


def test_sandbox_refuses_when_the_portal_bucket_is_full() -> None:
    with Sandbox(bucket_burst=1, bucket_drain_per_second=0.01) as sb:
        headers = {"X-Api-Key": sb.issue_key()}
        first, refused = (
            httpx.get(f"{sb.base_url}/v1/deals", params={"limit": 1}, headers=headers)
            for _ in range(2)
        )

    error = refused.json()["error"]
    assert first.status_code == 200
    assert refused.status_code == 429
    assert (error["code"], error["message"]) == ("RATE_LIMITED", "QUERY_LIMIT_EXCEEDED")
    assert int(refused.headers["Retry-After"]) >= 1


def test_sandbox_drop_fault_applies_the_write_but_loses_the_answer() -> None:
    with Sandbox(fault_rates={"drop": 1.0}) as sb:
        headers = {"X-Api-Key": sb.issue_key()}
        with pytest.raises(httpx.RemoteProtocolError):
            httpx.post(
                f"{sb.base_url}/v1/deals",
                json={"title": "Lost answer"},
                headers=headers,
            )
        sb.config.fault_rates = {}
        found = httpx.get(
            f"{sb.base_url}/v1/deals",
            params={"filter[title]": "Lost answer"},
            headers=headers,
        )

    assert [row["title"] for row in found.json()["data"]] == ["Lost answer"]
