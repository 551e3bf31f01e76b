"""The sandbox's rate limits and modeled latency, with the floor they set."""

from __future__ import annotations

import asyncio
import logging
import math
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from ._state import SandboxConfig, SandboxHTTPError, SandboxState

__all__ = ["BUCKET_HINT", "Limits", "Slot", "modeled_floor"]

logger = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]

# Every number below is listed with its source in docs/sandbox.md.
WINDOW_SECONDS = 60.0  # vibe-api.md §6: "300 requests/minute per key", sliding
PAGE_ROWS = 50  # Bitrix24 list methods answer 50 rows a page
WAVE_ROWS = 2500  # one Bitrix24 batch call holds 50 commands of 50 rows
MAX_PAGE_SIZE = 5000  # vibe-api.md §4.1: limit is at most 5000
LATENCY: dict[str, tuple[float, float]] = {  # assumed: (per request, per page)
    "demo": (0.050, 0.005),
    "test": (0.0, 0.0),
}
QUEUE_RETRY_AFTER = 1  # assumed

BUCKET_HINT = (
    "The portal's Bitrix24 request budget is spent. Wait retryAfter seconds "
    "and retry; fetch fewer, larger pages or combine calls with POST /v1/batch."
)
_WINDOW_HINT = (
    "Keep this key under {limit} requests in any 60 seconds, or combine calls "
    "with POST /v1/batch (up to 50 calls in one request)."
)
_QUEUE_HINT = (
    "Send at most {limit} requests at once with one key; wait for answers "
    "before sending more."
)


def page_count(rows: int) -> int:
    """Internal Bitrix24 pages of 50 rows behind an answer of ``rows`` rows."""
    return max(1, math.ceil(rows / PAGE_ROWS))


def portal_units(rows: int) -> int:
    """Leaky-bucket units one answer of ``rows`` rows costs the portal."""
    return max(1, math.ceil(rows / WAVE_ROWS))


def request_latency(rows: int, profile: str) -> float:
    """Seconds the profile adds to an answer of ``rows`` rows."""
    per_request, per_page = _latency_for(profile)
    return per_request + per_page * page_count(rows)


def _latency_for(profile: str) -> tuple[float, float]:
    if profile not in LATENCY:
        known = ", ".join(sorted(LATENCY))
        raise ValueError(f"Unknown sandbox profile {profile!r}; use one of: {known}.")
    return LATENCY[profile]


def _seconds(value: float) -> int:
    """Whole seconds for Retry-After: rounded up, at least one."""
    return max(1, math.ceil(value - 1e-9))


def _rate_limited(
    message: str, retry_after: int, hint: str, headers: dict[str, str]
) -> SandboxHTTPError:
    return SandboxHTTPError(
        429,
        "RATE_LIMITED",
        message,
        headers={**headers, "Retry-After": str(retry_after)},
        hint=hint,
        retryAfter=retry_after,
    )


@dataclass
class _KeyBudget:
    """One key's sliding window of request times and its in-flight slots."""

    calls: deque[float] = field(default_factory=deque)
    in_flight: int = 0
    waiters: deque[asyncio.Future[None]] = field(default_factory=deque)


@dataclass
class _Bucket:
    """One portal's leaky bucket: its level at the time it was last updated."""

    level: float = 0.0
    updated: float = 0.0


@dataclass
class Slot:
    """A request admitted by :meth:`Limits.slot`; ``serve`` charges and waits."""

    limits: Limits
    key: str
    portal: str
    admitted: float = 0.0

    async def serve(self, rows: int = 0) -> None:
        """Charge the portal's bucket for ``rows`` rows, then wait out the latency.

        The modeled latency is the whole time the server side takes, so the
        work already done since the request was admitted (finding, rendering
        and encoding the rows) counts toward it: only the remainder is slept,
        and nothing when the work took longer. The request was admitted, so
        it is charged in full even when that takes the bucket past its burst;
        later requests wait the longer.
        """
        self.limits.charge_portal(self.portal, rows)

        delay = self.remaining(rows)
        if delay > 0:
            await self.limits.sleep(delay)

    def remaining(self, rows: int) -> float:
        """Seconds of the latency for ``rows`` rows not yet spent since admission."""
        latency = self.limits.latency(rows)
        spent = max(0.0, self.limits.state.clock() - self.admitted)
        return max(0.0, latency - spent)

    @property
    def headers(self) -> dict[str, str]:
        """The ``X-RateLimit-*`` headers for this key, as of now."""
        return self.limits.headers(self.key)


