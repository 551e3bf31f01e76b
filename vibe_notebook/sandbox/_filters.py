"""Filters, sorting and paging of entity rows, as the platform parses them."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from ._schema import EntitySpec, Field
from ._state import Row, SandboxHTTPError, Table

MAX_LIMIT = 5000
DEFAULT_LIMIT = 50

# The operator list exactly as the platform's error message spells it.
SUPPORTED = "$gt, $gte, $lt, $lte, $ne, $contains, $in, $nin, >, >=, <, <=, !, %, !="
_OPERATORS = {
    "$gt": "$gt",
    "$gte": "$gte",
    "$lt": "$lt",
    "$lte": "$lte",
    "$ne": "$ne",
    "$contains": "$contains",
    "$in": "$in",
    "$nin": "$nin",
    ">": "$gt",
    ">=": "$gte",
    "<": "$lt",
    "<=": "$lte",
    "!": "$ne",
    "!=": "$ne",
    "%": "$contains",
    "=": "$eq",
}
# Bitrix prefixes written in front of a field name, longest first. ``@`` and
# ``!@`` (IN, NOT IN) come from crm.item.list and work here too.
_PREFIXES = [
    ("!@", "$nin"),
    (">=", "$gte"),
    ("<=", "$lte"),
    ("!=", "$ne"),
    ("!%", "$ncontains"),
    ("=%", "$contains"),
    ("%=", "$contains"),
    ("@", "$in"),
    (">", "$gt"),
    ("<", "$lt"),
    ("!", "$ne"),
    ("%", "$contains"),
    ("=", "$eq"),
]
_BRACKETS = re.compile(r"\[([^\]]*)\]")


def bad_params(message: str, **extra: Any) -> SandboxHTTPError:
    return SandboxHTTPError(400, "INVALID_PARAMS", message, **extra)


@dataclass(frozen=True)
class Condition:
    """One test on one field: ``field op value`` with a typed value."""

    field: str
    op: str
    value: Any


@dataclass
class Query:
    """A parsed list or search request."""

    conditions: list[Condition] = field(default_factory=list)
    order: list[tuple[str, bool]] = field(default_factory=list)
    select: list[str] | None = None
    limit: int = DEFAULT_LIMIT
    offset: int = 0
    requested_limit: int = DEFAULT_LIMIT


@dataclass
class Result:
    """One page of rows and what is known about the rest."""

    rows: list[Row]
    has_more: bool
    truncated: bool
    total: int | None = None


# ---------------------------------------------------------------- parsing


def query_from_params(spec: EntitySpec, params: Iterable[tuple[str, str]]) -> Query:
    """Parse ``limit``, ``offset``, ``select``, ``order[...]``, ``filter[...]``."""
    items = list(params)
    single = {key: value for key, value in items}
    query = Query()
    _set_paging(query, single.get("limit"), single.get("offset"))
    if single.get("select"):
        query.select = _select(spec, single["select"].split(","))
    query.order = _order(spec, _bracketed(items, "order"))
    query.conditions = parse_filter(spec, _filter_tree(items))
    return query


def query_from_body(spec: EntitySpec, body: dict[str, Any]) -> Query:
    """Parse a search body: filter, select, order (or sort), limit, offset."""
    query = Query()
    _set_paging(query, body.get("limit"), body.get("offset"))
    select = body.get("select")
    if isinstance(select, str):
        select = select.split(",")
    if select:
        query.select = _select(spec, [str(name) for name in select])
    order = body.get("order") or body.get("sort") or {}
    if not isinstance(order, dict):
        raise bad_params('\'order\' must be an object such as {"id": "asc"}.')
    query.order = _order(spec, [(str(k), str(v)) for k, v in order.items()])
    query.conditions = parse_filter(spec, body.get("filter") or {})
    return query


def _set_paging(query: Query, limit: Any, offset: Any) -> None:
    requested = _whole(limit, "limit", DEFAULT_LIMIT)
    if requested < 1:
        raise bad_params(f"limit must be at least 1, got {requested}.")
    query.requested_limit = requested
    query.limit = min(requested, MAX_LIMIT)
    query.offset = _whole(offset, "offset", 0)
    if query.offset < 0:
        raise bad_params(f"offset must not be negative, got {query.offset}.")


def _whole(value: Any, name: str, default: int) -> int:
    if value is None or value == "":
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        raise bad_params(f"{name} must be a whole number, got {value!r}.") from None


def _select(spec: EntitySpec, names: list[str]) -> list[str] | None:
    names = [name.strip() for name in names if name.strip()]
    if "*" in names:
        return None
    chosen = []
    for name in names:
        resolved = spec.resolve(name)
        if resolved is None:
            raise _unknown_field(spec, "field in select", name)
        chosen.append(resolved)
    if "id" not in chosen:
        chosen.insert(0, "id")
    return chosen


def _bracketed(items: list[tuple[str, str]], root: str) -> list[tuple[str, str]]:
    found = []
    for key, value in items:
        if key.startswith(root + "["):
            parts = _BRACKETS.findall(key[len(root) :])
            if len(parts) == 1:
                found.append((parts[0], value))
    return found


def _order(spec: EntitySpec, pairs: list[tuple[str, str]]) -> list[tuple[str, bool]]:
    order = []
    for name, direction in pairs:
        resolved = spec.resolve(name)
        if resolved is None:
            raise bad_params(
                f"Unknown field in order: {name}.", details={"field": name}
            )
        if direction.lower() not in ("asc", "desc"):
            raise bad_params(f"order[{name}] must be asc or desc, got {direction!r}.")
        if spec.fields[resolved].kind in ("list", "object"):
            raise bad_params(f"Cannot sort by {name}: it holds several values.")
        order.append((resolved, direction.lower() == "desc"))
    return order


def _filter_tree(items: list[tuple[str, str]]) -> dict[str, Any]:
    """``filter[a][$gte]=1&filter[b][]=2`` -> ``{"a": {"$gte": "1"}, "b": [...]}``."""
    tree: dict[str, Any] = {}
    for key, value in items:
        if not key.startswith("filter["):
            continue
        parts = _BRACKETS.findall(key[len("filter") :])
        if not parts:
            continue
        name, rest = parts[0], parts[1:]
        if not rest:
            tree[name] = value
        elif rest == [""]:
            tree.setdefault(name, []).append(value)
        else:
            ops = tree.setdefault(name, {})
            if not isinstance(ops, dict):
                ops = tree[name] = {"=": ops}
            if rest[1:] == [""]:
                ops.setdefault(rest[0], []).append(value)
            else:
                ops[rest[0]] = value
    return tree


def parse_filter(spec: EntitySpec, tree: Any) -> list[Condition]:
    """Turn a filter object into typed conditions, or raise the platform error."""
    if not isinstance(tree, dict):
        raise bad_params("'filter' must be an object of field: value pairs.")
    conditions = []
    for key, value in tree.items():
        op, name = _split_prefix(str(key))
        field_ = _filter_field(spec, name)
        if isinstance(value, dict):
            for op_name, operand in value.items():
                conditions.append(_condition(field_, _operator(op_name), operand))
        elif isinstance(value, list) and op in ("$eq", "$ne"):
            inverse = "$in" if op == "$eq" else "$nin"
            conditions.append(_condition(field_, inverse, value))
        else:
            conditions.append(_condition(field_, op, value))
    return conditions


def _split_prefix(key: str) -> tuple[str, str]:
    for prefix, op in _PREFIXES:
        if key.startswith(prefix) and len(key) > len(prefix):
            return op, key[len(prefix) :]
    return "$eq", key


def _filter_field(spec: EntitySpec, name: str) -> Field:
    resolved = spec.resolve(name)
    if resolved is None:
        raise _unknown_field(spec, "filter field", name)
    return spec.fields[resolved]


def _unknown_field(spec: EntitySpec, what: str, name: str) -> SandboxHTTPError:
    return bad_params(
        f"Unknown {what}: {name}. See GET /v1/{spec.name}/fields for the field list.",
        details={"field": name},
    )


def _operator(name: Any) -> str:
    op = _OPERATORS.get(str(name))
    if op is None or op == "$eq":
        raise SandboxHTTPError(
            400,
            "INVALID_FILTER_OPERATOR",
            f"Unknown filter operator: {name}. Supported: {SUPPORTED}",
        )
    return op


def _condition(field_: Field, op: str, operand: Any) -> Condition:
    if field_.kind == "object":
        raise bad_params(f"Cannot filter on {field_.name}.")
    if op in ("$in", "$nin"):
        values = operand.split(",") if isinstance(operand, str) else operand
        if not isinstance(values, list):
            values = [values]
        typed = frozenset(_typed(field_, v) for v in values)
        return Condition(field_.name, op, typed)
    return Condition(field_.name, op, _typed(field_, operand))


def _typed(field_: Field, value: Any) -> Any:
    """A filter value converted to the type the field's values have."""
    if value is None or value == "":
        return None
    if isinstance(value, (dict, list)):
        raise bad_params(f"Filter value for {field_.name} must be a single value.")
    try:
        return _COERCE[field_.kind](value)
    except (TypeError, ValueError):
        raise bad_params(
            f"Filter value {value!r} does not fit field {field_.name} ({field_.type})."
        ) from None


