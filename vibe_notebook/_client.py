"""The Vibe API client: AsyncClient on httpx, and the blocking Client over it."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import time
import weakref
from collections.abc import Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

import httpx

from ._credentials import mask_key, require_api_key
from ._envelope import error_from_body, error_from_response, rows_of, unwrap
from ._pacing import Pacer
from ._paging import pull_rows
from ._resources import ResourcesMixin, SyncResourcesMixin
from ._retry import RetryPolicy, transport_failure, with_retries
from ._settings import resolve_base_url
from .errors import APIError, ConfigurationError, RateLimitError, ServerError

if TYPE_CHECKING:
    from ._connect import Connection

__all__ = ["AsyncClient", "Client", "Page"]

logger = logging.getLogger(__name__)

T = TypeVar("T")

_ENTITY = re.compile(r"^[a-z][a-z0-9-]*(/[a-z0-9-]+)*$")
_USER_AGENT = "vibe_notebook/0.1.0 (+httpx)"


@dataclass(frozen=True)
class Page:
    """One answer of the platform: ``data``, ``meta`` and the HTTP status."""

    data: Any
    meta: dict[str, Any] = field(default_factory=dict)
    status_code: int = 200

    @property
    def rows(self) -> list[dict[str, Any]]:
        """``data`` as a list of records, whatever shape it came in."""
        return rows_of(self.data)


class AsyncClient(ResourcesMixin):
    """Talk to the Vibe Platform with one API key, asynchronously.

    Parameters
    ----------
    api_key
        A ``vibe_api_...`` key. Defaults to ``VIBE_API_KEY``, then a key
        saved by ``vn.connect()`` for this base URL.
    base_url
        The platform address. Defaults to ``VIBE_BASE_URL``, then
        ``https://vibecode.bitrix24.tech``.
    transport
        An httpx transport, such as ``httpx.MockTransport`` in tests.
    timeout
        Seconds to wait for each answer.
    max_in_flight
        Requests running at once.
    requests_per_minute
        The key's budget; the client keeps a little under it.
    max_retries
        Tries after the first for requests that may be retried.
    connection
        The Connection the key came from, kept as ``.connection``.
    pacer, retry
        Replace the pacing and retry policy (tests use fake clocks).

    Examples
    --------
    >>> async with AsyncClient(api_key="vibe_api_...") as client:  # doctest: +SKIP
    ...     deals = await client.pull("deals", filter={"stageId": "NEW"})
    """

    def __init__(
        self,
        api_key: str | None = None,
        *,
        base_url: str | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = 30.0,
        max_in_flight: int = 4,
        requests_per_minute: float = 300,
        max_retries: int = 6,
        connection: Connection | None = None,
        pacer: Pacer | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        if connection is not None:
            api_key = api_key or connection.api_key
            base_url = base_url or connection.base_url
        self.base_url = resolve_base_url(base_url)
        self._api_key = require_api_key(api_key, self.base_url)
        self.connection = connection
        self._transport = transport
        self._timeout = timeout
        self._pacer = pacer or Pacer(requests_per_minute, max_in_flight=max_in_flight)
        self._retry = retry or RetryPolicy(max_retries=max_retries)
        self._http: httpx.AsyncClient | None = None
        self._http_loop: asyncio.AbstractEventLoop | None = None
        self._stats = {"requests": 0, "retries": 0, "errors": 0, "rows": 0}

    @classmethod
    def from_env(cls, **options: Any) -> AsyncClient:
        """Build a client from ``VIBE_API_KEY`` and ``VIBE_BASE_URL``."""
        return cls(_key_from_env(), **options)

    @classmethod
    def from_connection(cls, conn: Connection, **options: Any) -> AsyncClient:
        """Build a client from a Connection returned by ``exchange_code``."""
        return cls(conn.api_key, base_url=conn.base_url, connection=conn, **options)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(base_url={self.base_url!r}, "
            f"api_key={mask_key(self._api_key)!r})"
        )

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connections this client holds."""
        http, self._http = self._http, None
        if http is not None and self._http_loop is _running_loop():
            await http.aclose()

    @property
    def stats(self) -> dict[str, Any]:
        """Counts so far: requests, retries, errors, rows, pacing wait (s)."""
        return {**self._stats, "waited_s": round(self._pacer.waited, 3)}

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
    ) -> Page:
        """Send one request (with pacing and retries) and unwrap the answer.

        Parameters
        ----------
        method
            ``GET``, ``POST``, ``PATCH`` or ``DELETE``.
        path
            A platform path such as ``"/v1/deals"``.
        params, json
            Query parameters and a JSON body.

        Raises
        ------
        APIError
            A subclass for the platform's error code (see vibe_notebook.errors).
        TransportError
            When no answer arrived after the allowed retries.
        """
        method = method.upper()
        path = _checked_path(path)

        async def once() -> Page:
            return await self._send(method, path, params, json)

        return await with_retries(
            once,
            method=method,
            path=path,
            policy=self._retry,
            on_error=self._note_error,
            on_retry=self._note_retry,
        )

    async def get_json(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        """GET any platform path and return the envelope's ``data``.

        The escape hatch for endpoints without a helper, for example
        ``await client.get_json("/v1/deals/fields")``.
        """
        page = await self.request("GET", path, params=params)
        return page.data

    async def me(self) -> dict[str, Any]:
        """Return ``GET /v1/me``: the portal, the key's scopes and limits."""
        data = await self.get_json("/v1/me")
        return data if isinstance(data, dict) else {"data": data}

    async def pull(
        self,
        entity: str,
        *,
        filter: Mapping[str, Any] | None = None,
        select: Sequence[str] | str | None = None,
        limit: int | None = None,
        on_rows: Callable[[int], Any] | None = None,
        on_total: Callable[[int], Any] | None = None,
        on_page: Callable[[list[dict[str, Any]]], Any] | None = None,
    ) -> list[dict[str, Any]]:
        """Return every row of ``entity`` matching ``filter``, in id order.

        Parameters
        ----------
        entity
            The platform's name for the table: ``"deals"``, ``"tasks"``, ...
        filter
            In the platform's form, such as ``{"stageId": "NEW", "updatedAt":
            {"$gte": "2026-01-01T00:00:00Z"}}``.
        select
            Field names to fetch (``id`` is always added).
        limit
            Read only the first ``limit`` rows (a quick sample).
        on_rows
            Called with the size of each batch of rows as it arrives.
        on_total
            Called with an estimate of the rows to expect once the highest id
            is known (exact when ids are dense), and with the final count.
        on_page
            Called with each page's rows as it arrives (pages come in
            arrival order, not id order), to work on them while later pages
            are on the way; the returned list holds the same row objects.

        Raises
        ------
        PullInterrupted
            When the pull is cancelled; ``.rows`` holds what arrived.
        """
        path = f"/v1/{_checked_entity(entity)}"
        fields = select.split(",") if isinstance(select, str) else select

        async def fetch(params: dict[str, str]) -> list[dict[str, Any]]:
            return (await self.request("GET", path, params=params)).rows

        rows = await pull_rows(
            fetch,
            entity=entity,
            filter=filter,
            select=[f.strip() for f in fields] if fields else None,
            limit=limit,
            on_rows=on_rows,
            on_total=on_total,
            on_page=on_page,
        )
        self._stats["rows"] += len(rows)
        return rows

    async def _send(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None,
        json: Any,
    ) -> Page:
        attempted = f"{method} {path}"
        async with self._pacer.slot():
            started = time.perf_counter()
            try:
                response = await self._client().request(
                    method, path, params=params, json=json
                )
            except httpx.TransportError as exc:
                self._log(method, path, type(exc).__name__, started)
                raise transport_failure(exc, attempted) from exc
        self._log(method, path, str(response.status_code), started)

        if not response.is_success:
            raise error_from_response(response, attempted)
        return _page_from(response, attempted)

    def _log(self, method: str, path: str, outcome: str, started: float) -> None:
        self._stats["requests"] += 1
        elapsed_ms = (time.perf_counter() - started) * 1000
        logger.info("%s %s %s %.0f ms", method, path, outcome, elapsed_ms)

    def _note_error(self, error: Exception) -> None:
        self._stats["errors"] += 1
        if isinstance(error, RateLimitError) and error.status_code == 429:
            self._pacer.on_rate_limited(error.retry_after)

    def _note_retry(self, error: Exception, wait: float) -> None:
        self._stats["retries"] += 1

    def _client(self) -> httpx.AsyncClient:
        """The httpx client for the running loop, made on first use there.

        httpx clients are bound to the event loop they first ran on, so a
        client used from another loop gets a fresh one.
        """
        loop = asyncio.get_running_loop()
        if self._http is None or self._http_loop is not loop:
            self._http = httpx.AsyncClient(
                base_url=self.base_url,
                transport=self._transport,
                timeout=self._timeout,
                headers={
                    "X-Api-Key": self._api_key,
                    "Accept": "application/json",
                    "User-Agent": _USER_AGENT,
                },
            )
            self._http_loop = loop
        return self._http


def _page_from(response: httpx.Response, attempted: str) -> Page:
    if not response.content:
        return Page(None, {}, response.status_code)
    try:
        body = response.json()
    except ValueError:
        raise ServerError(
            f"{attempted} answered HTTP {response.status_code} with a body that "
            "is not JSON. Check the base URL (VIBE_BASE_URL): it should be the "
            "Vibe Platform, not a web page.",
            status_code=response.status_code,
        ) from None

    try:
        data, meta = unwrap(body)
    except APIError:
        raise error_from_body(
            body,
            attempted=attempted,
            status_code=response.status_code,
            headers=response.headers,
        ) from None
    return Page(data, meta, response.status_code)


def _checked_path(path: str) -> str:
    if "://" in path or path.startswith("//"):
        raise ConfigurationError(
            f"{path!r} is a full address; pass a platform path such as "
            "'/v1/deals' (the key is only sent to the client's base_url)."
        )
    return path if path.startswith("/") else f"/v1/{path}"


def _checked_entity(entity: str) -> str:
    name = entity.strip().strip("/")
    if not _ENTITY.match(name):
        raise ConfigurationError(
            f"{entity!r} is not an entity name. Use a name such as 'deals', "
            "'tasks' or 'deal-categories'."
        )
    return name


def _key_from_env() -> str:
    key = os.environ.get("VIBE_API_KEY", "").strip()
    if not key:
        raise ConfigurationError(
            "VIBE_API_KEY is not set. Set it to your vibe_api_... key (and "
            "VIBE_BASE_URL for a non-default platform), or build the client "
            "with Client(api_key=...)."
        )
    return key


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


_nested_loops: weakref.WeakSet[asyncio.AbstractEventLoop] = weakref.WeakSet()


def _allow_nesting(loop: asyncio.AbstractEventLoop) -> None:
    """Let ``loop.run_until_complete`` run inside ``loop``, once per loop."""
    if loop in _nested_loops:
        return
    import nest_asyncio2

    try:
        nest_asyncio2.apply(loop)
    except ValueError as exc:  # uvloop and other loops that cannot be patched
        raise ConfigurationError(
            f"The blocking Client cannot run inside this event loop ({exc}). "
            "Use `async with vn.AsyncClient(...) as c:` and `await` its methods."
        ) from exc
    _nested_loops.add(loop)


def _run_until_done(loop: asyncio.AbstractEventLoop, coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro`` on ``loop``; on Ctrl-C cancel it and let it clean up."""
    task = loop.create_task(coro)
    try:
        return loop.run_until_complete(task)
    except KeyboardInterrupt:
        if task.done():
            raise
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            loop.run_until_complete(task)  # a pull turns this into PullInterrupted
        raise


class Client(SyncResourcesMixin):
    """The blocking client: the same methods as AsyncClient, without await.

    It works in a plain script and inside a running event loop (a Jupyter
    cell, a widget callback). With no running loop it keeps one private
    event loop for its lifetime; inside a running loop it makes that loop
    re-entrant with nest-asyncio2, once, on first use.

    Parameters are those of :class:`AsyncClient`.

    Examples
    --------
    >>> with Client.from_env() as client:  # doctest: +SKIP
    ...     rows = client.pull("deals", limit=10)
    """

    def __init__(
        self,
        api_key: str | None = None,
        *,
        base_url: str | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = 30.0,
        max_in_flight: int = 4,
        requests_per_minute: float = 300,
        max_retries: int = 6,
        connection: Connection | None = None,
        pacer: Pacer | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        self._async = AsyncClient(
            api_key,
            base_url=base_url,
            transport=transport,
            timeout=timeout,
            max_in_flight=max_in_flight,
            requests_per_minute=requests_per_minute,
            max_retries=max_retries,
            connection=connection,
            pacer=pacer,
            retry=retry,
        )
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closed = False

    @classmethod
    def from_env(cls, **options: Any) -> Client:
        """Build a client from ``VIBE_API_KEY`` and ``VIBE_BASE_URL``."""
        return cls(_key_from_env(), **options)

    @classmethod
    def from_connection(cls, conn: Connection, **options: Any) -> Client:
        """Build a client from a Connection returned by ``exchange_code``."""
        return cls(conn.api_key, base_url=conn.base_url, connection=conn, **options)

    def __repr__(self) -> str:
        return (
            f"Client(base_url={self.base_url!r}, "
            f"api_key={mask_key(self._async._api_key)!r})"
        )

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def base_url(self) -> str:
        """The platform address requests go to."""
        return self._async.base_url

    @property
    def connection(self) -> Connection | None:
        """The Connection this client was built from, or None."""
        return self._async.connection

    @property
    def stats(self) -> dict[str, Any]:
        """Counts so far: requests, retries, errors, rows, pacing wait (s)."""
        return self._async.stats

    def close(self) -> None:
        """Close connections and the private event loop; safe to call twice."""
        if self._closed:
            return
        try:
            self._run(self._async.aclose())
        finally:
            self._closed = True
            if self._loop is not None:
                self._loop.close()
                self._loop = None

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
    ) -> Page:
        """Send one request; see :meth:`AsyncClient.request`."""
        return self._run(self._async.request(method, path, params=params, json=json))

    def get_json(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        """GET any platform path and return ``data``; see AsyncClient.get_json."""
        return self._run(self._async.get_json(path, params))

    def me(self) -> dict[str, Any]:
        """Return ``GET /v1/me``: the portal, the key's scopes and limits."""
        return self._run(self._async.me())

    def pull(
        self,
        entity: str,
        *,
        filter: Mapping[str, Any] | None = None,
        select: Sequence[str] | str | None = None,
        limit: int | None = None,
        on_rows: Callable[[int], Any] | None = None,
        on_total: Callable[[int], Any] | None = None,
        on_page: Callable[[list[dict[str, Any]]], Any] | None = None,
    ) -> list[dict[str, Any]]:
        """Return every matching row, in id order; see :meth:`AsyncClient.pull`."""
        return self._run(
            self._async.pull(
                entity,
                filter=filter,
                select=select,
                limit=limit,
                on_rows=on_rows,
                on_total=on_total,
                on_page=on_page,
            )
        )

    def _run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run a coroutine of the async client to completion and return it."""
        if self._closed:
            coro.close()
            raise ConfigurationError(
                "This Client is closed. Create a new one, e.g. vn.Client.from_env()."
            )

        running = _running_loop()
        if running is not None:
            _allow_nesting(running)
            return _run_until_done(running, coro)

        if self._loop is None or self._loop.is_closed():
            self._loop = asyncio.new_event_loop()
        return _run_until_done(self._loop, coro)
