"""Typed columns from raw record values: one builder per field kind."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ._fields import DTYPES

if TYPE_CHECKING:
    from ._lookups import Lookups

__all__ = [
    "convert",
    "convert_page",
    "extract",
    "in_zone",
    "joined",
    "recode",
    "to_string",
]

logger = logging.getLogger(__name__)


# Reading -----------------------------------------------------------------------


def extract(
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


def convert(
    values: np.ndarray, kind: str, entity: str, name: str, lookups: Lookups | None
) -> Any:
    """``values`` as a column of ``kind``; what cannot be read becomes missing."""
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


def to_string(values: np.ndarray) -> Any:
    """``values`` as a pandas string array, missing values as NaN."""
    return pd.array(values, dtype=DTYPES["string"])


def _to_category(values: np.ndarray, first: Sequence[Any] = ()) -> pd.Categorical:
    """A categorical whose categories are ``first``, then the rest sorted."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    known = set(first)
    rest = sorted((u for u in uniques if u not in known), key=str)
    categories = [*first, *rest]
    return recode(codes, list(uniques), categories)


def recode(
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
    "string": to_string,
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
    return _to_category(text) if kind in ("code", "currency") else to_string(text)


def _is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value))


def in_zone(values: Any, tz: str | dt.tzinfo) -> Any:
    """A UTC datetime column converted to ``tz``; any other column as it is."""
    if isinstance(getattr(values, "dtype", None), pd.DatetimeTZDtype):
        return values.tz_convert(tz)
    return values


# Joining pages ---------------------------------------------------------------


def convert_page(values: np.ndarray, kind: str) -> Any:
    """Convert one page's values; raises where :func:`convert` would coerce."""
    if kind in ("code", "currency"):
        return _to_category(values)
    converter = _CONVERTERS.get(kind)
    if converter is None:
        return np.ascontiguousarray(values)
    return converter(values)


def joined(parts: list[Any], first: Sequence[Any] = ()) -> Any:
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
        recode(np.asarray(part.codes), list(part.categories), categories).codes
        for part in parts
    ]
    return pd.Categorical.from_codes(
        np.concatenate(codes), categories=pd.Index(categories)
    )