def as_int(value: Any) -> int:
    """An int from an int, an integral float or a numeric string; never a bool."""
    if isinstance(value, bool):
        raise ValueError(value)
    if isinstance(value, float) and not value.is_integer():
        raise ValueError(value)
    return int(value)


def _as_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "y", "1", "yes"):
        return True
    if text in ("false", "n", "0", "no"):
        return False
    raise ValueError(value)


def as_datetime(value: Any) -> str:
    """Any ISO date or datetime as the platform's UTC ``...000Z`` form."""
    text = str(value).strip()
    if len(text) == 10:
        return text + "T00:00:00.000Z"
    moment = dt.datetime.fromisoformat(text.replace(" ", "T"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _as_date(value: Any) -> str:
    text = str(value).strip()
    return dt.date.fromisoformat(text[:10]).isoformat()


def _as_list_item(value: Any) -> str:
    return str(value)


_COERCE: dict[str, Callable[[Any], Any]] = {
    "int": as_int,
    "float": float,
    "bool": _as_bool,
    "datetime": as_datetime,
    "date": _as_date,
    "str": str,
    "list": _as_list_item,
}


# ------------------------------------------------------------- evaluation


def _element(item: Any) -> Any:
    return item.get("value") if isinstance(item, dict) else item


_POSITIVE = {"$ne": "$eq", "$nin": "$in", "$ncontains": "$contains"}


def _test(condition: Condition, kind: str) -> Callable[[Any], bool]:
    """A predicate on one field's value."""
    op, want = condition.op, condition.value
    if op in _POSITIVE:
        positive = _test(Condition(condition.field, _POSITIVE[op], want), kind)
        return lambda x: not positive(x)
    if kind == "list":
        return _list_test(op, want)
    if op == "$eq" and want is None:
        return _is_empty
    if op == "$contains":
        needle = str(want or "").lower()
        return lambda x: x is not None and needle in str(x).lower()
    return _COMPARE[op](want)


def _is_empty(value: Any) -> bool:
    return value is None or value == ""


_COMPARE: dict[str, Callable[[Any], Callable[[Any], bool]]] = {
    "$eq": lambda want: lambda x: x == want,
    "$in": lambda want: lambda x: x in want,
    "$gt": lambda want: lambda x: x is not None and want is not None and x > want,
    "$gte": lambda want: lambda x: x is not None and want is not None and x >= want,
    "$lt": lambda want: lambda x: x is not None and want is not None and x < want,
    "$lte": lambda want: lambda x: x is not None and want is not None and x <= want,
}


def _values(row_value: Any) -> list[str]:
    return [str(_element(item)) for item in row_value or []]


def _list_test(op: str, want: Any) -> Callable[[Any], bool]:
    """Predicates on fields holding several values (fm, ufCrmTask)."""
    if op == "$contains":
        needle = str(want or "").lower()
        return lambda x: any(needle in value.lower() for value in _values(x))
    if op == "$in":
        return lambda x: any(value in want for value in _values(x))
    if op == "$eq":
        if want is None:
            return lambda x: not _values(x)
        return lambda x: want in _values(x)
    raise bad_params(f"Operator {op} does not apply to a field with several values.")


def predicate(spec: EntitySpec, conditions: list[Condition]) -> Callable[[Row], bool]:
    """One function testing every condition against a row."""
    tests = [(c.field, _test(c, spec.fields[c.field].kind)) for c in conditions]
    if not tests:
        return lambda row: True
    if len(tests) == 1:
        name, test = tests[0]
        return lambda row: test(row.get(name))
    return lambda row: all(test(row.get(name)) for name, test in tests)


# ----------------------------------------------------------------- paging


def execute(
    spec: EntitySpec, table: Table, query: Query, *, count: bool = False
) -> Result:
    """Run a query against a table, reading as little of it as it can.

    Conditions on ``id`` narrow the scan by bisection over the sorted ids, so
    a keyset page (``id > X``, ordered by id) reads only the rows it returns.
    ``count`` asks for the number of all matching rows (a full scan).
    """
    with table.lock:
        if table.int_ids:
            span, rest = _id_span(table, query.conditions)
        else:
            span, rest = (0, len(table)), list(query.conditions)
        by_id = not query.order or query.order == [("id", query.order[0][1])]
        descending = bool(query.order) and query.order[0][1]
        if not by_id:
            return _sorted_page(table, span, predicate(spec, rest), query)
        if not rest:
            return _slice_page(table, span, query, descending)
        test = predicate(spec, rest)
        return _keyset_page(table, span, test, query, descending, count)


def _slice_page(
    table: Table, span: tuple[int, int], query: Query, descending: bool
) -> Result:
    """Every row in the span matches: take the page by position."""
    start, stop = span
    matched = stop - start
    if descending:
        first = max(stop - query.offset - query.limit, start)
        positions = range(stop - query.offset - 1, first - 1, -1)
    else:
        positions = range(
            start + query.offset, min(stop, start + query.offset + query.limit)
        )
    more = matched > query.offset + query.limit
    return Result(
        [table.row_at(p) for p in positions],
        has_more=more,
        truncated=more and query.requested_limit > MAX_LIMIT,
        total=matched,
    )


def _id_span(
    table: Table, conditions: list[Condition]
) -> tuple[tuple[int, int], list[Condition]]:
    low: int | None = None
    high: int | None = None
    rest = []
    for c in conditions:
        if (
            c.field != "id"
            or c.value is None
            or c.op not in ("$gt", "$gte", "$lt", "$lte", "$eq")
        ):
            rest.append(c)
            continue
        if c.op in ("$gt", "$gte", "$eq"):
            bound = c.value + (c.op == "$gt")
            low = bound if low is None else max(low, bound)
        if c.op in ("$lt", "$lte", "$eq"):
            bound = c.value - (c.op == "$lt")
            high = bound if high is None else min(high, bound)
    return table.span(low, high), rest


def _positions(span: tuple[int, int], descending: bool) -> Iterator[int]:
    start, stop = span
    return iter(range(stop - 1, start - 1, -1) if descending else range(start, stop))


def _keyset_page(
    table: Table,
    span: tuple[int, int],
    test: Callable[[Row], bool],
    query: Query,
    descending: bool,
    count: bool,
) -> Result:
    rows: list[Row] = []
    matched = 0
    wanted = query.offset + query.limit
    row_at = table.row_at
    for position in _positions(span, descending):
        row = row_at(position)
        if not test(row):
            continue
        matched += 1
        if matched > wanted:
            if not count:
                break
        elif matched > query.offset:
            rows.append(row)
    more = matched > wanted
    return Result(
        rows,
        has_more=more,
        truncated=more and query.requested_limit > MAX_LIMIT,
        total=matched if count else None,
    )


def _sorted_page(
    table: Table, span: tuple[int, int], test: Callable[[Row], bool], query: Query
) -> Result:
    matched = [row for row in map(table.row_at, range(*span)) if test(row)]
    for name, descending in reversed(query.order):
        matched.sort(key=_sort_key(name), reverse=descending)
    end = query.offset + query.limit
    more = len(matched) > end
    return Result(
        matched[query.offset : end],
        has_more=more,
        truncated=more and query.requested_limit > MAX_LIMIT,
        total=len(matched),
    )


def _sort_key(name: str) -> Callable[[Row], tuple[bool, Any]]:
    # Empty values first when ascending, as MySQL orders NULLs under Bitrix.
    def key(row: Row) -> tuple[bool, Any]:
        value = row.get(name)
        return (value is not None, value if value is not None else 0)

    return key
