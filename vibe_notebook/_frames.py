"""Records to typed, labelled DataFrames: one schema per entity, no I/O."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "DTYPES",
    "SCHEMAS",
    "TASK_STATUSES",
    "Lookups",
    "PagedFrame",
    "Pipeline",
    "Stage",
    "build_lookups",
    "column_types",
    "is_custom_field",
    "to_frame",
    "user_name",
    "with_default_pipeline",
]

logger = logging.getLogger(__name__)

# Field kinds and the dtype each becomes. "code" is a short platform code
# (stageId, sourceId, ...): a category keeps a million rows in one byte each.
DTYPES: dict[str, Any] = {
    "id": pd.Int64Dtype(),
    "int": pd.Int64Dtype(),
    "float": np.dtype("float64"),
    "money": np.dtype("float64"),
    "currency": "category",
    "code": "category",
    "datetime": pd.DatetimeTZDtype("us", "UTC"),
    "date": np.dtype("datetime64[us]"),
    "bool": pd.BooleanDtype(),
    "string": pd.StringDtype(na_value=np.nan),
    "object": np.dtype("object"),
}

_DEAL = {
    "id": "id",
    "title": "string",
    "amount": "money",
    "currency": "currency",
    "categoryId": "id",
    "stageId": "code",
    "previousStageId": "code",
    "stageSemanticId": "code",
    "assignedById": "id",
    "createdById": "id",
    "contactId": "id",
    "companyId": "id",
    "sourceId": "code",
    "leadId": "id",
    "probability": "int",
    "comments": "string",
    "opened": "bool",
    "closed": "bool",
    "createdAt": "datetime",
    "updatedAt": "datetime",
    "closedAt": "datetime",
    "begindate": "datetime",
    "movedTime": "datetime",
    "entityTypeId": "int",
}
_LEAD = {
    "id": "id",
    "title": "string",
    "name": "string",
    "lastName": "string",
    "statusId": "code",
    "statusSemanticId": "code",
    "sourceId": "code",
    "amount": "money",
    "currency": "currency",
    "assignedById": "id",
    "companyTitle": "string",
    "createdAt": "datetime",
    "updatedAt": "datetime",
    "closedAt": "datetime",
    "opened": "bool",
}
_CONTACT = {
    "id": "id",
    "name": "string",
    "lastName": "string",
    "secondName": "string",
    "post": "string",
    "companyId": "id",
    "assignedById": "id",
    "sourceId": "code",
    "typeId": "code",
    "birthdate": "date",
    "createdAt": "datetime",
    "updatedAt": "datetime",
    "opened": "bool",
    "fm": "object",
}
_COMPANY = {
    "id": "id",
    "title": "string",
    "companyType": "code",
    "industry": "code",
    "employees": "int",
    "revenue": "money",
    "currency": "currency",
    "assignedById": "id",
    "createdAt": "datetime",
    "updatedAt": "datetime",
    "opened": "bool",
}
# Tasks arrive with numbers as strings; the int and id kinds parse them.
# The platform's ``status`` code becomes ``statusId``; ``status`` is its name.
_TASK = {
    "id": "id",
    "title": "string",
    "description": "string",
    "statusId": "int",
    "priority": "int",
    "responsibleId": "id",
    "createdBy": "id",
    "groupId": "id",
    "deadline": "datetime",
    "createdDate": "datetime",
    "changedDate": "datetime",
    "closedDate": "datetime",
    "timeEstimate": "int",
    "timeSpentInLogs": "int",
    "allowTimeTracking": "bool",
}
_USER = {
    "id": "id",
    "active": "bool",
    "name": "string",
    "lastName": "string",
    "secondName": "string",
    "email": "string",
    "workPosition": "string",
    "departmentId": "id",
    "dateRegister": "datetime",
    "lastLogin": "datetime",
    "timeZone": "string",
    "userType": "code",
    "isAdmin": "bool",
    "personalPhoto": "string",
}
_PIPELINE = {
    "id": "id",
    "name": "string",
    "sort": "int",
    "isLocked": "bool",
    "isDefault": "bool",
    "createdAt": "datetime",
}
_STAGE = {
    "id": "id",
    "entityId": "code",
    "statusId": "string",
    "name": "string",
    "nameInit": "string",
    "sort": "int",
    "system": "bool",
    "color": "string",
    "semantics": "code",
    "categoryId": "id",
    "extra": "object",
}

SCHEMAS: dict[str, dict[str, str]] = {
    "deals": _DEAL,
    "leads": _LEAD,
    "contacts": _CONTACT,
    "companies": _COMPANY,
    "tasks": _TASK,
    "users": _USER,
    "pipelines": _PIPELINE,
    "stages": _STAGE,
}

# Fields the platform sends that the frame renames or drops. Contacts carry
# top-level PHONE and EMAIL that are always null (vibe-api.md §4.5): the
# numbers live in ``fm`` and are flattened into ``phone`` and ``email``.
_RENAMED: dict[str, dict[str, str]] = {"tasks": {"status": "statusId"}}
_DROPPED: dict[str, frozenset[str]] = {"contacts": frozenset({"PHONE", "EMAIL"})}

TASK_STATUSES: dict[int, str] = {
    1: "New",
    2: "Pending",
    3: "In progress",
    4: "Awaiting control",
    5: "Completed",
    6: "Deferred",
    7: "Declined",
}
_TASK_OPEN = (1, 2, 3)
_SEMANTICS = {"P": "open", "S": "won", "F": "lost"}
_SEMANTIC_ORDER = ["open", "won", "lost"]
DEFAULT_PIPELINE_NAME = "General"


@dataclass(frozen=True)
class Label:
    """A label column computed from ``source`` and placed right after it."""

    column: str
    source: str
    kind: str
    lookup: str = ""


_LABELS: dict[str, tuple[Label, ...]] = {
    "deals": (
        Label("pipeline", "categoryId", "pipeline"),
        Label("stage", "stageId", "stage"),
        Label("stageSemantic", "stageSemanticId", "semantic"),
        Label("assignedBy", "assignedById", "user"),
        Label("createdBy", "createdById", "user"),
        Label("source", "sourceId", "status", "SOURCE"),
    ),
    "leads": (
        Label("status", "statusId", "ordered_status", "STATUS"),
        Label("statusSemantic", "statusSemanticId", "semantic"),
        Label("source", "sourceId", "status", "SOURCE"),
        Label("assignedBy", "assignedById", "user"),
    ),
    "contacts": (
        Label("assignedBy", "assignedById", "user"),
        Label("source", "sourceId", "status", "SOURCE"),
        Label("type", "typeId", "status", "CONTACT_TYPE"),
        Label("phone", "fm", "phone"),
        Label("email", "fm", "email"),
    ),
    "companies": (
        Label("assignedBy", "assignedById", "user"),
        Label("type", "companyType", "status", "COMPANY_TYPE"),
        Label("industryName", "industry", "status", "INDUSTRY"),
    ),
    "tasks": (
        Label("status", "statusId", "task_status"),
        Label("overdue", "statusId", "overdue"),
        Label("responsible", "responsibleId", "user"),
        Label("creator", "createdBy", "user"),
    ),
    "users": (Label("fullName", "lastName", "full_name"),),
    "stages": (
        Label("pipeline", "categoryId", "pipeline"),
        Label("stageSemantic", "semantics", "stage_semantic"),
    ),
}

# Dtypes of the label columns, for documentation and the empty-frame tests.
_LABEL_DTYPES = {
    "stage": "category (ordered)",
    "ordered_status": "category (ordered)",
    "task_status": "category",
    "overdue": "boolean",
    "phone": "str",
    "email": "str",
    "full_name": "str",
}


# Lookups -------------------------------------------------------------------


@dataclass(frozen=True)
class Pipeline:
    """A deal pipeline (the platform's deal category)."""

    id: int
    name: str
    sort: int | None
    is_default: bool = False


@dataclass(frozen=True)
class Stage:
    """One stage of one pipeline; ``semantic`` is open, won or lost."""

    id: str
    name: str
    pipeline_id: int
    sort: int
    semantic: str


@dataclass(frozen=True)
class Lookups:
    """Names behind the ids and codes in records, fetched once per client."""

    pipelines: tuple[Pipeline, ...] = ()
    stages: tuple[Stage, ...] = ()
    users: Mapping[int, str] = field(default_factory=dict)
    statuses: Mapping[str, tuple[tuple[str, str], ...]] = field(default_factory=dict)
    currencies: tuple[str, ...] = ()

    def pipeline_names(self) -> dict[int, str]:
        names = {p.id: p.name for p in self.pipelines}
        names.setdefault(0, DEFAULT_PIPELINE_NAME)
        return names

    def stage_by_id(self) -> dict[str, Stage]:
        return {s.id: s for s in self.stages}

    def stages_of(self, pipeline_id: int) -> list[Stage]:
        return [s for s in self.stages if s.pipeline_id == pipeline_id]


def user_name(record: Mapping[str, Any]) -> str:
    """A user's display name: first and last name, else email, else the id."""
    parts = [record.get("name"), record.get("lastName")]
    name = " ".join(str(p).strip() for p in parts if p and str(p).strip())
    return name or str(record.get("email") or f"User {record.get('id')}")


def with_default_pipeline(categories: Iterable[Mapping[str, Any]]) -> list[dict]:
    """The deal categories plus the default pipeline (id 0) the list omits.

    The platform leaves category 0 out of /v1/deal-categories (vibe-api.md
    §2.2), so it is added as "General" unless the list did name it.
    """
    rows = [dict(c, isDefault=_as_int(c.get("id")) == 0) for c in categories]
    if not any(_as_int(r.get("id")) == 0 for r in rows):
        default = {"id": 0, "name": DEFAULT_PIPELINE_NAME, "sort": None}
        rows.insert(0, {**default, "isLocked": False, "isDefault": True})
    return rows


def build_lookups(
    *,
    categories: Iterable[Mapping[str, Any]] = (),
    statuses: Iterable[Mapping[str, Any]] = (),
    users: Iterable[Mapping[str, Any]] = (),
    currencies: Iterable[Mapping[str, Any]] = (),
) -> Lookups:
    """Turn raw deal-category, status, user and currency records into Lookups."""
    pipelines = _pipelines(with_default_pipeline(categories))
    statuses = list(statuses)
    order = {p.id: i for i, p in enumerate(pipelines)}
    stages = sorted(
        _stages(statuses), key=lambda s: (order.get(s.pipeline_id, 1e9), s.sort)
    )

    by_entity: dict[str, list[tuple[int, str, str]]] = {}
    for row in statuses:
        entry = (
            _as_int(row.get("sort")) or 0,
            str(row.get("statusId")),
            str(row.get("name")),
        )
        by_entity.setdefault(str(row.get("entityId")), []).append(entry)
    ordered = {
        e: tuple((s, str(n)) for _, s, n in sorted(v)) for e, v in by_entity.items()
    }

    money = sorted(
        currencies, key=lambda c: (_as_int(c.get("sort")) or 0, str(c.get("id")))
    )
    return Lookups(
        pipelines=tuple(pipelines),
        stages=tuple(stages),
        users={
            int(u["id"]): user_name(u)
            for u in users
            if _as_int(u.get("id")) is not None
        },
        statuses=ordered,
        currencies=tuple(str(c["id"]) for c in money),
    )


def _pipelines(rows: list[dict]) -> list[Pipeline]:
    pipelines = [
        Pipeline(
            int(r["id"]),
            str(r.get("name") or ""),
            _as_int(r.get("sort")),
            r["isDefault"],
        )
        for r in rows
    ]
    return sorted(pipelines, key=lambda p: (not p.is_default, p.sort or 0, p.id))


def _stages(statuses: list[Mapping[str, Any]]) -> list[Stage]:
    stages = []
    for row in statuses:
        entity = str(row.get("entityId") or "")
        if not entity.startswith("DEAL_STAGE"):
            continue
        pipeline = _as_int(row.get("categoryId"))
        if pipeline is None:
            pipeline = int(entity.rpartition("_")[2]) if entity[-1:].isdigit() else 0
        semantic = _SEMANTICS.get(str(row.get("semantics") or "P"), "open")
        sort = _as_int(row.get("sort")) or 0
        stages.append(
            Stage(str(row["statusId"]), str(row.get("name")), pipeline, sort, semantic)
        )
    return stages


def _as_int(value: Any) -> int | None:
    try:
        return None if value is None or value == "" else int(value)
    except (TypeError, ValueError):
        return None


# Schema ----------------------------------------------------------------------


def is_custom_field(name: str) -> bool:
    """True for the portal's own fields (``UF_CRM_*``, ``ufCrm*``), kept as sent."""
    return name.startswith(("UF_", "uf"))


def platform_fields(entity: str) -> list[str]:
    """The field names the platform uses for ``entity`` (for select and filter)."""
    renamed = {new: old for old, new in _RENAMED.get(entity, {}).items()}
    return [renamed.get(name, name) for name in SCHEMAS[entity]]


def column_types(entity: str) -> dict[str, str]:
    """Every column of ``entity``'s frame, in order, with its dtype as text."""
    types: dict[str, str] = {}
    labels = _LABELS.get(entity, ())
    for name, kind in SCHEMAS[entity].items():
        types[name] = str(DTYPES[kind])
        for label in (lb for lb in labels if lb.source == name):
            types[label.column] = _LABEL_DTYPES.get(label.kind, "category")
    return types


# Frame -------------------------------------------------------------------------


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
    schema = _schema_for(entity, select)
    records = _renamed(entity, records)
    extra = _extra_fields(entity, records, schema, select)

    columns: dict[str, Any] = {}
    for name, values in _extract(records, [*schema, *extra]):
        columns[name] = _convert(
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
        return _unknown_fields(entity, records, schema)
    renames = _RENAMED.get(entity, {})
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
        columns = {k: _in_zone(v, tz) for k, v in columns.items()}
    columns = _with_labels(entity, columns, lookups or Lookups(), now)
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
        self._schema = _schema_for(entity, self.select)
        self._pieces: dict[int, _Piece] = {}
        self._unreadable: set[str] = set()

    def add(self, rows: Sequence[Mapping[str, Any]]) -> None:
        """Convert one page of rows, as sent, to typed columns."""
        if not rows:
            return
        renamed = _renamed(self.entity, rows)
        columns: dict[str, Any] = {}
        for name, values in _extract(renamed, list(self._schema)):
            if name in self._unreadable:
                continue
            try:
                columns[name] = _convert_page(values, self._schema[name])
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
            columns[name] = _joined(parts, first)
        extra = self._extra_fields(records)
        for name, values in _extract(records, extra):
            columns[name] = _convert(values, "object", self.entity, name, lookups)
        self._pieces.clear()
        return _finished(self.entity, columns, lookups, tz, now)

    def __repr__(self) -> str:
        return f"PagedFrame({self.entity!r}, {len(self._pieces)} pages)"

    def _tiling(self, records: Sequence[Mapping[str, Any]]) -> list[_Piece] | None:
        """The pieces in the order of ``records``, if they cover it exactly."""
        if not records or self._unreadable:
            return None
        head = records[:1]
        renamed = _renamed(self.entity, head) is not head
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
        renames = _RENAMED.get(self.entity, {})
        raw = _unknown_fields(self.entity, records, self._schema)
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


def _convert_page(values: np.ndarray, kind: str) -> Any:
    """Convert one page's values; raises where :func:`_convert` would coerce."""
    if kind in ("code", "currency"):
        return _to_category(values)
    converter = _CONVERTERS.get(kind)
    if converter is None:
        return np.ascontiguousarray(values)
    return converter(values)


def _joined(parts: list[Any], first: Sequence[Any] = ()) -> Any:
    """One column from the pieces of its pages, typed as the pieces are."""
    sample = parts[0]
    if isinstance(sample, pd.Categorical):
        return _joined_categories(parts, first)
    if isinstance(sample, np.ndarray) and sample.dtype == object:
        # An explicit object Series: pandas would otherwise infer ``str``.
        return pd.Series(np.concatenate(parts), dtype=object, copy=False)
    if isinstance(sample, np.ndarray):
        return np.concatenate(parts)
    return pd.concat([pd.Series(p, copy=False) for p in parts]).array


def _joined_categories(parts: list[pd.Categorical], first: Sequence[Any]) -> Any:
    """Pages' categoricals as one: ``first``, then every other value sorted."""
    seen = dict.fromkeys(c for part in parts for c in part.categories)
    known = set(first)
    categories = [*first, *sorted((c for c in seen if c not in known), key=str)]
    codes = [
        _recode(np.asarray(part.codes), list(part.categories), categories).codes
        for part in parts
    ]
    return pd.Categorical.from_codes(
        np.concatenate(codes), categories=pd.Index(categories)
    )


def _schema_for(entity: str, select: Sequence[str] | None) -> dict[str, str]:
    if entity not in SCHEMAS:
        raise KeyError(f"No frame schema for {entity!r}; known: {sorted(SCHEMAS)}.")
    schema = SCHEMAS[entity]
    if select is None:
        return dict(schema)
    wanted = {_RENAMED.get(entity, {}).get(f, f) for f in select}
    return {name: kind for name, kind in schema.items() if name in wanted}


def _renamed(
    entity: str, records: Sequence[Mapping[str, Any]]
) -> Sequence[Mapping[str, Any]]:
    renames = _RENAMED.get(entity)
    if not renames or not records or not any(old in records[0] for old in renames):
        return records
    return [{renames.get(k, k): v for k, v in r.items()} for r in records]


def _unknown_fields(
    entity: str, records: Sequence[Mapping[str, Any]], schema: Mapping[str, str]
) -> list[str]:
    """Fields outside the schema, in the order the records first show them.

    Every row of one answer carries the same fields, so only rows whose field
    count differs from the first row's are read for further names.
    """
    if not records:
        return []
    first = records[0]
    seen = dict.fromkeys(first)
    for record in (r for r in records if len(r) != len(first)):
        seen.update(dict.fromkeys(record))
    dropped = _DROPPED.get(entity, frozenset())
    return [f for f in seen if f not in schema and f not in dropped]


def _extract(
    records: Sequence[Mapping[str, Any]], fields: list[str], group: int = 8
) -> Iterable[tuple[str, np.ndarray]]:
    """Yield each field's values as an object array, a few fields at a time.

    Reading several fields per pass over the records is about four times
    faster than one pass per field, and a group of eight keeps the scratch
    array small (eight pointers a row) where a whole-table array would not.
    """
    rows = records if isinstance(records, list) else list(records)
    for start in range(0, len(fields), group):
        names = fields[start : start + group]
        block = _dicts_to_array(rows, names)
        for j, name in enumerate(names):
            yield name, block[:, j]
        del block


def _dicts_to_array(rows: list[Any], names: list[str]) -> np.ndarray:
    if _fast_dicts_to_array is not None and all(type(r) is dict for r in rows[:1]):
        return _fast_dicts_to_array(rows, names)
    block = np.empty((len(rows), len(names)), dtype=object)
    for j, name in enumerate(names):
        block[:, j] = [r.get(name) for r in rows]
    return block


def _load_fast_extractor() -> Callable[[list[Any], list[str]], np.ndarray] | None:
    # pandas' own record reader (what DataFrame(records) uses) is private API;
    # fall back to plain Python when a pandas release moves it.
    try:
        from pandas._libs.lib import dicts_to_array  # type: ignore[attr-defined]
    except ImportError:  # pragma: no cover - depends on the pandas release
        return None
    return dicts_to_array  # type: ignore[no-any-return,unused-ignore]


_fast_dicts_to_array = _load_fast_extractor()


# Conversions -----------------------------------------------------------------


def _convert(
    values: np.ndarray, kind: str, entity: str, name: str, lookups: Lookups | None
) -> Any:
    if kind == "currency":
        return _to_category(values, first=lookups.currencies if lookups else ())
    converter = _CONVERTERS.get(kind)
    if converter is None:
        # An explicit object Series: pandas would otherwise infer ``str``.
        return pd.Series(np.ascontiguousarray(values), dtype=object, copy=False)
    try:
        return converter(values)
    except (TypeError, ValueError, OverflowError) as exc:
        logger.debug("coercing %s.%s value by value: %s", entity, name, exc)
        return _coerce_slowly(values, kind)


def _to_int(values: np.ndarray) -> pd.api.extensions.ExtensionArray:
    mask = pd.isna(values)
    if mask.any():
        values = values.copy()
        values[mask] = 0
    return pd.arrays.IntegerArray(values.astype(np.int64), mask)


def _to_float(values: np.ndarray) -> np.ndarray:
    return np.asarray(pd.to_numeric(values, errors="coerce"), dtype=np.float64)


def _to_datetime(values: np.ndarray) -> Any:
    parsed = pd.to_datetime(values, format="ISO8601", utc=True, errors="coerce")
    return parsed.as_unit("us").array


def _to_date(values: np.ndarray) -> np.ndarray:
    days = np.array([v[:10] if isinstance(v, str) else None for v in values])
    parsed = pd.to_datetime(pd.Index(days), format="%Y-%m-%d", errors="coerce")
    return np.asarray(parsed.as_unit("us"))


_TRUE = (True, "Y", "1", "true")
_FALSE = (False, "N", "0", "false")


def _to_bool(values: np.ndarray) -> pd.arrays.BooleanArray:
    truth = np.zeros(len(values), dtype=bool)
    known = np.zeros(len(values), dtype=bool)
    for token in _TRUE:
        hit = values == token
        truth |= hit
        known |= hit
    for token in _FALSE:
        known |= values == token
    return pd.arrays.BooleanArray(truth, ~known)


def _to_string(values: np.ndarray) -> Any:
    return pd.array(values, dtype=DTYPES["string"])


def _to_category(values: np.ndarray, first: Sequence[Any] = ()) -> pd.Categorical:
    """A categorical whose categories are ``first``, then the rest sorted."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    known = set(first)
    rest = sorted((u for u in uniques if u not in known), key=str)
    categories = [*first, *rest]
    return _recode(codes, list(uniques), categories)


def _recode(
    codes: np.ndarray, labels: list[Any], categories: list[Any], ordered: bool = False
) -> pd.Categorical:
    """Map factorized ``codes`` (of ``labels``) onto ``categories``."""
    position = {c: i for i, c in enumerate(categories)}
    remap = np.array([position.get(lb, -1) for lb in labels] + [-1], dtype=np.int32)
    return pd.Categorical.from_codes(
        remap[codes], categories=pd.Index(categories), ordered=ordered
    )


_CONVERTERS: dict[str, Callable[[np.ndarray], Any]] = {
    "id": _to_int,
    "int": _to_int,
    "float": _to_float,
    "money": _to_float,
    "code": _to_category,
    "datetime": _to_datetime,
    "date": _to_date,
    "bool": _to_bool,
    "string": _to_string,
}


def _coerce_slowly(values: np.ndarray, kind: str) -> Any:
    """Convert value by value; what cannot be read becomes missing."""
    if kind in ("id", "int"):
        numbers = pd.to_numeric(pd.Series(values, dtype=object), errors="coerce")
        whole = numbers.where(numbers == np.floor(numbers))
        return pd.array(whole.to_numpy(), dtype="Float64").astype("Int64")
    if kind in ("float", "money"):
        numbers = pd.to_numeric(pd.Series(values, dtype=object), errors="coerce")
        return np.asarray(numbers, dtype=np.float64)
    if kind in ("datetime", "date", "bool"):
        return pd.array([None] * len(values), dtype=DTYPES[kind])
    text = np.array([None if _is_missing(v) else str(v) for v in values], dtype=object)
    return _to_category(text) if kind in ("code", "currency") else _to_string(text)


def _is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value))


def _in_zone(values: Any, tz: str | dt.tzinfo) -> Any:
    if isinstance(getattr(values, "dtype", None), pd.DatetimeTZDtype):
        return values.tz_convert(tz)
    return values


# Labels ----------------------------------------------------------------------


def _with_labels(
    entity: str, columns: dict[str, Any], lookups: Lookups, now: dt.datetime | None
) -> dict[str, Any]:
    labels = [lb for lb in _LABELS.get(entity, ()) if lb.source in columns]
    if not labels:
        return columns
    made = {
        lb.column: _LABEL_MAKERS[lb.kind](columns, lb, lookups, now) for lb in labels
    }
    out: dict[str, Any] = {}
    for name, values in columns.items():
        out[name] = values
        for label in (lb for lb in labels if lb.source == name):
            out[label.column] = made[label.column]
    return out


def _label_user(
    columns: dict, label: Label, lookups: Lookups, now: Any
) -> pd.Categorical:
    codes, uniques = pd.factorize(columns[label.source])
    names = [lookups.users.get(int(u)) for u in uniques]
    return _recode(codes, names, sorted({n for n in names if n is not None}))


def _label_pipeline(
    columns: dict, label: Label, lookups: Lookups, now: Any
) -> pd.Categorical:
    codes, uniques = pd.factorize(columns[label.source])
    known = lookups.pipeline_names()
    names = [known.get(int(u), f"Pipeline {u}") for u in uniques]
    order = [p.name for p in lookups.pipelines] or [DEFAULT_PIPELINE_NAME]
    categories = list(dict.fromkeys([*order, *names]))
    return _recode(codes, names, categories)


def _label_stage(
    columns: dict, label: Label, lookups: Lookups, now: Any
) -> pd.Categorical:
    source: pd.Categorical = columns[label.source]
    by_id = lookups.stage_by_id()
    raw = [str(c) for c in source.categories]
    names = [by_id[c].name if c in by_id else c for c in raw]
    present = {by_id[c].pipeline_id for c in raw if c in by_id}
    pipelines = [p.id for p in lookups.pipelines if not raw or p.id in present]
    categories = _merged_stage_order(lookups, pipelines)
    categories += [n for n in dict.fromkeys(names) if n not in set(categories)]
    return _recode(np.asarray(source.codes), names, categories, ordered=True)


def _merged_stage_order(lookups: Lookups, pipeline_ids: list[int]) -> list[str]:
    """Stage names of several pipelines in one order that keeps each's order.

    Pipelines are taken in pipeline order, so the default pipeline's stages
    come first; a name not seen yet goes right after the name that precedes
    it in its own pipeline (a pipeline's first stage goes last), so names
    shared by pipelines ("New", "Won") stay one category.
    """
    order: list[str] = []
    for pipeline_id in pipeline_ids:
        previous: str | None = None
        for stage in lookups.stages_of(pipeline_id):
            if stage.name not in order:
                at = order.index(previous) + 1 if previous is not None else len(order)
                order.insert(at, stage.name)
            previous = stage.name
    return order


def _label_semantic(
    columns: dict, label: Label, lookups: Lookups, now: Any
) -> pd.Categorical:
    source: pd.Categorical = columns[label.source]
    names = [_SEMANTICS.get(str(c)) for c in source.categories]
    return _recode(np.asarray(source.codes), names, _SEMANTIC_ORDER)


def _label_stage_semantic(
    columns: dict, label: Label, lookups: Lookups, now: Any
) -> pd.Categorical:
    source: pd.Categorical = columns[label.source]
    names = [_SEMANTICS.get(str(c), "open") for c in source.categories] + ["open"]
    codes = np.asarray(source.codes).copy()
    codes[codes < 0] = len(names) - 1
    return _recode(codes, names, _SEMANTIC_ORDER)


def _label_status(
    columns: dict, label: Label, lookups: Lookups, now: Any
) -> pd.Categorical:
    source: pd.Categorical = columns[label.source]
    known = lookups.statuses.get(label.lookup, ())
    names_by_code = dict(known)
    raw = [str(c) for c in source.categories]
    names = [names_by_code.get(c, c) for c in raw]
    order = list(dict.fromkeys(name for _, name in known))
    categories = order + [n for n in dict.fromkeys(names) if n not in set(order)]
    ordered = label.kind == "ordered_status"
    return _recode(np.asarray(source.codes), names, categories, ordered=ordered)


def _label_task_status(
    columns: dict, label: Label, lookups: Lookups, now: Any
) -> pd.Categorical:
    codes, uniques = pd.factorize(columns[label.source])
    names = [TASK_STATUSES.get(int(u), f"Status {u}") for u in uniques]
    categories = list(dict.fromkeys([*TASK_STATUSES.values(), *names]))
    return _recode(codes, names, categories)


def _label_overdue(columns: dict, label: Label, lookups: Lookups, now: Any) -> Any:
    """Open (New, Pending, In progress) with a deadline before ``now``."""
    status = columns[label.source]
    deadline = columns.get("deadline")
    if deadline is None:
        return pd.array([pd.NA] * len(status), dtype="boolean")
    moment = pd.Timestamp(now or dt.datetime.now(dt.UTC))
    is_open = np.isin(np.asarray(status.fillna(0), dtype=np.int64), _TASK_OPEN)
    late = np.asarray(pd.Series(deadline).lt(moment).fillna(False), dtype=bool)
    return pd.arrays.BooleanArray(is_open & late, np.zeros(len(status), dtype=bool))


def _label_contact(kind: str) -> Callable[..., Any]:
    wanted = kind.upper()

    def primary(columns: dict, label: Label, lookups: Lookups, now: Any) -> Any:
        values = [_first_value(entries, wanted) for entries in columns[label.source]]
        return _to_string(np.array(values, dtype=object))

    return primary


def _first_value(entries: Any, type_id: str) -> str | None:
    if not isinstance(entries, list):
        return None
    for entry in entries:
        if isinstance(entry, dict) and entry.get("typeId") == type_id:
            return entry.get("value")
    return None


def _label_full_name(columns: dict, label: Label, lookups: Lookups, now: Any) -> Any:
    first = columns.get("name")
    last = columns[label.source]
    pairs = zip(first if first is not None else [None] * len(last), last, strict=True)
    names = [
        " ".join(p for p in (a, b) if isinstance(p, str) and p) or None
        for a, b in pairs
    ]
    return _to_string(np.array(names, dtype=object))


_LABEL_MAKERS: dict[str, Callable[[dict, Label, Lookups, Any], Any]] = {
    "user": _label_user,
    "pipeline": _label_pipeline,
    "stage": _label_stage,
    "semantic": _label_semantic,
    "stage_semantic": _label_stage_semantic,
    "status": _label_status,
    "ordered_status": _label_status,
    "task_status": _label_task_status,
    "overdue": _label_overdue,
    "phone": _label_contact("phone"),
    "email": _label_contact("email"),
    "full_name": _label_full_name,
}
