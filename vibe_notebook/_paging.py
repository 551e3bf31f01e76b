"""Keyset paging by id, and large pulls split into id windows fetched at once.

Offset paging skips or repeats rows when records are added or deleted during
a pull, and the platform's ``meta.total`` / ``meta.hasMore`` cannot be trusted
(vibe-api.md §3.1). So every page asks for ``order[id]=asc`` and
``filter[id][$gt]=<last id seen>``, and a page shorter than asked for (or
empty) ends the walk. Meta is never read.

A large pull first reads one full page and, at the same time, the highest id
(``order[id]=desc&limit=1``). The ids between the end of that page and the
highest id are cut into windows, each walked with ``filter[id][$gte]=lo`` and
``filter[id][$lte]=hi`` concurrently (the client's pacer caps how many run at
once). A last keyset walk past the highest id picks up rows created during
the pull. The first page stands in for a separate ``limit=1`` probe of the
lowest id, saving a request, and a pull that fits in one page costs at most
two requests.

Filters go out in the platform's bracket form: ``{"stageId": "NEW"}`` as
``filter[stageId]=NEW``, ``{"amount": {"$gte": 100}}`` as
``filter[amount][$gte]=100``; a list is sent comma-joined (as ``$in`` when
no operator is given), booleans as ``true``/``false``, None as ``null``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from .errors import PullInterrupted

__all__ = ["PAGE_SIZE", "filter_params", "keyset_walk", "pull_rows"]

logger = logging.getLogger(__name__)

PAGE_SIZE = 5000
MAX_WINDOWS = 16

Rows = list[dict[str, Any]]
Fetch = Callable[[dict[str, str]], Awaitable[Rows]]
OnRows = Callable[[int], Any]

_RANGE_OPS = ("$gt", "$gte", "$lt", "$lte")


def filter_params(filter: Mapping[str, Any] | None) -> dict[str, str]:
    """Encode a filter dict as ``filter[...]`` query parameters."""
    params: dict[str, str] = {}
    for field, value in (filter or {}).items():
        if isinstance(value, Mapping):
            for op, operand in value.items():
                params[f"filter[{field}][{op}]"] = _encode(operand)
        elif isinstance(value, list | tuple | set | frozenset):
            params[f"filter[{field}][$in]"] = _encode(value)
        else:
            params[f"filter[{field}]"] = _encode(value)
    return params


def _encode(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, list | tuple | set | frozenset):
        return ",".join(_encode(item) for item in value)
    return str(value)


def page_params(
    filter: Mapping[str, Any] | None,
    select: Sequence[str] | None,
    *,
    limit: int,
    order: str = "asc",
    id_ops: Mapping[str, Any] | None = None,
) -> dict[str, str]:
    """Build the query of one keyset page."""
    params = {"limit": str(limit), "order[id]": order}
    if select:
        fields = list(dict.fromkeys(["id", *select]))
        params["select"] = ",".join(fields)
    params.update(filter_params(_with_id_ops(filter, id_ops or {})))
    return params


def _with_id_ops(
    filter: Mapping[str, Any] | None, ops: Mapping[str, Any]
) -> dict[str, Any]:
    """Add id bounds to the user's filter, keeping the tighter of the two."""
    merged = dict(filter or {})
    if not ops:
        return merged

    own = merged.get("id")
    combined = dict(own) if isinstance(own, Mapping) else {}
    for op, value in ops.items():
        if op in combined and op in ("$gt", "$gte"):
            combined[op] = max(_as_id(combined[op]), value)
        elif op in combined and op in ("$lt", "$lte"):
            combined[op] = min(_as_id(combined[op]), value)
        else:
            combined[op] = value
    merged["id"] = combined
    return merged


def _as_id(value: Any) -> Any:
    try:
        return int(value)
    except (TypeError, ValueError):
        return value


def _row_id(row: Mapping[str, Any]) -> Any:
    return _as_id(row.get("id"))


def _sort_by_id(rows: Rows) -> None:
    with contextlib.suppress(TypeError):  # mixed id types: keep the order
        rows.sort(key=_row_id)


async def keyset_walk(
    fetch: Fetch,
    sink: Rows,
    *,
    filter: Mapping[str, Any] | None = None,
    select: Sequence[str] | None = None,
    start: Any = None,
    after: Any = None,
    upper: Any = None,
    page_size: int = PAGE_SIZE,
    limit: int | None = None,
    on_rows: OnRows | None = None,
) -> None:
    """Append every row with ``start <= id <= upper`` (or ``id > after``) to sink.

    Rows go into ``sink`` page by page, so a caller that is interrupted still
    holds what arrived. Stops on a page shorter than asked for, or once
    ``limit`` rows are in this walk.
    """
    taken = 0
    while limit is None or taken < limit:
        size = page_size if limit is None else min(page_size, limit - taken)
        ops = _bounds(start, after, upper)
        rows = await fetch(page_params(filter, select, limit=size, id_ops=ops))
        _sort_by_id(rows)
        rows = rows[:size]

        sink.extend(rows)
        taken += len(rows)
        if rows and on_rows is not None:
            on_rows(len(rows))
        if len(rows) < size:
            return
        after, start = _row_id(rows[-1]), None


