"""Records to typed, labelled DataFrames, whole or page by page as a pull runs."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from ._columns import convert, convert_page, extract, in_zone, joined
from ._fields import renamed_fields, renamed_records, schema_for, unknown_fields
from ._labels import with_labels
from ._lookups import Lookups

__all__ = ["PagedFrame", "to_frame"]

logger = logging.getLogger(__name__)


def to_frame(
    entity: str,
    records: Sequence[Mapping[str, Any]],
    *,
    lookups: Lookups | None = None,
    select: Sequence[str] | None = None,
    tz: str | dt.tzinfo | None = None,
    now: dt.datetime | None = None,
) -> pd.DataFrame:
    """Build ``entity``'s typed, labelled frame from platform records.

    Columns come in schema order, each label column right after the field it
    names, then fields the schema does not know (custom ``UF_CRM_*`` fields),
    untouched. With ``select``, only those fields (and their labels) appear.
    An empty ``records`` gives the same columns and dtypes with no rows.
    """
    schema = schema_for(entity, select)
    records = renamed_records(entity, records)
    extra = _extra_fields(entity, records, schema, select)

    columns: dict[str, Any] = {}
    for name, values in extract(records, [*schema, *extra]):
        columns[name] = convert(
            values, schema.get(name, "object"), entity, name, lookups
        )
    return _finished(entity, columns, lookups, tz, now)


def _extra_fields(
    entity: str,
    records: Sequence[Mapping[str, Any]],
    schema: Mapping[str, str],
    select: Sequence[str] | None,
) -> list[str]:
    """The fields outside the schema that become columns of their own."""
    if select is None:
        return unknown_fields(entity, records, schema)
    renames = renamed_fields(entity)
    return [f for f in select if f not in schema and f not in renames]


def _finished(
    entity: str,
    columns: dict[str, Any],
    lookups: Lookups | None,
    tz: str | dt.tzinfo | None,
    now: dt.datetime | None,
) -> pd.DataFrame:
    """The frame of typed ``columns``: in ``tz``, with the label columns added."""
    if tz is not None:
        columns = {k: in_zone(v, tz) for k, v in columns.items()}
    columns = with_labels(entity, columns, lookups or Lookups(), now)
    return pd.DataFrame(columns, copy=False)


class PagedFrame:
    """A frame built while a pull runs: each page typed on arrival, joined once.

    ``add(rows)`` converts one page's schema fields to typed arrays (a few
    milliseconds for 5000 rows), so the work overlaps the wait for the pages
    still on the way. ``frame(records, ...)`` then joins the pieces in the
    order of ``records`` and adds what needs every row or the lookups: the
    fields outside the schema, the currency order, the time zone and the
    labels. The result equals ``to_frame(entity, records, ...)``; when the
    pages do not line up with ``records`` (a pull that called no
    ``on_page``, a page whose values needed coercing one by one), it is
    built by ``to_frame`` from ``records`` instead.

    Examples
    --------
    >>> paged = PagedFrame("deals")
    >>> rows = [{"id": 1, "title": "A"}, {"id": 2, "title": "B"}]
    >>> paged.add(rows)
    >>> paged.frame(rows).id.tolist()
    [1, 2]
    """

    def __init__(self, entity: str, *, select: Sequence[str] | None = None):
        self.entity = entity
        self.select = list(select) if select is not None else None
        self._schema = schema_for(entity, self.select)
        self._pieces: dict[int, _Piece] = {}
        self._unreadable: set[str] = set()

    def add(self, rows: Sequence[Mapping[str, Any]]) -> None:
        """Convert one page of rows, as sent, to typed columns."""
        if not rows:
            return
        renamed = renamed_records(self.entity, rows)
        columns: dict[str, Any] = {}
        for name, values in extract(renamed, list(self._schema)):
            if name in self._unreadable:
                continue
            try:
                columns[name] = convert_page(values, self._schema[name])
            except (TypeError, ValueError, OverflowError):
                self._unreadable.add(name)  # to_frame coerces it from all rows
        piece = _Piece(rows[0], rows[-1], len(rows), renamed is not rows, columns)
        self._pieces[id(rows[0])] = piece

    def frame(
        self,
        records: Sequence[Mapping[str, Any]],
        *,
        lookups: Lookups | None = None,
        tz: str | dt.tzinfo | None = None,
        now: dt.datetime | None = None,
    ) -> pd.DataFrame:
        """The typed, labelled frame of ``records``, every row of the pull."""
        pieces = self._tiling(records)
        if pieces is None:
            logger.debug("%s pages do not match the rows: typing them whole", self)
            return to_frame(
                self.entity,
                records,
                lookups=lookups,
                select=self.select,
                tz=tz,
                now=now,
            )

        columns: dict[str, Any] = {}
        for name, kind in self._schema.items():
            parts = [piece.columns.pop(name) for piece in pieces]
            first = lookups.currencies if lookups and kind == "currency" else ()
            columns[name] = joined(parts, first)
        extra = self._extra_fields(records)
        for name, values in extract(records, extra):
            columns[name] = convert(values, "object", self.entity, name, lookups)
        self._pieces.clear()
        return _finished(self.entity, columns, lookups, tz, now)

    def __repr__(self) -> str:
        return f"PagedFrame({self.entity!r}, {len(self._pieces)} pages)"

    def _tiling(self, records: Sequence[Mapping[str, Any]]) -> list[_Piece] | None:
        """The pieces in the order of ``records``, if they cover it exactly."""
        if not records or self._unreadable:
            return None
        head = records[:1]
        renamed = renamed_records(self.entity, head) is not head
        ordered: list[_Piece] = []
        at = 0
        while at < len(records):
            piece = self._pieces.get(id(records[at]))
            if piece is None or piece.first is not records[at]:
                return None
            end = at + piece.rows - 1
            if end >= len(records) or records[end] is not piece.last:
                return None
            if piece.renamed != renamed:
                return None
            ordered.append(piece)
            at = end + 1
        return ordered

    def _extra_fields(self, records: Sequence[Mapping[str, Any]]) -> list[str]:
        """The fields outside the schema, named as in the frame and in records."""
        if self.select is not None:
            return _extra_fields(self.entity, records, self._schema, self.select)
        renames = renamed_fields(self.entity)
        raw = unknown_fields(self.entity, records, self._schema)
        # a renamed field is in the schema under its new name
        return [f for f in raw if renames.get(f, f) not in self._schema]


@dataclass
class _Piece:
    """One page's typed schema columns, and the rows it came from."""

    first: Mapping[str, Any]
    last: Mapping[str, Any]
    rows: int
    renamed: bool
    columns: dict[str, Any]
