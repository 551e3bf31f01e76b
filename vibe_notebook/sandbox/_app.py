"""The sandbox's ASGI app: routes, error envelope, timing, limits and faults."""

from __future__ import annotations

import itertools
import logging
import time
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ._entities import encode, entity_routes
from ._state import SandboxHTTPError, SandboxState

logger = logging.getLogger(__name__)

_request_ids = itertools.count(1)


def create_app(state: SandboxState) -> ASGIApp:
    """The whole sandbox as one ASGI app serving ``state``.

    Partner Connect routes, per-key and per-portal limits and injected faults
    come from their own modules; the entity API is mounted beside them.
    """
    routes: list[Route] = list(_connect_routes(state)) + entity_routes(state)
    app = Starlette(
        routes=routes,
        exception_handlers={
            SandboxHTTPError: _platform_error,
            HTTPException: _http_error,
        },
    )
    _attach_limits(state)
    return _Timing(_wrap_faults(app, state))


def _connect_routes(state: SandboxState) -> list[Route]:
    try:
        from ._connect import connect_routes
    except ImportError:  # pragma: no cover - built without Partner Connect
        return []
    return connect_routes(state)


def _attach_limits(state: SandboxState) -> None:
    try:
        from ._limits import Limits
    except ImportError:  # pragma: no cover - built without limits
        return
    Limits.for_state(state)


def _wrap_faults(app: ASGIApp, state: SandboxState) -> ASGIApp:
    try:
        from ._faults import wrap_app
    except ImportError:  # pragma: no cover - built without faults
        return app
    return wrap_app(app, state)


async def _platform_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, SandboxHTTPError)
    return encode(error.body(), error.status, error.headers)


async def _http_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, HTTPException)
    code = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED"}.get(
        error.status_code, "INVALID_PARAMS"
    )
    message = f"No such endpoint: {request.method} {request.url.path}."
    if error.status_code == 405:
        message = f"{request.method} is not allowed on {request.url.path}."
    body = {"success": False, "error": {"code": code, "message": message}}
    return encode(body, error.status_code, dict(error.headers or {}))


class _Timing:
    """Adds ``X-Request-Id`` and the server's own time to every answer.

    ``X-Server-Time-Ms`` and ``Server-Timing`` measure from the request's
    arrival to the moment its headers leave, so they include the work and
    the JSON encoding but not the network.
    """

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = f"sbx-{next(_request_ids):08d}"

        async def timed_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                elapsed = (time.perf_counter() - started) * 1000
                headers: list[Any] = list(message.get("headers", []))
                headers += [
                    (b"x-request-id", request_id.encode()),
                    (b"x-server-time-ms", f"{elapsed:.2f}".encode()),
                    (b"server-timing", f"app;dur={elapsed:.2f}".encode()),
                ]
                message = {**message, "headers": headers}
                logger.info(
                    "%s %s -> %s in %.1f ms",
                    scope["method"],
                    scope["path"],
                    message["status"],
                    elapsed,
                )
            await send(message)

        await self.app(scope, receive, timed_send)
