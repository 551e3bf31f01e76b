"""When a failed request is tried again, and how long to wait first.

The policy, in short:

- Reads (``GET``, ``HEAD`` and ``POST .../search``) are retried on 429 (after
  ``Retry-After`` / ``error.retryAfter``, capped at ``max_delay``), on 502,
  503 and 504, on the codes QUEUE_TIMEOUT, QUEUE_OVERFLOW, BITRIX_TIMEOUT and
  BITRIX_UNAVAILABLE, and on dropped connections and timeouts.
- Writes (``POST`` create, ``PATCH``, ``DELETE``) are not retried, because
  the platform may have done the work before the answer was lost. Two
  exceptions are safe: a 429 RATE_LIMITED or QUEUE_OVERFLOW (refused before
  any processing) and a connection that could not be opened at all.
- Other 4xx are never retried; neither are OVERLOAD_LIMIT (Bitrix24 blocked
  the whole portal by hand) and KEY_LIMIT_REACHED.
- Without a ``Retry-After``, waits grow exponentially from ``base_delay``
  with jitter (a random half of each step), capped at ``max_delay``.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar

import httpx

from .errors import APIError, TransportError

__all__ = ["RetryPolicy", "TransportFailure", "is_read", "with_retries"]

logger = logging.getLogger(__name__)

T = TypeVar("T")

_RETRY_STATUSES = frozenset({429, 502, 503, 504})
_RETRY_CODES = frozenset(
    {"RATE_LIMITED", "QUEUE_TIMEOUT", "QUEUE_OVERFLOW", "BITRIX_TIMEOUT"}
    | {"BITRIX_UNAVAILABLE"}
)
_REFUSED_UNPROCESSED = frozenset({"RATE_LIMITED", "QUEUE_OVERFLOW"})
_NEVER_RETRY = frozenset({"OVERLOAD_LIMIT", "KEY_LIMIT_REACHED"})


class TransportFailure(TransportError):
    """No answer arrived; ``sent`` says whether the request may have left."""

    def __init__(self, message: str, *, sent: bool = True) -> None:
        super().__init__(message)
        self.sent = sent


def is_read(method: str, path: str) -> bool:
    """Return True for requests that change nothing on the platform."""
    method = method.upper()
    if method in ("GET", "HEAD", "OPTIONS"):
        return True
    return method == "POST" and path.rstrip("/").endswith("/search")


def transport_failure(exc: httpx.TransportError, attempted: str) -> TransportFailure:
    """Wrap an httpx network error with a message that says what to do."""
    sent = not isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout)
    what = type(exc).__name__
    return TransportFailure(
        f"{attempted} got no answer ({what}). Check the network and the base "
        "URL (VIBE_BASE_URL), then run the cell again.",
        sent=sent,
    )


@dataclass
class RetryPolicy:
    """Decide whether to retry, and compute the wait before the next try.

    Parameters
    ----------
    max_retries
        Tries after the first one, at most.
    base_delay
        First backoff step, in seconds.
    max_delay
        Cap on any single wait, including a server's ``Retry-After``.
    rng
        Random source for the jitter (seed it in tests).
    sleep
        Async sleep used between tries (fake it in tests).
    """

    max_retries: int = 6
    base_delay: float = 0.5
    max_delay: float = 30.0
    rng: random.Random = field(default_factory=random.Random)
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep

    def should_retry(self, method: str, path: str, error: Exception) -> bool:
        """Return True when ``error`` on this request is worth another try."""
        if isinstance(error, TransportFailure):
            return is_read(method, path) or not error.sent
        if isinstance(error, TransportError):
            return is_read(method, path)
        if not isinstance(error, APIError) or error.code in _NEVER_RETRY:
            return False

        if not is_read(method, path):
            return error.status_code == 429 and error.code in _REFUSED_UNPROCESSED
        return error.status_code in _RETRY_STATUSES or error.code in _RETRY_CODES

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait before try number ``attempt + 1`` (attempt from 0)."""
        if retry_after is not None:
            # a little jitter so concurrent requests do not return together
            spread = self.rng.uniform(0.0, min(0.5, self.base_delay))
            return min(self.max_delay, max(0.0, retry_after) + spread)

        step = min(self.max_delay, self.base_delay * (2**attempt))
        return step / 2 + self.rng.uniform(0.0, step / 2)


async def with_retries(
    attempt_once: Callable[[], Awaitable[T]],
    *,
    method: str,
    path: str,
    policy: RetryPolicy,
    on_error: Callable[[Exception], None] | None = None,
    on_retry: Callable[[Exception, float], None] | None = None,
) -> T:
    """Run ``attempt_once`` until it succeeds or the policy says stop.

    ``attempt_once`` raises :class:`APIError` or :class:`TransportError` on
    failure; ``on_error`` sees every failure first (for pacing) and
    ``on_retry`` each retry with its wait (for counts).
    The last error is raised unchanged when no retry is left.
    """
    attempt = 0
    while True:
        try:
            return await attempt_once()
        except (APIError, TransportError) as error:
            if on_error is not None:
                on_error(error)
            if attempt >= policy.max_retries or not policy.should_retry(
                method, path, error
            ):
                raise
            retry_after = getattr(error, "retry_after", None)
            wait = policy.delay(attempt, retry_after)
            logger.debug(
                "%s %s: retry %d in %.2f s after %s",
                method,
                path,
                attempt + 1,
                wait,
                getattr(error, "code", None) or type(error).__name__,
            )
            if on_retry is not None:
                on_retry(error, wait)
            await policy.sleep(wait)
            attempt += 1
