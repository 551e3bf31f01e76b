"""Keyset paging by id, and large pulls split into id windows fetched at once.

Offset paging skips or repeats rows when records are added or deleted during
a pull, and the platform's ``meta.total`` / ``meta.hasMore`` cannot be trusted
(vibe-api.md §3.1). So every page asks for ``order[id]=asc`` and
``filter[id][$gt]=<last id seen>``, and a page shorter than asked for (or
empty) ends the walk. Meta is never read.

A large pull first reads a short sample page (a fifth of a page) and, at the
same time, the highest id (``order[id]=desc&limit=1``). The sample covers
every matching id from the lowest to its last one, so it tells how densely
the matching ids fill the range. The ids between the end of the sample and
the highest id are cut into windows that should each hold about one page of
rows: 5000 ids when ids are dense, wider when a filter leaves them sparse.
Each window is read with ``filter[id][$gte]=lo`` and ``filter[id][$lte]=hi``,
all windows concurrently (the client's pacer caps how many run at once). Ids
are unique integers, so a window of at most one page of ids is complete after
one request; a window that still returns a full page below its top is split
again above the last id seen, by the density that page showed. A last keyset
walk past the highest id picks up rows created during the pull.

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
from dataclasses import dataclass, field
from typing import Any

from .errors import PullInterrupted

__all__ = ["PAGE_SIZE", "filter_params", "keyset_walk", "pull_rows"]

logger = logging.getLogger(__name__)

PAGE_SIZE = 5000
# the sample page that opens a large pull: a fifth of a page is read in a
# fifth of the time, and is enough to judge how dense the ids are
SAMPLE_SHARE = 5
# most windows one range is cut into; wider windows split again if they
# overflow, and all of them queue under the client's in-flight limit
MAX_WINDOWS = 256
# sparse windows aim below a full page, so that a little more density
# than the estimate does not cost a second request
SPARSE_FILL = 0.9

Rows = list[dict[str, Any]]
Fetch = Callable[[dict[str, str]], Awaitable[Rows]]
OnRows = Callable[[int], Any]
OnTotal = Callable[[int], Any]
OnPage = Callable[[Rows], Any]

_RANGE_OPS = ("$gt", "$gte", "$lt", "$lte")


def filter_params(filter: Mapping[str, Any] | None) -> dict[str, str]:
    """Encode a filter dict as ``filter[...]`` query parameters."""
    params: dict[str, str] = {}
    for name, value in (filter or {}).items():
        if isinstance(value, Mapping):
            for op, operand in value.items():
                params[f"filter[{name}][{op}]"] = _encode(operand)
        elif isinstance(value, list | tuple | set | frozenset):
            params[f"filter[{name}][$in]"] = _encode(value)
        else:
            params[f"filter[{name}]"] = _encode(value)
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
    on_page: OnPage | None = None,
) -> None:
    """Append every row with ``start <= id <= upper`` (or ``id > after``) to sink.

    Rows go into ``sink`` page by page, so a caller that is interrupted still
    holds what arrived; ``on_page`` gets each page's rows, in id order, as it
    is added. Stops on a page shorter than asked for, once the last id
    reaches ``upper``, or once ``limit`` rows are in this walk.
    """
    taken = 0
    while limit is None or taken < limit:
        size = page_size if limit is None else min(page_size, limit - taken)
        ops = _bounds(start, after, upper)
        rows = await fetch(page_params(filter, select, limit=size, id_ops=ops))
        rows = _page(rows, size)

        _take(sink, rows, on_rows, on_page)
        taken += len(rows)
        if len(rows) < size or _reached(_row_id(rows[-1]), upper):
            return
        after, start = _row_id(rows[-1]), None


def _page(rows: Rows, size: int) -> Rows:
    _sort_by_id(rows)
    return rows[:size]


def _take(
    sink: Rows, rows: Rows, on_rows: OnRows | None, on_page: OnPage | None = None
) -> None:
    sink.extend(rows)
    if rows and on_page is not None:
        on_page(rows)
    if rows and on_rows is not None:
        on_rows(len(rows))


def _reached(last: Any, upper: Any) -> bool:
    """Whether a walk whose last id is ``last`` has covered ids up to ``upper``."""
    if upper is None:
        return False
    try:
        return bool(last >= upper)
    except TypeError:
        return False


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
    on_total: OnTotal | None = None,
    on_page: OnPage | None = None,
    page_size: int = PAGE_SIZE,
    max_windows: int = MAX_WINDOWS,
) -> Rows:
    """Return every row matching ``filter``, in id order, each exactly once.

    ``fetch(params)`` performs one list request and returns its rows. With
    ``limit`` only the first ``limit`` rows are read, in a single walk.
    ``on_rows(n)`` is called with the size of each batch as it arrives, and
    ``on_total(n)`` with an estimate of the rows to come once the highest id
    is known (exact when the ids are dense), then with the final count.
    ``on_page(rows)`` gets each page's rows (in id order within the page) as
    they arrive, in arrival order, so a caller can process them while later
    pages are still on the way; the returned list holds the same row objects.
    A filter on fixed ids is answered by one request and calls no
    ``on_page``.

    Raises
    ------
    PullInterrupted
        When the pull is cancelled (Ctrl-C, a cancelled task); ``.rows``
        holds the rows that arrived.
    """
    pull = _Pull(fetch, filter, select, page_size, max_windows, on_rows, on_page)
    if _has_point_id(filter):
        # a fixed id or id list: one page answers it, and keyset bounds
        # would fight the user's own id condition
        return await fetch(page_params(filter, select, limit=page_size))
    if limit is not None:
        if on_total is not None:
            on_total(limit)
        sink = pull.part(0)
        walk = keyset_walk(fetch, sink, **pull.options, limit=limit, **pull.callbacks)
        await _guarded(entity, [walk], pull)
        return sink[:limit]

    rows = await _pull_windows(pull, entity, on_total)
    if on_total is not None:
        on_total(len(rows))
    return rows


def _has_point_id(filter: Mapping[str, Any] | None) -> bool:
    value = (filter or {}).get("id")
    return value is not None and not isinstance(value, Mapping)


@dataclass
class _Pull:
    """One pull's settings and the parts its rows arrive in, keyed by id order."""

    fetch: Fetch
    filter: Mapping[str, Any] | None
    select: Sequence[str] | None
    page_size: int
    max_windows: int
    on_rows: OnRows | None
    on_page: OnPage | None = None
    parts: list[tuple[Any, Rows]] = field(default_factory=list)

    @property
    def options(self) -> dict[str, Any]:
        return {"filter": self.filter, "select": self.select}

    @property
    def callbacks(self) -> dict[str, Any]:
        return {"on_rows": self.on_rows, "on_page": self.on_page}

    def part(self, order: Any) -> Rows:
        """A new sink for rows that come after every part of lower ``order``."""
        sink: Rows = []
        self.parts.append((order, sink))
        return sink

    def rows(self) -> Rows:
        """Every row that arrived so far, in id order."""
        ordered = sorted(self.parts, key=lambda part: part[0])
        return [row for _, part in ordered for row in part]


