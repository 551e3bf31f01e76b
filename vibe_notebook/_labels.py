"""Label columns: names placed beside the ids and codes they stand for."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ._columns import recode, to_string
from ._fields import DTYPES, SCHEMAS
from ._lookups import DEFAULT_PIPELINE_NAME, SEMANTICS, Lookups

__all__ = ["TASK_STATUSES", "column_types", "with_labels"]

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
_SEMANTIC_ORDER = ["open", "won", "lost"]


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


def column_types(entity: str) -> dict[str, str]:
    """Every column of ``entity``'s frame, in order, with its dtype as text."""
    types: dict[str, str] = {}
    labels = _LABELS.get(entity, ())
    for name, kind in SCHEMAS[entity].items():
        types[name] = str(DTYPES[kind])
        for label in (lb for lb in labels if lb.source == name):
            types[label.column] = _LABEL_DTYPES.get(label.kind, "category")
    return types


def with_labels(
    entity: str, columns: dict[str, Any], lookups: Lookups, now: dt.datetime | None
) -> dict[str, Any]:
    """``columns`` with ``entity``'s label columns, each right after its source."""
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
    return recode(codes, names, sorted({n for n in names if n is not None}))


def _label_pipeline(
    columns: dict, label: Label, lookups: Lookups, now: Any
) -> pd.Categorical:
    codes, uniques = pd.factorize(columns[label.source])
    known = lookups.pipeline_names()
    names = [known.get(int(u), f"Pipeline {u}") for u in uniques]
    order = [p.name for p in lookups.pipelines] or [DEFAULT_PIPELINE_NAME]
    categories = list(dict.fromkeys([*order, *names]))
    return recode(codes, names, categories)


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
    return recode(np.asarray(source.codes), names, categories, ordered=True)


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
    names = [SEMANTICS.get(str(c)) for c in source.categories]
    return recode(np.asarray(source.codes), names, _SEMANTIC_ORDER)


def _label_stage_semantic(
    columns: dict, label: Label, lookups: Lookups, now: Any
) -> pd.Categorical:
    source: pd.Categorical = columns[label.source]
    names = [SEMANTICS.get(str(c), "open") for c in source.categories] + ["open"]
    codes = np.asarray(source.codes).copy()
    codes[codes < 0] = len(names) - 1
    return recode(codes, names, _SEMANTIC_ORDER)


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
    return recode(np.asarray(source.codes), names, categories, ordered=ordered)


def _label_task_status(
    columns: dict, label: Label, lookups: Lookups, now: Any
) -> pd.Categorical:
    codes, uniques = pd.factorize(columns[label.source])
    names = [TASK_STATUSES.get(int(u), f"Status {u}") for u in uniques]
    categories = list(dict.fromkeys([*TASK_STATUSES.values(), *names]))
    return recode(codes, names, categories)


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
        return to_string(np.array(values, dtype=object))

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
    return to_string(np.array(names, dtype=object))


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
