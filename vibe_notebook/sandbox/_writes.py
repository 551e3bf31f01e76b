"""Create and update records the way the portal would: defaults, derived fields."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

from ._data_words import LEAD_STATUSES, iso, stage_ids
from ._filters import as_datetime, as_int, bad_params
from ._schema import EntitySpec, Field
from ._state import Portal, Row

_LEAD_SEMANTICS = {code: sem for code, _, sem, _ in LEAD_STATUSES}
_fm_ids = itertools.count(10_000_000)


def new_record(
    spec: EntitySpec, portal: Portal, body: Any, *, user_id: int, now: float
) -> Row:
    """A new row from a create body, with the defaults the portal fills in."""
    changes = _changes(spec, body)
    stamp = iso(now)
    base = _DEFAULTS[spec.name](portal, user_id, stamp)
    row = {name: base.get(name) for name in spec.fields if name != "id"}
    row.update(changes)
    _DERIVE.get(spec.name, _nothing)(row, None, stamp)
    return row


def updated_record(spec: EntitySpec, old: Row, body: Any, *, now: float) -> Row:
    """The row after a PATCH: a new dict, the old one stays untouched."""
    changes = _changes(spec, body)
    stamp = iso(now)
    row = {**old, **changes}
    row[_UPDATED.get(spec.name, "updatedAt")] = stamp
    _DERIVE.get(spec.name, _nothing)(row, old, stamp)
    return row


def _changes(spec: EntitySpec, body: Any) -> Row:
    """Writable fields of a body, typed; unknown and read-only ones dropped.

    Bitrix24 ignores fields it does not know or may not change, and so does
    the sandbox (vibe-api.md §4.2 notes the same for search bodies).
    """
    if isinstance(body, dict) and set(body) == {"fields"}:
        body = body["fields"]
    if not isinstance(body, dict):
        raise bad_params("The body must be a JSON object of field: value pairs.")
    changes: Row = {}
    for key, value in body.items():
        name = spec.resolve(str(key))
        if name is None or spec.fields[name].read_only:
            continue
        changes[name] = _value(spec.fields[name], value)
    return changes


def _value(field: Field, value: Any) -> Any:
    if value is None or (value == "" and field.kind != "str"):
        return [] if field.kind == "list" else None
    try:
        return _WRITE[field.kind](value)
    except (TypeError, ValueError):
        raise bad_params(
            f"Value {value!r} does not fit field {field.name} ({field.type})."
        ) from None


def _as_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().upper()
    if text in ("Y", "TRUE", "1"):
        return True
    if text in ("N", "FALSE", "0"):
        return False
    raise ValueError(value)


def _as_list(value: Any) -> list[Any]:
    items = value if isinstance(value, list) else [value]
    return [_fm_item(item) if isinstance(item, dict) else str(item) for item in items]


def _fm_item(item: dict[str, Any]) -> dict[str, Any]:
    if "value" not in item:
        raise ValueError(item)
    return {
        "id": int(item.get("id") or next(_fm_ids)),
        "typeId": str(item.get("typeId", "PHONE")).upper(),
        "valueType": str(item.get("valueType", "WORK")).upper(),
        "value": str(item["value"]),
    }


def _as_date(value: Any) -> str:
    return as_datetime(value)[:10]


_WRITE: dict[str, Callable[[Any], Any]] = {
    "int": as_int,
    "float": float,
    "bool": _as_bool,
    "datetime": as_datetime,
    "date": _as_date,
    "str": str,
    "list": _as_list,
}


# ------------------------------------------------------------- defaults


def _base_currency(portal: Portal) -> str:
    for row in portal.tables["currencies"].values():
        if row.get("base"):
            return str(row["id"])
    return "RUB"


def _deal_defaults(portal: Portal, user_id: int, stamp: str) -> Row:
    next_id = portal.tables["deals"].next_id()
    return {
        "title": f"Deal #{next_id}",
        "amount": 0.0,
        "currency": _base_currency(portal),
        "categoryId": 0,
        "assignedById": user_id,
        "createdById": user_id,
        "probability": None,
        "opened": True,
        "createdAt": stamp,
        "updatedAt": stamp,
        "begindate": stamp[:10] + "T00:00:00.000Z",
        "movedTime": stamp,
        "entityTypeId": 2,
    }


def _lead_defaults(portal: Portal, user_id: int, stamp: str) -> Row:
    next_id = portal.tables["leads"].next_id()
    return {
        "title": f"Lead #{next_id}",
        "statusId": "NEW",
        "sourceId": "OTHER",
        "amount": 0.0,
        "currency": _base_currency(portal),
        "assignedById": user_id,
        "createdAt": stamp,
        "updatedAt": stamp,
        "opened": True,
    }


def _contact_defaults(portal: Portal, user_id: int, stamp: str) -> Row:
    return {
        "name": "",
        "assignedById": user_id,
        "typeId": "CLIENT",
        "sourceId": "OTHER",
        "createdAt": stamp,
        "updatedAt": stamp,
        "opened": True,
        "fm": [],
    }


def _company_defaults(portal: Portal, user_id: int, stamp: str) -> Row:
    next_id = portal.tables["companies"].next_id()
    return {
        "title": f"Company #{next_id}",
        "companyType": "CUSTOMER",
        "currency": _base_currency(portal),
        "assignedById": user_id,
        "createdAt": stamp,
        "updatedAt": stamp,
        "opened": True,
    }


def _task_defaults(portal: Portal, user_id: int, stamp: str) -> Row:
    return {
        "description": "",
        "status": 2,
        "priority": 1,
        "responsibleId": user_id,
        "createdBy": user_id,
        "groupId": 0,
        "createdDate": stamp,
        "changedDate": stamp,
        "timeEstimate": 0,
        "timeSpentInLogs": 0,
        "allowTimeTracking": "N",
        "ufCrmTask": [],
    }


_DEFAULTS: dict[str, Callable[[Portal, int, str], Row]] = {
    "deals": _deal_defaults,
    "leads": _lead_defaults,
    "contacts": _contact_defaults,
    "companies": _company_defaults,
    "tasks": _task_defaults,
}
_UPDATED = {"tasks": "changedDate"}


# -------------------------------------------------------------- derived


def _nothing(row: Row, old: Row | None, stamp: str) -> None:
    return None


def _derive_deal(row: Row, old: Row | None, stamp: str) -> None:
    """Keep pipeline, stage, semantics and close time consistent."""
    stage = row.get("stageId")
    if (
        old is None
        or stage != old.get("stageId")
        or row["categoryId"] != old.get("categoryId")
    ):
        row["categoryId"], row["stageId"], semantic = _stage_of(
            row.get("categoryId"), stage, old
        )
        row["stageSemanticId"] = semantic
        row["closed"] = semantic != "P"
        if old is not None and row["stageId"] != old["stageId"]:
            row["previousStageId"] = old["stageId"]
            row["movedTime"] = stamp
        if row["closed"] and not (old and old.get("closed")):
            row["closedAt"] = row.get("closedAt") or stamp
        if not row["closed"]:
            row["closedAt"] = None
    if row.get("probability") is None:
        row["probability"] = {"S": 100, "F": 0}.get(row["stageSemanticId"], 10)


def _stage_of(
    category: int | None, stage: str | None, old: Row | None
) -> tuple[int, str, str]:
    """Pipeline, stage and semantics; a newly set stage names its pipeline."""
    moved = bool(stage) and (old is None or stage != old.get("stageId"))
    if moved and stage:
        prefix = stage.split(":", 1)[0] if ":" in stage else ""
        category = int(prefix[1:]) if prefix[1:].isdigit() else 0
    category = 0 if category is None else category
    if category not in (0, 1, 2):
        raise bad_params(f"No pipeline with categoryId {category}.")
    stages = stage_ids(category)
    if not moved:
        stage = stages[0][0]
    for stage_id, _, semantic in stages:
        if stage_id == stage:
            return category, stage_id, semantic or "P"
    known = ", ".join(s[0] for s in stages)
    raise bad_params(
        f"Stage {stage} is not in pipeline {category}. Its stages: {known}."
    )


def _derive_lead(row: Row, old: Row | None, stamp: str) -> None:
    status = row.get("statusId")
    if status not in _LEAD_SEMANTICS:
        known = ", ".join(_LEAD_SEMANTICS)
        raise bad_params(f"Unknown lead statusId {status}. Known: {known}.")
    semantic = _LEAD_SEMANTICS[status]
    row["statusSemanticId"] = semantic or "P"
    closed_now = semantic is not None
    was_closed = bool(old and old.get("statusSemanticId") != "P")
    if closed_now and not was_closed:
        row["closedAt"] = stamp
    elif not closed_now:
        row["closedAt"] = None


def _derive_task(row: Row, old: Row | None, stamp: str) -> None:
    if not row.get("title"):
        raise bad_params("A task needs a title.")
    if row.get("status") not in range(1, 8):
        raise bad_params(f"Task status must be 1..7, got {row.get('status')}.")
    if row["status"] == 5 and not (old and old.get("status") == 5):
        row["closedDate"] = stamp
    elif row["status"] != 5:
        row["closedDate"] = None


_DERIVE: dict[str, Callable[[Row, Row | None, str], None]] = {
    "deals": _derive_deal,
    "leads": _derive_lead,
    "tasks": _derive_task,
}