def _bounds(start: Any, after: Any, upper: Any) -> dict[str, Any]:
    ops: dict[str, Any] = {}
    if after is not None:
        ops["$gt"] = after
    elif start is not None:
        ops["$gte"] = start
    if upper is not None:
        ops["$lte"] = upper
    return ops


async def pull_rows(
    fetch: Fetch,
    *,
    entity: str = "rows",
    filter: Mapping[str, Any] | None = None,
    select: Sequence[str] | None = None,
    limit: int | None = None,
    on_rows: OnRows | None = None,
    page_size: int = PAGE_SIZE,
    max_windows: int = MAX_WINDOWS,
) -> Rows:
    """Return every row matching ``filter``, in id order, each exactly once.

    ``fetch(params)`` performs one list request and returns its rows. With
    ``limit`` only the first ``limit`` rows are read, in a single walk.

    Raises
    ------
    PullInterrupted
        When the pull is cancelled (Ctrl-C, a cancelled task); ``.rows``
        holds the rows that arrived.
    """
    options: dict[str, Any] = {"filter": filter, "select": select}
    if _has_point_id(filter):
        # a fixed id or id list: one page answers it, and keyset bounds
        # would fight the user's own id condition
        return await fetch(page_params(filter, select, limit=page_size))
    if limit is not None:
        sink: Rows = []
        await _guarded(
            entity,
            [keyset_walk(fetch, sink, **options, limit=limit, on_rows=on_rows)],
            [sink],
        )
        return sink[:limit]

    return await _pull_windows(
        fetch, entity, options, on_rows, page_size=page_size, max_windows=max_windows
    )


def _has_point_id(filter: Mapping[str, Any] | None) -> bool:
    value = (filter or {}).get("id")
    return value is not None and not isinstance(value, Mapping)


async def _pull_windows(
    fetch: Fetch,
    entity: str,
    options: dict[str, Any],
    on_rows: OnRows | None,
    *,
    page_size: int,
    max_windows: int,
) -> Rows:
    first: Rows = []
    top: Rows = []
    probe = page_params(options["filter"], ["id"], limit=1, order="desc")
    await _guarded(
        entity,
        [
            keyset_walk(fetch, first, **options, limit=page_size, on_rows=on_rows),
            _fetch_into(fetch, probe, top),
        ],
        [first],
    )
    if len(first) < page_size:
        return first

    last = _row_id(first[-1])
    highest = _row_id(top[0]) if top else last
    windows = _split(last, highest, page_size, max_windows)
    logger.debug("Pulling %s above id %s in %d windows", entity, last, len(windows))

    sinks: list[Rows] = [[] for _ in windows]
    tail: Rows = []
    walks = [
        keyset_walk(fetch, sink, **options, start=lo, upper=hi, on_rows=on_rows)
        for (lo, hi), sink in zip(windows, sinks, strict=True)
    ]
    await _guarded(entity, walks, [first, *sinks])

    # rows created during the pull have ids above the highest one seen
    after = highest if windows else last
    tail_walk = keyset_walk(fetch, tail, **options, after=after, on_rows=on_rows)
    await _guarded(entity, [tail_walk], [first, *sinks, tail])
    return [row for part in (first, *sinks, tail) for row in part]


async def _fetch_into(fetch: Fetch, params: dict[str, str], sink: Rows) -> None:
    sink.extend(await fetch(params))


def _split(
    last: Any, highest: Any, page_size: int, max_windows: int
) -> list[tuple[int, int]]:
    """Cut the ids ``last+1 .. highest`` into windows of about equal span."""
    if not isinstance(last, int) or not isinstance(highest, int):
        return []
    span = highest - last
    if span <= 0:
        return []

    count = max(1, min(max_windows, math.ceil(span / page_size)))
    step = math.ceil(span / count)
    edges = range(last + 1, highest + 1, step)
    return [(lo, min(lo + step - 1, highest)) for lo in edges]


async def _guarded(
    entity: str, walks: Sequence[Awaitable[Any]], parts: Sequence[Rows]
) -> None:
    """Run walks concurrently; on cancellation stop them all and keep rows."""
    tasks = [asyncio.ensure_future(walk) for walk in walks]
    try:
        await asyncio.gather(*tasks)
    except (asyncio.CancelledError, KeyboardInterrupt) as exc:
        await _stop(tasks)
        current = asyncio.current_task()
        if current is not None and isinstance(exc, asyncio.CancelledError):
            current.uncancel()
        rows = [row for part in parts for row in part]
        raise PullInterrupted(
            f"The pull of {entity} was interrupted after {len(rows):,} rows "
            "arrived. They are in the error's .rows attribute (in id order, "
            "possibly with gaps); run the cell again for a complete pull.",
            rows=rows,
        ) from exc
    except BaseException:
        await _stop(tasks)
        raise


async def _stop(tasks: Sequence[asyncio.Future[Any]]) -> None:
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
