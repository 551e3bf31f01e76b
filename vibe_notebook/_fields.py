"""The fields of each entity's frame: their kinds, the dtypes, what is renamed."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "DTYPES",
    "SCHEMAS",
    "is_custom_field",
    "platform_fields",
    "renamed_fields",
    "renamed_records",
    "schema_for",
    "unknown_fields",
]

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


def is_custom_field(name: str) -> bool:
    """True for the portal's own fields (``UF_CRM_*``, ``ufCrm*``), kept as sent."""
    return name.startswith(("UF_", "uf"))


def platform_fields(entity: str) -> list[str]:
    """The field names the platform uses for ``entity`` (for select and filter)."""
    renamed = {new: old for old, new in renamed_fields(entity).items()}
    return [renamed.get(name, name) for name in SCHEMAS[entity]]


def renamed_fields(entity: str) -> dict[str, str]:
    """The platform fields ``entity``'s frame renames: platform name to column."""
    return _RENAMED.get(entity, {})


def schema_for(entity: str, select: Sequence[str] | None) -> dict[str, str]:
    """``entity``'s fields and kinds, only those ``select`` names if given."""
    if entity not in SCHEMAS:
        raise KeyError(f"No frame schema for {entity!r}; known: {sorted(SCHEMAS)}.")
    schema = SCHEMAS[entity]
    if select is None:
        return dict(schema)
    wanted = {renamed_fields(entity).get(f, f) for f in select}
    return {name: kind for name, kind in schema.items() if name in wanted}


def renamed_records(
    entity: str, records: Sequence[Mapping[str, Any]]
) -> Sequence[Mapping[str, Any]]:
    """``records`` with fields named as the frame names them; as is if none."""
    renames = _RENAMED.get(entity)
    if not renames or not records or not any(old in records[0] for old in renames):
        return records
    return [{renames.get(k, k): v for k, v in r.items()} for r in records]


def unknown_fields(
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
