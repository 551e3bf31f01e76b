"""A getter's arguments checked and turned into the platform filter, before I/O."""

from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from ._fields import SCHEMAS, is_custom_field, platform_fields
from ._labels import column_types
from .errors import ConfigurationError

__all__ = ["LAST_MODIFIED", "PullPlan", "check_tz", "plan_pull"]

# The field since= / until= look at unless by= names another one.
LAST_MODIFIED: dict[str, str | None] = {
    "deals": "updatedAt",
    "leads": "updatedAt",
    "contacts": "updatedAt",
    "companies": "updatedAt",
    "tasks": "changedDate",
    "users": None,
}


@dataclass(frozen=True)
class PullPlan:
    """A getter's checked arguments, ready to send."""

    entity: str
    filter: dict[str, Any]
    select: list[str] | None
    limit: int | None
    tz: str | dt.tzinfo | None
    progress: bool | None


def plan_pull(
    entity: str,
    *,
    since: Any = None,
    until: Any = None,
    by: str | None = None,
    filter: Mapping[str, Any] | None = None,
    select: Sequence[str] | str | None = None,
    limit: int | None = None,
    tz: str | dt.tzinfo | None = None,
    progress: bool | None = None,
) -> PullPlan:
    """Check a getter's arguments and build the platform filter; no I/O.

    Raises
    ------
    ConfigurationError
        For any argument mistake, before a request is sent.
    """
    check_tz(tz)
    _check_limit(limit)
    if progress not in (True, False, None):
        raise ConfigurationError(
            f"progress={progress!r} is not understood. Pass True (always show "
            "a bar), False (never) or leave it out (a bar for slow pulls)."
        )
    merged = _merged_filter(entity, filter, _period(entity, since, until, by, tz))
    return PullPlan(
        entity, merged, _checked_select(entity, select), limit, tz, progress
    )


def check_tz(tz: Any) -> None:
    """Raise ConfigurationError unless ``tz`` is None or a zone pandas knows."""
    if tz is None:
        return
    try:
        pd.Timestamp(0, tz="UTC").tz_convert(tz)
    except Exception as exc:  # pandas raises several types for a bad zone
        raise ConfigurationError(
            f"tz={tz!r} is not a time zone pandas knows. Pass an IANA name such "
            "as 'Europe/Berlin' or 'UTC', or a datetime.tzinfo."
        ) from exc


def _check_limit(limit: Any) -> None:
    if limit is None:
        return
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise ConfigurationError(
            f"limit={limit!r} is not a row count. Pass a whole number of at "
            "least 1 (e.g. limit=100 for a quick sample), or leave it out."
        )


def _checked_select(
    entity: str, select: Sequence[str] | str | None
) -> list[str] | None:
    if select is None:
        return None
    fields = select.split(",") if isinstance(select, str) else list(select)
    fields = [str(f).strip() for f in fields if str(f).strip()]
    if not fields:
        raise ConfigurationError(
            f"select={select!r} names no field. Leave select out for every "
            f"field of {entity}, or name some, e.g. select=['id', 'title']."
        )
    known = platform_fields(entity)
    aliases = _frame_aliases(entity)
    fields = [aliases.get(f, f) for f in fields]
    unknown = [f for f in fields if f not in known and not is_custom_field(f)]
    if unknown:
        raise ConfigurationError(_unknown_field_message(entity, unknown, known))
    return list(dict.fromkeys(fields))


def _frame_aliases(entity: str) -> dict[str, str]:
    """Frame column names that stand for a differently named platform field."""
    return {
        col: field
        for col, field in zip(SCHEMAS[entity], platform_fields(entity), strict=True)
        if col != field
    }


def _unknown_field_message(entity: str, unknown: list[str], known: list[str]) -> str:
    labels = set(column_types(entity)) - set(SCHEMAS[entity])
    hints = []
    for name in unknown:
        if name in labels:
            hints.append(f"'{name}' is a label column: select its id field instead")
            continue
        close = difflib.get_close_matches(name, known, n=1)
        hints.append(f"did you mean '{close[0]}'?" if close else f"no '{name}'")
    return (
        f"select names fields {entity} do not have: {', '.join(map(repr, unknown))} "
        f"({'; '.join(hints)}). Known fields: {', '.join(known)}; custom "
        "fields (UF_CRM_*, ufCrm*) are accepted as well."
    )


def _period(
    entity: str, since: Any, until: Any, by: str | None, tz: Any
) -> dict[str, dict[str, str]]:
    field = _date_field(entity, by, wanted=since is not None or until is not None)
    ops: dict[str, str] = {}
    start = _moment(since, "since", tz)
    end = _moment(until, "until", tz)
    if start is not None and end is not None and start > end:
        raise ConfigurationError(
            f"since ({start.isoformat()}) is after until ({end.isoformat()}), so "
            "nothing could match. Swap them, or drop one of the two."
        )
    if start is not None:
        ops["$gte"] = _platform_time(start)
    if end is not None:
        ops["$lt"] = _platform_time(end)
    return {field: ops} if ops and field else {}


def _date_field(entity: str, by: str | None, *, wanted: bool) -> str | None:
    dates = [f for f, kind in SCHEMAS[entity].items() if kind in ("datetime", "date")]
    if by is None:
        field = LAST_MODIFIED.get(entity)
        if wanted and field is None:
            raise ConfigurationError(
                f"{entity} have no last-modified time, so since= and until= need "
                f"by= to name a date field: one of {', '.join(dates)}."
            )
        return field
    if by not in dates:
        raise ConfigurationError(
            f"by={by!r} is not a date field of {entity}. since= and until= can "
            f"look at: {', '.join(dates)}."
        )
    return by


def _moment(value: Any, name: str, tz: Any) -> pd.Timestamp | None:
    if value is None:
        return None
    readable = isinstance(value, str | dt.date | pd.Timestamp)
    try:
        moment = pd.Timestamp(value) if readable else None
    except (TypeError, ValueError):
        moment = None
    if moment is None or pd.isna(moment):
        raise ConfigurationError(
            f"{name}={value!r} is not a date or time. Pass a date such as "
            f"'2026-01-31', a time such as '2026-01-31T18:00:00Z', or a datetime."
        )
    if moment.tzinfo is None:
        moment = moment.tz_localize(tz or "UTC")
    return moment.tz_convert("UTC")


def _platform_time(moment: pd.Timestamp) -> str:
    """The platform's UTC form, ``2026-01-31T18:00:00.000Z``."""
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{moment.microsecond // 1000:03d}Z"


def _merged_filter(
    entity: str, filter: Mapping[str, Any] | None, period: dict[str, dict[str, str]]
) -> dict[str, Any]:
    if filter is not None and not isinstance(filter, Mapping):
        raise ConfigurationError(
            f"filter={filter!r} is not a dict. Pass the platform's filter as a "
            "dict, e.g. filter={'stageId': 'WON', 'amount': {'$gte': 1000}}."
        )
    merged = dict(filter or {})
    for field, ops in period.items():
        own = merged.get(field)
        if own is None:
            merged[field] = ops
            continue
        clash = set(own) & set(ops) if isinstance(own, Mapping) else {"="}
        if clash:
            raise ConfigurationError(
                f"filter already limits {field!r} ({own!r}) where since=/until= "
                f"do too ({ops!r}). Keep one of the two."
            )
        merged[field] = {**own, **ops}
    return merged
