"""Deals, made in seeded chunks: all at once, or on demand when there are many."""

from __future__ import annotations

import random
from collections.abc import Callable
from functools import lru_cache
from typing import TYPE_CHECKING

from ._data_rows import created_time, draw_amount, pick, pick_currency, seeded_rng
from ._data_words import DAY, DEAL_COMMENTS, PRODUCTS, REGIONS, SOURCES, iso, stage_ids
from ._state import Row, Table

if TYPE_CHECKING:
    from ._data import Context, PortalPlan

_CHUNK = 1024  # deals are generated in chunks, each from its own seed


def deal_table(plan: PortalPlan, ctx: Context) -> Table:
    """The deals table: built eagerly, or generated on demand when large."""
    maker = _DealMaker(plan, ctx)
    if plan.deals > plan.eager_limit:
        return Table(factory=maker.deal, size=plan.deals)
    rows: list[Row] = []
    for start in range(1, plan.deals + 1, _CHUNK):
        rows.extend(maker.chunk(start // _CHUNK)[: plan.deals - start + 1])
    return Table(rows)


class _DealMaker:
    """Makes deals chunk by chunk; a chunk always comes out the same."""

    def __init__(self, plan: PortalPlan, ctx: Context):
        self.plan = plan
        self.ctx = ctx
        self.chunk: Callable[[int], list[Row]] = lru_cache(maxsize=64)(self._chunk)

    def deal(self, deal_id: int) -> Row:
        return self.chunk((deal_id - 1) // _CHUNK)[(deal_id - 1) % _CHUNK]

    def _chunk(self, index: int) -> list[Row]:
        rng = seeded_rng(self.plan.seed, self.plan.domain, f"deals-{index}")
        first = index * _CHUNK + 1
        return [self._deal(rng, deal_id) for deal_id in range(first, first + _CHUNK)]

    def _deal(self, rng: random.Random, deal_id: int) -> Row:
        plan, ctx = self.plan, self.ctx
        category = rng.choices((0, 1, 2), (0.6, 0.25, 0.15))[0]
        created = created_time(rng, plan.anchor)
        stage, previous, closed_at, moved = _stage_path(rng, category, created, plan)
        currency = pick_currency(rng, ctx)
        assigned = pick(rng, ctx.sales)
        semantic = stage[2] or "P"
        updated = moved + (plan.anchor - moved) * rng.random() ** 4
        return {
            "id": deal_id,
            "title": f"{pick(rng, PRODUCTS)} for {pick(rng, ctx.company_names)}",
            "amount": draw_amount(rng, currency),
            "currency": currency,
            "categoryId": category,
            "stageId": stage[0],
            "previousStageId": previous,
            "stageSemanticId": semantic,
            "assignedById": assigned,
            "createdById": assigned if rng.random() < 0.7 else pick(rng, ctx.sales),
            "contactId": rng.randint(1, ctx.contacts) if rng.random() < 0.85 else None,
            "companyId": rng.randint(1, ctx.companies) if rng.random() < 0.6 else None,
            "sourceId": pick(rng, SOURCES)[0],
            "leadId": _lead_ref(rng, ctx),
            "probability": _probability(stage, category),
            "comments": pick(rng, DEAL_COMMENTS) if rng.random() < 0.3 else None,
            "opened": rng.random() < 0.9,
            "closed": semantic != "P",
            "createdAt": iso(created),
            "updatedAt": iso(updated),
            "closedAt": iso(closed_at) if closed_at else None,
            "begindate": iso(created - created % DAY),
            "movedTime": iso(moved),
            "entityTypeId": 2,
            "UF_CRM_DEAL_REGION": pick(rng, REGIONS) if rng.random() < 0.8 else None,
        }


def _lead_ref(rng: random.Random, ctx: Context) -> int | None:
    if not ctx.converted_leads or rng.random() > 0.25:
        return None
    return pick(rng, ctx.converted_leads)


def _stage_path(
    rng: random.Random, category: int, created: float, plan: PortalPlan
) -> tuple[tuple[str, str, str | None], str | None, float | None, float]:
    """Current stage, previous stage, close time and last move of a deal."""
    stages = stage_ids(category)
    process = [s for s in stages if s[2] is None]
    age_days = (plan.anchor - created) / DAY
    if rng.random() < min(0.92, age_days / 90):
        closed_at = created + rng.uniform(0.2, min(age_days, 120)) * DAY
        closed_at = min(closed_at, plan.anchor - 60)
        won = rng.random() < 0.45
        finals = [s for s in stages if s[2] == ("S" if won else "F")]
        previous = process[-1] if won else pick(rng, process)
        return pick(rng, finals), previous[0], closed_at, closed_at
    index = min(int(rng.random() ** 1.7 * len(process)), len(process) - 1)
    moved = created + (plan.anchor - created) * rng.random() * (index > 0)
    previous = process[index - 1][0] if index else None
    return process[index], previous, None, moved


def _probability(stage: tuple[str, str, str | None], category: int) -> int:
    if stage[2] == "S":
        return 100
    if stage[2] == "F":
        return 0
    process = [s[0] for s in stage_ids(category) if s[2] is None]
    return 10 + 80 * process.index(stage[0]) // max(len(process), 1)
