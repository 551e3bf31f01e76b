"""The client-side pacer, driven by a fake clock: no real sleeping."""

from __future__ import annotations

import asyncio

import pytest

from vibe_notebook._pacing import Pacer


class FakeTime:
    """A clock that only moves when someone sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)


def _pacer(fake: FakeTime, **options: float) -> Pacer:
    return Pacer(clock=fake.clock, sleep=fake.sleep, **options)  # type: ignore[arg-type]


async def _starts(pacer: Pacer, fake: FakeTime, count: int) -> list[float]:
    times = []
    for _ in range(count):
        async with pacer.slot():
            times.append(fake.now)
    return times


def test_pacer_budget_is_slightly_under_the_key_limit() -> None:
    assert Pacer(300).budget == 285
    assert Pacer(60, headroom=0.5).budget == 30
    assert Pacer(1).budget == 1


def test_pacer_admits_budget_then_waits_for_the_window() -> None:
    fake = FakeTime()
    pacer = _pacer(fake)

    times = asyncio.run(_starts(pacer, fake, 286))

    assert times[:285] == [1000.0] * 285
    assert times[285] == pytest.approx(1060.0)
    assert pacer.waited == pytest.approx(60.0)


def test_pacer_never_exceeds_budget_in_any_window() -> None:
    fake = FakeTime()
    pacer = _pacer(fake, requests_per_minute=20)

    times = asyncio.run(_starts(pacer, fake, 100))

    for i, start in enumerate(times):
        in_window = [t for t in times[: i + 1] if t > start - 60.0]
        assert len(in_window) <= pacer.budget


def test_pacer_caps_requests_in_flight() -> None:
    fake = FakeTime()
    pacer = _pacer(fake, max_in_flight=3)
    running = 0
    peak = 0

    async def one() -> None:
        nonlocal running, peak
        async with pacer.slot():
            running += 1
            peak = max(peak, running)
            for _ in range(3):
                await asyncio.sleep(0)
            running -= 1

    async def main() -> None:
        await asyncio.gather(*(one() for _ in range(12)))

    asyncio.run(main())

    assert peak == 3


def test_pacer_after_429_waits_retry_after_then_goes_slower() -> None:
    fake = FakeTime()
    pacer = _pacer(fake, requests_per_minute=120)  # budget 114

    async def main() -> list[float]:
        await _starts(pacer, fake, 1)
        pacer.on_rate_limited(5.0)
        return await _starts(pacer, fake, 3)

    times = asyncio.run(main())

    assert times[0] == pytest.approx(1005.0)
    assert pacer.current_budget() < pacer.budget
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    assert all(gap > 0.5 for gap in gaps)  # spread out, no burst


def test_pacer_recovers_full_rate_after_recovery_period() -> None:
    fake = FakeTime()
    pacer = _pacer(fake, recovery=60.0)

    pacer.on_rate_limited(2.0)
    slow = pacer.current_budget()
    fake.now += 2.0 + 30.0
    halfway = pacer.current_budget()
    fake.now += 31.0
    full = pacer.current_budget()

    assert slow == pacer.budget // 2
    assert slow < halfway < full
    assert full == pacer.budget


def test_pacer_429_without_retry_after_still_pauses() -> None:
    fake = FakeTime()
    pacer = _pacer(fake)

    pacer.on_rate_limited(None)
    times = asyncio.run(_starts(pacer, fake, 1))

    assert times == [pytest.approx(1001.0)]


def test_pacer_works_across_event_loops() -> None:
    fake = FakeTime()
    pacer = _pacer(fake, max_in_flight=1)

    first = asyncio.run(_starts(pacer, fake, 2))
    second = asyncio.run(_starts(pacer, fake, 2))

    assert len(first) + len(second) == 4


def test_pacer_rejects_nonsense_settings() -> None:
    with pytest.raises(ValueError):
        Pacer(0)
    with pytest.raises(ValueError):
        Pacer(300, max_in_flight=0)
