"""Client-side pacing: keep one key under its request budget before a 429.

The platform allows about 300 requests a minute per key over a sliding 60 s
window (vibe-api.md §6). The pacer keeps its own sliding window a little
under that, caps how many requests are in flight at once, and after a 429
waits out ``Retry-After`` and then runs at a reduced rate that climbs back
to the full budget over ``recovery`` seconds.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

__all__ = ["Pacer"]

logger = logging.getLogger(__name__)

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]


class Pacer:
    """Admit requests under a sliding-window budget and an in-flight cap.

    Use ``async with pacer.slot():`` around each request.

    Parameters
    ----------
    requests_per_minute
        The key's budget as the platform counts it.
    max_in_flight
        Most requests running at once.
    headroom
        Fraction of the budget the pacer uses, leaving room for other tools
        on the same key and for clock skew.
    window
        Length of the sliding window in seconds.
    slowdown
        Fraction of the budget used right after a 429.
    recovery
        Seconds over which the rate climbs back to the full budget.
    clock, sleep
        Injectable time source and async sleep, for tests.
    """

    def __init__(
        self,
        requests_per_minute: float = 300,
        *,
        max_in_flight: int = 4,
        headroom: float = 0.95,
        window: float = 60.0,
        slowdown: float = 0.5,
        recovery: float = 60.0,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if requests_per_minute <= 0 or max_in_flight < 1:
            raise ValueError("requests_per_minute and max_in_flight must be > 0")
        self.budget = max(1, math.floor(requests_per_minute * headroom))
        self.max_in_flight = max_in_flight
        self.window = window
        self.slowdown = slowdown
        self.recovery = recovery
        self.clock = clock
        self.sleep = sleep
        self.waited = 0.0
        self._starts: deque[float] = deque()
        self._blocked_until = -math.inf
        self._limited = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._slots: asyncio.Semaphore | None = None
        self._turn: asyncio.Lock | None = None

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Hold one request slot: wait for a free slot and room in the window."""
        slots, turn = self._primitives()
        await slots.acquire()
        try:
            async with turn:
                await self._wait_for_room()
                self._starts.append(self.clock())
            yield
        finally:
            slots.release()

    def on_rate_limited(self, retry_after: float | None) -> None:
        """Record a 429: hold everyone for ``retry_after`` s, then go slower."""
        pause = retry_after if retry_after is not None else 1.0
        until = self.clock() + max(0.0, pause)
        self._blocked_until = max(self._blocked_until, until)
        self._limited = True
        logger.debug("Rate limited: pausing %.1f s, then slower", pause)

    def current_budget(self) -> int:
        """Requests allowed in the window right now (less after a 429)."""
        return max(1, math.floor(self.budget * self._rate_factor()))

    def _rate_factor(self) -> float:
        if not self._limited:
            return 1.0
        since = self.clock() - self._blocked_until
        if since >= self.recovery:
            self._limited = False
            return 1.0
        climbed = max(0.0, since) / self.recovery
        return self.slowdown + (1.0 - self.slowdown) * climbed

    async def _wait_for_room(self) -> None:
        while True:
            delay = self._delay_needed()
            if delay <= 0:
                return
            self.waited += delay
            await self.sleep(delay)

    def _delay_needed(self) -> float:
        """Seconds until the next request may start; 0 or less means now."""
        now = self.clock()
        while self._starts and self._starts[0] <= now - self.window:
            self._starts.popleft()

        if now < self._blocked_until:
            return self._blocked_until - now

        budget = self.current_budget()
        delay = 0.0
        if len(self._starts) >= budget:
            delay = self._starts[-budget] + self.window - now
        if self._limited and self._starts:
            # while recovering, also spread requests evenly instead of bursting
            spacing = self.window / budget
            delay = max(delay, self._starts[-1] + spacing - now)
        return delay

    def _primitives(self) -> tuple[asyncio.Semaphore, asyncio.Lock]:
        """Return the semaphore and lock, made anew for each event loop."""
        loop = asyncio.get_running_loop()
        if self._slots is None or self._turn is None or self._loop is not loop:
            self._loop = loop
            self._slots = asyncio.Semaphore(self.max_in_flight)
            self._turn = asyncio.Lock()
        return self._slots, self._turn