class Limits:
    """Per-key and per-portal limits of one sandbox, read from its config.

    The config is read on every request, so changing a knob on a running
    sandbox takes effect at once. A knob set to 0 switches its limit off.

    Examples
    --------
    >>> async with limits.slot(key, portal) as slot:  # doctest: +SKIP
    ...     body = encode(rows)  # the work counts toward the latency
    ...     await slot.serve(rows=len(rows))
    """

    def __init__(self, state: SandboxState, *, sleep: Sleep = asyncio.sleep):
        _latency_for(state.config.profile)
        self.state = state
        self.sleep = sleep
        self._keys: dict[str, _KeyBudget] = {}
        self._buckets: dict[str, _Bucket] = {}

    @classmethod
    def for_state(cls, state: SandboxState) -> Limits:
        """The ``Limits`` attached to ``state``, created and attached if absent."""
        limits = getattr(state, "limits", None)
        if isinstance(limits, cls):
            return limits

        limits = cls(state)
        state.limits = limits
        return limits

    @property
    def config(self) -> SandboxConfig:
        return self.state.config

    @asynccontextmanager
    async def slot(self, key: str, portal: str) -> AsyncIterator[Slot]:
        """Admit one request of ``key`` to ``portal``, or refuse it with 429.

        The request counts against the key's 60-second window, takes one of
        the key's in-flight slots (waiting its turn in a FIFO queue when all
        are busy), and needs room for one unit in the portal's bucket. Every
        refusal comes before the request runs, so a refused write is never
        applied.

        Raises
        ------
        SandboxHTTPError
            429 ``RATE_LIMITED`` when the window is full, 429
            ``QUEUE_OVERFLOW`` when the queue is full, 429 ``RATE_LIMITED``
            with message ``QUERY_LIMIT_EXCEEDED`` when the bucket is full.
        """
        budget = self._keys.setdefault(key, _KeyBudget())
        self._count_request(budget)

        held = await self._enter(budget)
        try:
            self.check_portal(portal, key=key)
            yield Slot(self, key, portal, admitted=self.state.clock())
        finally:
            if held:
                self._leave(budget)

    def headers(self, key: str) -> dict[str, str]:
        """``X-RateLimit-Limit``, ``-Remaining`` and ``-Reset`` for ``key``.

        ``Reset`` is the number of seconds until the oldest request in the
        window leaves it (0 when the window is empty).
        """
        limit = self.config.requests_per_minute
        if limit <= 0:
            return {}

        now = self.state.clock()
        budget = self._keys.get(key) or _KeyBudget()
        self._prune(budget, now)
        reset = budget.calls[0] + WINDOW_SECONDS - now if budget.calls else 0.0
        return {
            "X-RateLimit-Limit": str(limit),
            "X-RateLimit-Remaining": str(max(0, limit - len(budget.calls))),
            "X-RateLimit-Reset": str(math.ceil(reset)),
        }

    def latency(self, rows: int) -> float:
        """Seconds the current profile adds to an answer of ``rows`` rows."""
        return request_latency(rows, self.config.profile)

    def check_portal(self, portal: str, *, key: str | None = None) -> None:
        """Refuse with 429 unless ``portal``'s bucket has room for one unit."""
        burst = self.config.bucket_burst
        if burst <= 0:
            return

        bucket = self._drained(portal)
        if bucket.level + 1 > burst:
            drain = self.config.bucket_drain_per_second
            wait = _seconds((bucket.level + 1 - burst) / drain)
            headers = self.headers(key) if key else {}
            raise _rate_limited("QUERY_LIMIT_EXCEEDED", wait, BUCKET_HINT, headers)

    def charge_portal(self, portal: str, rows: int) -> None:
        """Add the units of an answer of ``rows`` rows to ``portal``'s bucket."""
        if self.config.bucket_burst > 0:
            self._drained(portal).level += portal_units(rows)

    def _drained(self, portal: str) -> _Bucket:
        now = self.state.clock()
        drain = self.config.bucket_drain_per_second
        bucket = self._buckets.setdefault(portal, _Bucket(updated=now))
        bucket.level = max(0.0, bucket.level - (now - bucket.updated) * drain)
        bucket.updated = now
        return bucket

    def modeled_floor(self, rows: int, *, page_size: int = MAX_PAGE_SIZE) -> float:
        """:func:`modeled_floor` under this sandbox's current config."""
        return modeled_floor(rows, page_size=page_size, config=self.config)

    def _prune(self, budget: _KeyBudget, now: float) -> None:
        while budget.calls and budget.calls[0] <= now - WINDOW_SECONDS:
            budget.calls.popleft()

    def _count_request(self, budget: _KeyBudget) -> None:
        limit = self.config.requests_per_minute
        if limit <= 0:
            return

        now = self.state.clock()
        self._prune(budget, now)
        if len(budget.calls) >= limit:
            wait = _seconds(budget.calls[0] + WINDOW_SECONDS - now)
            message = (
                f"This API key sent {limit} requests in the last 60 seconds, the "
                f"most allowed. Retry after {wait} s."
            )
            headers = {
                "X-RateLimit-Limit": str(limit),
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset": str(wait),
            }
            hint = _WINDOW_HINT.format(limit=limit)
            raise _rate_limited(message, wait, hint, headers)
        budget.calls.append(now)

    async def _enter(self, budget: _KeyBudget) -> bool:
        limit = self.config.max_in_flight
        if limit <= 0:
            return False
        if budget.in_flight < limit and not budget.waiters:
            budget.in_flight += 1
            return True
        if len(budget.waiters) >= self.config.queue_size:
            raise self._overflow(limit)

        waiter = asyncio.get_running_loop().create_future()
        budget.waiters.append(waiter)
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self._leave(budget)  # the slot was handed over: pass it on
            else:
                budget.waiters.remove(waiter)
            raise
        return True

    def _leave(self, budget: _KeyBudget) -> None:
        while budget.waiters:
            waiter = budget.waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)  # hand the slot to the next in line
                return
        budget.in_flight -= 1

    def _overflow(self, limit: int) -> SandboxHTTPError:
        queue = self.config.queue_size
        message = (
            f"This API key already has {limit} requests in flight and {queue} "
            f"waiting, the most allowed. Retry after {QUEUE_RETRY_AFTER} s."
        )
        return SandboxHTTPError(
            429,
            "QUEUE_OVERFLOW",
            message,
            headers={"Retry-After": str(QUEUE_RETRY_AFTER)},
            hint=_QUEUE_HINT.format(limit=limit),
            retryAfter=QUEUE_RETRY_AFTER,
        )