async def _pull_windows(pull: _Pull, entity: str, on_total: OnTotal | None) -> Rows:
    sample_size = max(1, pull.page_size // SAMPLE_SHARE)
    sample = pull.part((0, 0))
    probe = page_params(pull.filter, ["id"], limit=1, order="desc")
    top: Rows = []
    first = keyset_walk(
        pull.fetch, sample, **pull.options, limit=sample_size, **pull.callbacks
    )
    await _guarded(entity, [first, _fetch_into(pull.fetch, probe, top)], pull)
    if len(sample) < sample_size:
        return sample

    lowest, last = _row_id(sample[0]), _row_id(sample[-1])
    highest = _row_id(top[0]) if top else last
    density = _density(len(sample), lowest, last)
    windows = _split(last, highest, _span(pull.page_size, density), pull.max_windows)
    if on_total is not None and windows:
        on_total(len(sample) + math.ceil((highest - last) * density))
    logger.debug("Pulling %s above id %s in %d windows", entity, last, len(windows))
    await _guarded(entity, [_walk_window(pull, lo, hi) for lo, hi in windows], pull)

    # rows created during the pull have ids above the highest one seen
    tail = pull.part((2, 0))
    after = highest if windows else last
    walk = keyset_walk(pull.fetch, tail, **pull.options, after=after, **pull.callbacks)
    await _guarded(entity, [walk], pull)
    return pull.rows()


async def _fetch_into(fetch: Fetch, params: dict[str, str], sink: Rows) -> None:
    sink.extend(await fetch(params))


async def _walk_window(pull: _Pull, lo: int, hi: int) -> None:
    """Read every row with ``lo <= id <= hi``, splitting the rest on overflow.

    A page shorter than asked for, or one whose last id reaches ``hi``, ends
    the window: ids are unique integers, so that page holds every row of it.
    """
    sink = pull.part((1, lo))
    size = pull.page_size
    ops = {"$gte": lo, "$lte": hi}
    rows = await pull.fetch(
        page_params(pull.filter, pull.select, limit=size, id_ops=ops)
    )
    rows = _page(rows, size)

    _take(sink, rows, pull.on_rows, pull.on_page)
    last = _row_id(rows[-1]) if rows else hi
    if len(rows) < size or not isinstance(last, int) or last >= hi:
        return

    # more rows than one page: cut the rest by the density this page showed
    span = _span(size, _density(len(rows), lo, last))
    rest = _split(last, hi, span, pull.max_windows)
    await _all([_walk_window(pull, a, b) for a, b in rest])


def _density(rows: int, lowest: Any, last: Any) -> float:
    """Share of the ids ``lowest..last`` that ``rows`` rows fill (1 if unknown)."""
    if not isinstance(lowest, int) or not isinstance(last, int) or last < lowest:
        return 1.0
    return min(1.0, rows / (last - lowest + 1))


def _span(page_size: int, density: float) -> int:
    """Ids a window spans to hold about one page of rows at ``density``."""
    if density >= 1.0:
        return page_size  # dense ids: exactly one full page, one request
    return max(page_size, math.floor(SPARSE_FILL * page_size / density))


def _split(
    last: Any, highest: Any, span: int, max_windows: int
) -> list[tuple[int, int]]:
    """Cut the ids ``last+1 .. highest`` into windows of ``span`` ids.

    With more than ``max_windows`` windows the span widens to keep that many.
    """
    if not isinstance(last, int) or not isinstance(highest, int):
        return []
    ids = highest - last
    if ids <= 0:
        return []

    step = max(span, math.ceil(ids / max(1, max_windows)))
    edges = range(last + 1, highest + 1, step)
    return [(lo, min(lo + step - 1, highest)) for lo in edges]


async def _all(walks: Sequence[Awaitable[Any]]) -> None:
    """Run walks concurrently; if one fails or all are cancelled, stop the rest."""
    tasks = [asyncio.ensure_future(walk) for walk in walks]
    try:
        await asyncio.gather(*tasks)
    except BaseException:
        await _stop(tasks)
        raise


async def _guarded(entity: str, walks: Sequence[Awaitable[Any]], pull: _Pull) -> None:
    """Run walks concurrently; on cancellation stop them all and keep rows."""
    try:
        await _all(walks)
    except (asyncio.CancelledError, KeyboardInterrupt) as exc:
        current = asyncio.current_task()
        if current is not None and isinstance(exc, asyncio.CancelledError):
            current.uncancel()
        rows = pull.rows()
        raise PullInterrupted(
            f"The pull of {entity} was interrupted after {len(rows):,} rows "
            "arrived. They are in the error's .rows attribute (in id order, "
            "possibly with gaps); run the cell again for a complete pull.",
            rows=rows,
        ) from exc


async def _stop(tasks: Sequence[asyncio.Future[Any]]) -> None:
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
