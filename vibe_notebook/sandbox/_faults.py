"""Seeded faults the sandbox injects into entity requests: 429s, 5xx, drops."""

from __future__ import annotations

import asyncio
import contextvars
import json
import logging
import random
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from ._limits import BUCKET_HINT, Sleep
from ._state import SandboxState

__all__ = ["FAULT_KINDS", "FaultInjector", "wrap_app"]

logger = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

# Every number below is listed with its source in docs/sandbox.md.
FAULT_RETRY_AFTER = 2  # vibe-api.md §3.2: the documented 429 example says 2
SLOW_FAULT_SECONDS = 2.0  # assumed
FAULT_KINDS = ("429", "502", "504", "drop", "slow")

_DROPPING: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "vibe_sandbox_dropping", default=False
)


class _QuietDrops(logging.Filter):
    """Hide uvicorn's complaint about a response the sandbox cut on purpose."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (_DROPPING.get() and "without completing" in record.getMessage())


_QUIET_DROPS = _QuietDrops()


def _fault_response(kind: str) -> tuple[int, dict[str, Any], dict[str, str]]:
    if kind == "429":
        error = {
            "code": "RATE_LIMITED",
            "message": "QUERY_LIMIT_EXCEEDED",
            "hint": BUCKET_HINT,
            "retryAfter": FAULT_RETRY_AFTER,
        }
        return 429, error, {"Retry-After": str(FAULT_RETRY_AFTER)}
    if kind == "504":
        error = {
            "code": "QUEUE_TIMEOUT",
            "message": "The request waited too long in the platform's queue.",
            "hint": "Retry after retryAfter seconds.",
            "retryAfter": FAULT_RETRY_AFTER,
        }
        return 504, error, {"Retry-After": str(FAULT_RETRY_AFTER)}
    error = {
        "code": "BITRIX_UNAVAILABLE",
        "message": "The Bitrix24 portal did not answer the platform.",
        "hint": "Retry in a few seconds; before retrying a write, read the "
        "record to see whether it was applied.",
    }
    return 502, error, {}


def _checked_rates(rates: dict[str, float]) -> dict[str, float]:
    unknown = sorted(set(rates) - set(FAULT_KINDS))
    if unknown:
        raise ValueError(
            f"Unknown fault kinds {unknown} in fault_rates; use any of "
            f"{', '.join(FAULT_KINDS)}."
        )
    if any(not 0 <= p <= 1 for p in rates.values()) or sum(rates.values()) > 1:
        raise ValueError(
            f"fault_rates {rates} must each be between 0 and 1 and sum to at most 1."
        )
    return rates


class FaultInjector:
    """ASGI middleware that answers some entity requests with seeded faults.

    One draw from a ``random.Random(config.fault_seed)`` per entity request
    (paths under ``/v1/`` except ``/v1/connect/``) picks at most one fault,
    so the same seed and the same order of requests give the same faults.
    ``counts`` tallies the faults injected so far.
    """

    def __init__(self, app: ASGIApp, state: SandboxState, *, sleep: Sleep):
        _checked_rates(state.config.fault_rates)
        self.app = app
        self.state = state
        self.sleep = sleep
        self.random = random.Random(state.config.fault_seed)
        self.counts: dict[str, int] = dict.fromkeys(FAULT_KINDS, 0)
        logging.getLogger("uvicorn.error").addFilter(_QUIET_DROPS)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = self._draw(scope)
        if kind is None:
            await self.app(scope, receive, send)
            return

        self.counts[kind] += 1
        logger.info("Injected fault %s on %s %s", kind, scope["method"], scope["path"])
        if kind == "slow":
            await self.sleep(SLOW_FAULT_SECONDS)
            await self.app(scope, receive, send)
        elif kind == "drop":
            await self.app(scope, receive, _cut_after_headers(send))
            _DROPPING.set(True)
        else:
            await _send_error(send, *_fault_response(kind))

    def _draw(self, scope: Scope) -> str | None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not path.startswith("/v1/"):
            return None
        rates = self.state.config.fault_rates
        if path.startswith("/v1/connect/") or not any(rates.values()):
            return None

        draw = self.random.random()
        for kind in FAULT_KINDS:
            draw -= rates.get(kind, 0.0)
            if draw < 0:
                return kind
        return None


def _cut_after_headers(send: Send) -> Send:
    """A ``send`` that passes the headers and half the body, then goes silent.

    The request itself runs in full (a write is applied), but the client sees
    the connection close before the promised Content-Length arrives.
    """
    sent_body = False

    async def cut(message: Message) -> None:
        nonlocal sent_body
        if message["type"] == "http.response.start":
            await send(message)
        elif message["type"] == "http.response.body" and not sent_body:
            sent_body = True
            body = bytes(message.get("body", b""))
            await send({**message, "body": body[: len(body) // 2], "more_body": True})

    return cut


async def _send_error(
    send: Send, status: int, error: dict[str, Any], headers: dict[str, str]
) -> None:
    body = json.dumps({"success": False, "error": error}).encode()
    raw = [
        (b"content-type", b"application/json"),
        (b"content-length", b"%d" % len(body)),
    ]
    raw += [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


def wrap_app(
    app: ASGIApp, state: SandboxState, *, sleep: Sleep = asyncio.sleep
) -> FaultInjector:
    """Wrap ``app`` so entity requests meet the faults in ``config.fault_rates``.

    Parameters
    ----------
    app : ASGI application
        The sandbox's Starlette app.
    state : SandboxState
        Its state; ``config.fault_rates`` maps ``"429"``, ``"502"``,
        ``"504"``, ``"drop"`` and ``"slow"`` to probabilities (summing to at
        most 1) and ``config.fault_seed`` seeds the draws.
    sleep : coroutine function, optional
        What a ``slow`` fault awaits; tests pass a fake.

    Returns
    -------
    FaultInjector
        An ASGI app; with no rates set it passes every request through.
    """
    return FaultInjector(app, state, sleep=sleep)