def modeled_floor(
    rows: int, *, page_size: int = MAX_PAGE_SIZE, config: SandboxConfig | None = None
) -> float:
    """The least time, in seconds, any client could take to pull ``rows`` rows.

    A pull of ``rows`` rows in pages of ``page_size`` needs
    ``n = max(1, ceil(rows / page_size))`` requests: ``n - 1`` full pages and
    one last page. With ``lat(r)`` the profile's latency for ``r`` rows and
    ``u(r) = max(1, ceil(r / 2500))`` the bucket units of a page, the floor is
    the largest of three bounds, each a time no client can beat:

    - in flight: ``max(sum(lat) / max_in_flight, max(lat))``;
    - key window: ``floor((n - 1) / requests_per_minute) * 60 + min(lat)``,
      since request ``k`` cannot start before ``floor(k / rpm) * 60``;
    - portal bucket: ``max(0, (sum(u) - max(u) - burst + 1) / drain) +
      min(lat)``, since a request starts only when the bucket has room for
      one unit, so the last one waits until all the others but one unit
      have drained past the burst.

    Parameters
    ----------
    rows : int
        Rows to pull.
    page_size : int, default 5000
        Rows per request, at most 5000.
    config : SandboxConfig, optional
        The sandbox settings; the defaults (``test`` profile) if omitted.

    Returns
    -------
    float
        Seconds. It assumes a fresh key and portal, and no faults.

    Examples
    --------
    >>> modeled_floor(100_000, config=SandboxConfig(profile="demo"))
    2.75
    """
    if rows < 0 or not 1 <= page_size <= MAX_PAGE_SIZE:
        raise ValueError(
            f"modeled_floor needs rows >= 0 and 1 <= page_size <= {MAX_PAGE_SIZE}; "
            f"got rows={rows}, page_size={page_size}."
        )
    config = config or SandboxConfig()

    requests = max(1, math.ceil(rows / page_size))
    pages = [page_size] * (requests - 1) + [rows - page_size * (requests - 1)]
    latencies = [request_latency(size, config.profile) for size in pages]
    units = [portal_units(size) for size in pages]

    bounds = [_in_flight_bound(latencies, config.max_in_flight)]
    if config.requests_per_minute > 0:
        windows = (requests - 1) // config.requests_per_minute
        bounds.append(windows * WINDOW_SECONDS + min(latencies))
    if config.bucket_burst > 0:
        before_last = sum(units) - max(units)
        excess = max(0, before_last - config.bucket_burst + 1)
        bounds.append(excess / config.bucket_drain_per_second + min(latencies))
    return round(max(bounds), 6)


def _in_flight_bound(latencies: list[float], max_in_flight: int) -> float:
    if max_in_flight <= 0:
        return max(latencies)
    return max(sum(latencies) / max_in_flight, max(latencies))
