"""Lookups: the names behind record ids and codes (pipelines, stages, users...)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .errors import ConfigurationError

__all__ = [
    "DEFAULT_PIPELINE_NAME",
    "SEMANTICS",
    "Lookups",
    "Pipeline",
    "Stage",
    "build_lookups",
    "pipeline_id",
    "stage_list",
    "stage_pipeline",
    "stage_rows",
    "user_name",
    "with_default_pipeline",
]

# A stage's semantics code, and the word a frame shows for it.
SEMANTICS = {"P": "open", "S": "won", "F": "lost"}
DEFAULT_PIPELINE_NAME = "General"


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
        if not _is_stage(row):
            continue
        pipeline = stage_pipeline(row)
        semantic = SEMANTICS.get(str(row.get("semantics") or "P"), "open")
        sort = _as_int(row.get("sort")) or 0
        stages.append(
            Stage(str(row["statusId"]), str(row.get("name")), pipeline, sort, semantic)
        )
    return stages


def stage_rows(statuses: list[dict[str, Any]], lookups: Lookups) -> list[dict]:
    """The deal stage records among ``statuses``, in the order of ``lookups``."""
    order = {s.id: i for i, s in enumerate(lookups.stages)}
    rows = [r for r in statuses if _is_stage(r)]
    return sorted(rows, key=lambda r: order.get(str(r.get("statusId")), len(order)))


def stage_pipeline(row: Mapping[str, Any]) -> int:
    """A stage record's pipeline: its categoryId, else the id in DEAL_STAGE_<id>."""
    pipeline = _as_int(row.get("categoryId"))
    if pipeline is not None:
        return pipeline
    entity = str(row.get("entityId") or "")
    return int(entity.rpartition("_")[2]) if entity[-1:].isdigit() else 0


def stage_list(lookups: Lookups) -> list[dict[str, Any]]:
    """Every stage as a plain dict, in pipeline and stage order (for attrs)."""
    names = lookups.pipeline_names()
    return [
        {
            "id": s.id,
            "name": s.name,
            "pipelineId": s.pipeline_id,
            "pipeline": names.get(s.pipeline_id),
            "semantic": s.semantic,
        }
        for s in lookups.stages
    ]


def pipeline_id(lookups: Lookups, pipeline: int | str) -> int:
    """The id of ``pipeline``, given by id or name; ConfigurationError if unknown."""
    for p in lookups.pipelines:
        if pipeline in (p.id, p.name) or str(pipeline) == str(p.id):
            return p.id
    names = ", ".join(f"{p.id} ({p.name})" for p in lookups.pipelines)
    raise ConfigurationError(
        f"pipeline={pipeline!r} is not a pipeline of this portal. Pass one of: {names}."
    )


def _is_stage(row: Mapping[str, Any]) -> bool:
    return str(row.get("entityId") or "").startswith("DEAL_STAGE")


def _as_int(value: Any) -> int | None:
    try:
        return None if value is None or value == "" else int(value)
    except (TypeError, ValueError):
        return None
