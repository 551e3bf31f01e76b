"""A seeded generator of plausible portals: users, pipelines, CRM and tasks."""

from __future__ import annotations

import gc
import logging
import secrets
from dataclasses import dataclass, field

from . import _data_rows as rows
from ._data_deals import deal_table
from ._data_words import anchor_time
from ._state import Partner, Portal, SandboxState, Table

logger = logging.getLogger(__name__)


@dataclass
class PortalPlan:
    """What to generate for one portal."""

    domain: str
    name: str
    seed: int
    deals: int
    users: int = 30
    base_currency: str = "RUB"
    currency_weights: dict[str, float] = field(
        default_factory=lambda: {"RUB": 0.7, "USD": 0.15, "EUR": 0.1, "KZT": 0.05}
    )
    phone_prefix: str = "+7 9"
    anchor: float = 0.0
    eager_limit: int = 200_000


DEMO_CLIENT_ID = "sbx_demo_partner"

DISABLED_CLIENT_ID = "sbx_disabled_partner"

# The connect panel may catch the redirect itself on this local port.
PANEL_REDIRECTS = ["http://localhost:8765/callback", "http://127.0.0.1:8765/callback"]


def populate(state: SandboxState) -> None:
    """Fill a fresh state with the two demo portals and the two partners."""
    config = state.config
    anchor = anchor_time(config.anchor, state.clock())
    acme = PortalPlan(
        "acme.bitrix24.com",
        "Acme Trading",
        config.seed,
        config.deals,
        anchor=anchor,
        eager_limit=config.eager_limit,
    )
    northwind = PortalPlan(
        "northwind.bitrix24.com",
        "Northwind Ltd",
        config.seed,
        120,
        users=8,
        base_currency="USD",
        currency_weights={"USD": 0.8, "EUR": 0.2},
        phone_prefix="+1 5",
        anchor=anchor,
    )
    for plan in (acme, northwind):
        state.add_portal(build_portal(plan))
    _add_partners(state)


def _add_partners(state: SandboxState) -> None:
    state.add_partner(
        Partner(
            DEMO_CLIENT_ID,
            "sbx_secret_" + secrets.token_urlsafe(24),
            "Vibe Notebook (sandbox demo)",
            list(PANEL_REDIRECTS),
        )
    )
    state.add_partner(
        Partner(
            DISABLED_CLIENT_ID,
            "sbx_secret_" + secrets.token_urlsafe(24),
            "Retired Reports App",
            list(PANEL_REDIRECTS),
            enabled=False,
        )
    )


@dataclass
class Context:
    """What the row generators need to keep references consistent."""

    plan: PortalPlan
    sales: list[int]
    staff: list[int]
    contacts: int
    companies: int
    converted_leads: list[int]
    company_names: list[str]
    currency_codes: list[str] = field(default_factory=list)
    currency_cum: list[float] = field(default_factory=list)


def build_portal(plan: PortalPlan) -> Portal:
    """Generate one portal; the same plan always gives the same portal."""
    # Hundreds of thousands of new dicts would set off the cyclic collector
    # again and again; none of them can form a cycle.
    paused = gc.isenabled()
    gc.disable()
    try:
        return _build_portal(plan)
    finally:
        if paused:
            gc.enable()


def _build_portal(plan: PortalPlan) -> Portal:
    portal = Portal(plan.domain, plan.name)
    tables = portal.tables
    tables["users"] = Table(rows.users(plan))
    tables["deal-categories"] = Table(rows.categories(plan))
    tables["statuses"] = Table(rows.statuses())
    tables["currencies"] = Table(rows.currencies(plan), int_ids=False)
    ctx = _context(plan, tables["users"])
    tables["companies"] = Table(rows.companies(plan, ctx))
    tables["contacts"] = Table(rows.contacts(plan, ctx))
    tables["leads"] = Table(rows.leads(plan, ctx))
    ctx.converted_leads = [
        row["id"] for row in tables["leads"].values() if row["statusId"] == "CONVERTED"
    ]
    tables["deals"] = deal_table(plan, ctx)
    tables["tasks"] = Table(rows.tasks(plan, ctx))
    logger.debug("generated portal %s with %d deals", plan.domain, plan.deals)
    return portal


def _context(plan: PortalPlan, users: Table) -> Context:
    sales = [row["id"] for row in users.values() if row["departmentId"] == 2]
    scale = max(plan.deals, 1)
    companies = min(max(scale // 6, 15), 6000)
    ctx = Context(
        plan=plan,
        sales=sales,
        staff=[row["id"] for row in users.values() if row["active"]],
        contacts=min(max(scale // 2, 40), 30_000),
        companies=companies,
        converted_leads=[],
        company_names=rows.company_names(plan, companies),
    )
    total = 0.0
    for code, weight in plan.currency_weights.items():
        total += weight
        ctx.currency_codes.append(code)
        ctx.currency_cum.append(total)
    return ctx
